// The Sink interface (SPEC §5): a destination that events are delivered to.
// The outbox owns sinks and decides what to retry; a sink only reports.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "jobwatch/asio/lifetime.hpp"
#include "jobwatch/config/config.hpp"
#include "jobwatch/watch/event.hpp"

namespace jobwatch::sinks {

struct DeliveryResult {
  // not_attempted: the sink did not try this event of a batch (it stopped at
  // an earlier event of the same job, which must not be overtaken).
  enum class Kind { delivered, retry, permanent, not_attempted };
  Kind kind = Kind::delivered;
  std::optional<std::chrono::milliseconds> retry_after;  // a floor for the next attempt
  std::string error;                                     // empty when delivered

  static DeliveryResult ok() { return {}; }
  static DeliveryResult retry(std::string error,
                              std::optional<std::chrono::milliseconds> after = std::nullopt) {
    return {Kind::retry, after, std::move(error)};
  }
  static DeliveryResult permanent(std::string error) {
    return {Kind::permanent, std::nullopt, std::move(error)};
  }
  static DeliveryResult not_attempted() { return {Kind::not_attempted, std::nullopt, {}}; }
};

std::string_view kind_name(DeliveryResult::Kind kind);   // "delivered", "retry", …
std::string_view sink_type_name(config::SinkType type);  // "log", "file", "webhook"

class Sink {
 public:
  using Done = std::function<void(DeliveryResult)>;
  // One result per event, in order, for a prefix of the batch: events past
  // results.size() were not attempted. A sink never lets an event overtake
  // an earlier one of the same job that it is retrying: the default walk
  // stops the whole batch at the first `retry`; deliver_by_job stops only
  // that job.
  using BatchDone = std::function<void(std::vector<DeliveryResult>)>;

  Sink(boost::asio::any_io_executor executor, std::string name, config::SinkType type)
      : executor_(std::move(executor)), name_(std::move(name)), type_(type) {}
  virtual ~Sink() = default;
  Sink(const Sink&) = delete;
  Sink& operator=(const Sink&) = delete;

  // `done` runs exactly once, later, on the executor (never inside deliver).
  // The event stays alive until `done` has run.
  virtual void deliver(const watch::Event& event, Done done) = 0;
  // Default: deliver() one after the other, stopping at the first retry.
  virtual void deliver_batch(std::span<const watch::Event* const> events, BatchDone done);
  // How many pending events the outbox hands over at once.
  virtual std::size_t max_batch() const { return 1; }
  // Reopen files (logrotate `create`); no-op for sinks without files.
  virtual void reopen() {}
  // Shutdown: abort what is in flight; outstanding `done`s may still run.
  virtual void stop() {}

  const std::string& name() const { return name_; }
  config::SinkType type() const { return type_; }
  const boost::asio::any_io_executor& executor() const { return executor_; }

 protected:
  // A deliver_batch that runs up to `parallel` jobs' events side by side:
  // each job's events one after the other in batch order, its rest
  // not_attempted after a retry; the other jobs go on.
  void deliver_by_job(std::span<const watch::Event* const> events, std::size_t parallel,
                      BatchDone done);
  // Runs `done(result)` later on the executor.
  void post_done(Done done, DeliveryResult result) const;
  void post_batch_done(BatchDone done, std::vector<DeliveryResult> results) const;

 private:
  // Both walks: `groups` partitions the batch's positions, each in order.
  void walk(std::span<const watch::Event* const> events,
            std::vector<std::vector<std::size_t>> groups, std::size_t parallel, BatchDone done);
  // Lets a batch walk see that its sink is gone.
  Lifetime lifetime_;
  boost::asio::any_io_executor executor_;
  std::string name_;
  config::SinkType type_;
};

}  // namespace jobwatch::sinks
