// One sink's delivery loop: a queue of pending deliveries for that sink,
// one batch in flight at a time, its own retry timer. A delivery leaves the
// queue only once the sink has confirmed it (or it was dead-lettered), so
// the queue can later be backed by outbox rows without changing the loop.
#pragma once

#include <array>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/object.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "jobwatch/metrics/registry.hpp"
#include "jobwatch/sinks/delivery_observer.hpp"
#include "jobwatch/sinks/retry.hpp"
#include "jobwatch/sinks/sink.hpp"

namespace jobwatch::sinks {

struct DeadLetter {
  std::string event_id;
  std::string sink;
  std::string reason;
  std::chrono::system_clock::time_point at;
  std::uint32_t attempts = 0;
};

struct Delivery {
  std::shared_ptr<const watch::Event> event;
  std::chrono::steady_clock::time_point enqueued;  // max_age counts from here
  std::uint32_t attempts = 0;                      // made so far, restored ones included
};

// Which event types a sink takes; all when built from an empty list.
class EventFilter {
 public:
  EventFilter() = default;  // all
  explicit EventFilter(const std::vector<watch::EventType>& types);
  bool accepts(watch::EventType type) const { return (mask_ >> static_cast<unsigned>(type)) & 1u; }

 private:
  unsigned mask_ = ~0u;
};

class DeliveryLoop : public std::enable_shared_from_this<DeliveryLoop> {
 public:
  using DeadLetterSink = std::function<void(DeadLetter)>;

  // Outcomes are counted in `outcomes` (jobwatch_events_total{type, sink,
  // result}), which must outlive the loop; stats() reads them back there.
  DeliveryLoop(std::unique_ptr<Sink> sink, EventFilter filter, std::chrono::milliseconds max_age,
               std::shared_ptr<RetryPolicy> policy, DeadLetterSink on_dead_letter,
               metrics::CounterVec& outcomes);
  DeliveryLoop(const DeliveryLoop&) = delete;
  DeliveryLoop& operator=(const DeliveryLoop&) = delete;

  bool accepts(watch::EventType type) const { return filter_.accepts(type); }
  // Enqueues and lets the loop run on a later turn; never delivers inline.
  // An event whose id is already queued here is not queued twice (false).
  bool push(std::shared_ptr<const watch::Event> event);
  // The same for an owed delivery: its age and attempts carry over.
  bool push(std::shared_ptr<const watch::Event> event,
            std::chrono::steady_clock::time_point enqueued, std::uint32_t attempts);
  void set_observer(DeliveryObserver* observer) { observer_ = observer; }
  // Reopens the sink's files; a file sink waiting to retry tries again now.
  void reopen();
  // No new attempts start; one in flight still completes and is reported.
  void pause();
  void resume();
  // Stops timers and the sink; what is queued stays queued (and unsent).
  void stop();

  const Sink& sink() const { return *sink_; }
  std::size_t pending() const { return queue_.size(); }
  // Deliveries handed to the sink and not answered yet (0 once stopped).
  std::size_t in_flight() const {
    return activity_ == Activity::delivering && mode_ != Mode::stopped ? batch_.size() : 0;
  }
  // {type, delivered, pending, in_flight, retrying, retries, dead_lettered, last_error}
  boost::json::object stats() const;

 private:
  void schedule_pump();
  void pump();
  void on_results(std::size_t attempted, std::vector<DeliveryResult> results);
  // Handles a `retry` for the head; false when it was dead-lettered instead.
  bool retry_head(DeliveryResult result, std::chrono::steady_clock::time_point now);
  // Dead-letters the heads already past max_age, after one of them failed.
  void expire_followers(const std::string& error, std::chrono::steady_clock::time_point now);
  Delivery pop_head();
  void settle_head_dead(std::string reason);
  enum class Outcome : std::uint8_t { delivered, retry, dead_lettered };
  void count(const watch::Event& event, Outcome outcome);
  double counted(Outcome outcome) const;

  std::unique_ptr<Sink> sink_;
  EventFilter filter_;
  std::chrono::milliseconds max_age_;
  std::shared_ptr<RetryPolicy> policy_;
  DeadLetterSink on_dead_letter_;
  DeliveryObserver* observer_ = nullptr;
  boost::asio::steady_timer timer_;

  std::deque<Delivery> queue_;
  std::unordered_set<std::string> queued_ids_;  // event ids in queue_
  std::vector<const watch::Event*> batch_;      // the heads handed to the sink
  // Whether the loop may start attempts: paused by a reload swapping sinks,
  // stopped for good at shutdown.
  enum class Mode : std::uint8_t { running, paused, stopped };
  // What the loop is doing; one at a time, and only `idle` starts a batch.
  enum class Activity : std::uint8_t {
    idle,
    posted,      // a pump is posted (a burst of pushes goes out as one batch)
    delivering,  // batch_ is with the sink
    waiting,     // the retry timer is armed
  };
  void enter(Activity next);
  void enter(Mode next);
  Mode mode_ = Mode::running;
  Activity activity_ = Activity::idle;
  bool failing_ = false;  // warned that this sink fails; cleared on success

  metrics::CounterVec& outcomes_;
  // Handles into outcomes_ by (event type, outcome), bound on first use so
  // that only outcomes that happened are shown.
  std::array<metrics::Counter, 5 * 3> outcome_counters_{};
  std::string last_error_;
};

}  // namespace jobwatch::sinks
