// The dispatcher: fans each event out to the sinks whose filter takes it,
// with one independent delivery loop per sink (SPEC §5, §6). submit() only
// enqueues; a slow or failing sink never holds up another one or the caller.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/json/object.hpp>
#include <chrono>
#include <deque>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "jobwatch/config/config.hpp"
#include "jobwatch/sinks/delivery_loop.hpp"
#include "jobwatch/sinks/retry.hpp"
#include "jobwatch/sinks/sink.hpp"
#include "jobwatch/watch/event.hpp"

namespace jobwatch::sinks {

// A sink built by the caller (tests, or sinks that are not in the config).
struct SinkSpec {
  std::unique_ptr<Sink> sink;
  std::vector<watch::EventType> events;  // empty = all
  std::chrono::milliseconds max_age{72LL * 3600 * 1000};
};

class Dispatcher {
 public:
  // Builds the sinks of the config. Errors (one message, naming the sink):
  // duplicate name, unknown event type in `events`, a file sink without a
  // path, a bad webhook URL or secret. A file that cannot be opened yet is
  // not an error: its events wait and are retried.
  static std::variant<std::unique_ptr<Dispatcher>, std::string> create(
      const boost::asio::any_io_executor& executor, const std::vector<config::SinkConfig>& sinks,
      RetryPolicy policy = {});
  static std::unique_ptr<Dispatcher> with_sinks(std::vector<SinkSpec> sinks,
                                                RetryPolicy policy = {});
  ~Dispatcher();
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  // Queues the event for every sink whose filter takes it (one shared copy).
  void submit(const watch::Event& event);
  void submit(const std::shared_ptr<const watch::Event>& event);

  // {"<sink name>": {type, delivered, pending, retrying, retries,
  //                  dead_lettered, last_error}, …}
  boost::json::object stats() const;
  // Most recent last; the oldest are forgotten beyond max_dead_letters (each
  // was logged at warn and is still counted in stats).
  const std::deque<DeadLetter>& dead_letters() const { return dead_letters_; }
  static constexpr std::size_t max_dead_letters = 10'000;

  void reopen();                // SIGHUP: reopen file sinks
  void stop();                  // shutdown: no more attempts; queued events stay queued
  std::size_t pending() const;  // summed over sinks

 private:
  Dispatcher(std::vector<SinkSpec> sinks, RetryPolicy policy);
  void add_dead_letter(DeadLetter letter);

  std::vector<std::shared_ptr<DeliveryLoop>> loops_;
  std::deque<DeadLetter> dead_letters_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  bool stopped_ = false;
};

}  // namespace jobwatch::sinks
