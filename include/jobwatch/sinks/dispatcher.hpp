// The dispatcher: fans each event out to the sinks whose filter takes it,
// with one independent delivery loop per sink (SPEC §5, §6). submit() only
// enqueues; a slow or failing sink never holds up another one or the caller.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/json/object.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "jobwatch/config/config.hpp"
#include "jobwatch/metrics/registry.hpp"
#include "jobwatch/sinks/delivery_loop.hpp"
#include "jobwatch/sinks/delivery_observer.hpp"
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

// A delivery still owed after a restart (an outbox row).
struct OwedDelivery {
  std::shared_ptr<const watch::Event> event;
  std::string sink;
  std::chrono::system_clock::time_point created_at;  // max_age counts from here
  std::uint32_t attempts = 0;
};

class Dispatcher {
 public:
  // Builds the sinks of the config. Errors (one message, naming the sink):
  // duplicate name, unknown event type in `events`, a file sink without a
  // path, a bad webhook URL or secret. A file that cannot be opened yet is
  // not an error: its events wait and are retried.
  // Delivery outcomes are counted in `registry` (the daemon's, which must
  // outlive the dispatcher, so counts carry over a reload), or in one the
  // dispatcher keeps for itself.
  static std::variant<std::unique_ptr<Dispatcher>, std::string> create(
      const boost::asio::any_io_executor& executor, const std::vector<config::SinkConfig>& sinks,
      RetryPolicy policy = {}, metrics::Registry* registry = nullptr);
  static std::unique_ptr<Dispatcher> with_sinks(std::vector<SinkSpec> sinks,
                                                RetryPolicy policy = {},
                                                metrics::Registry* registry = nullptr);
  ~Dispatcher();
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  // Queues the event for every sink whose filter takes it (one shared copy).
  // An event already queued on a sink (same id) is not queued there again.
  void submit(const watch::Event& event);
  void submit(const std::shared_ptr<const watch::Event>& event);

  // The sinks submit() would queue an event of this type on, in config
  // order: the (event, sink) pairs to write outbox rows for.
  std::vector<std::string> sinks_for(watch::EventType type) const;

  // Told every outcome (see DeliveryObserver); nullptr = none. Not owned.
  void set_observer(DeliveryObserver* observer);

  // Queues owed deliveries on their named sinks, in the given order, behind
  // what is already queued and ahead of anything submitted later (so call it
  // before the first submit). The sink's event filter is not consulted: the
  // delivery was owed under the config that created it. max_age counts from
  // created_at (wall clock); an owed delivery already past it gets one more
  // attempt and is dead-lettered if that fails, not retried. Returns those
  // not queued: their sink no longer exists (or the event is null).
  std::vector<OwedDelivery> restore(std::vector<OwedDelivery> owed);

  // Rebuilds an event (id, type, project_id, job_id, subjob_id, document)
  // from its stored JSON document (SPEC §5); nullopt when it is not one.
  static std::optional<watch::Event> event_from_document(std::string_view document);

  // {"<sink name>": {type, delivered, pending, in_flight, retrying, retries,
  //                  dead_lettered, last_error}, …}
  boost::json::object stats() const;
  // Most recent last; the oldest are forgotten beyond max_dead_letters (each
  // was logged at warn and is still counted in stats).
  const std::deque<DeadLetter>& dead_letters() const { return dead_letters_; }
  static constexpr std::size_t max_dead_letters = 10'000;
  // Every dead letter since the daemon started (as counted in the
  // registry), plus those from before it started: the store's count, seeded
  // by add_dead_lettered_count and handed on to a reload's dispatcher.
  std::uint64_t dead_lettered_total() const;
  void add_dead_lettered_count(std::uint64_t n) { dead_lettered_before_ += n; }
  std::uint64_t dead_lettered_before_start() const { return dead_lettered_before_; }

  void reopen();  // SIGHUP: reopen file sinks
  // Shutdown, in two steps: pause() starts no new attempt (queued events and
  // retry timers wait) while the deliveries in flight finish and are
  // reported; run the loop until in_flight() is 0 or a few seconds passed,
  // then stop(). resume() undoes pause().
  void pause();
  void resume();
  void stop();                  // no more attempts or reports; queued events stay queued
  std::size_t pending() const;  // queued, summed over sinks (in flight included)
  // The same per sink, in config order.
  std::vector<std::pair<std::string, std::size_t>> pending_by_sink() const;
  std::size_t in_flight() const;  // out at sinks awaiting their answer, summed

 private:
  Dispatcher(std::vector<SinkSpec> sinks, RetryPolicy policy, metrics::Registry* registry);
  void add_dead_letter(DeadLetter letter);
  DeliveryLoop* find_loop(std::string_view sink) const;

  std::shared_ptr<RetryPolicy> policy_;
  // Declared before the loops, which count into it: destroyed after them.
  metrics::SharedOrOwnRegistry registry_;
  metrics::CounterVec* outcomes_ = nullptr;  // jobwatch_events_total{type, sink, result}
  std::vector<std::shared_ptr<DeliveryLoop>> loops_;
  std::deque<DeadLetter> dead_letters_;
  std::uint64_t dead_lettered_before_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  bool stopped_ = false;
};

}  // namespace jobwatch::sinks
