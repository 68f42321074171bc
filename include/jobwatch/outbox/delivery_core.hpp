// The outbox's decisions, with no socket, timer or clock of its own (the
// model is Boost.Redis's writer_fsm): which events each sink is owed, in
// order; which batch goes out next; what a failed attempt means (retry after
// a backoff, or a dead letter past max_age); and when nothing is out at a
// sink any more. Time comes in as a parameter and decisions go out as
// values, so the tests drive it in virtual time and assert on what it
// returns. outbox::Outbox is the Asio shell that acts on them.
//
// Commit-then-submit lives here too: an event submitted is queued at once
// (so the caller knows which outbox rows to write) but goes out only after
// committed() says the transaction holding those rows is durable.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "jobwatch/metrics/registry.hpp"
#include "jobwatch/sinks/retry.hpp"
#include "jobwatch/sinks/sink.hpp"
#include "jobwatch/watch/event.hpp"

namespace jobwatch::outbox {

using SteadyTime = std::chrono::steady_clock::time_point;
using WallTime = std::chrono::system_clock::time_point;

// Both clocks at one instant: ages are measured on the steady one, while
// what is stored or reported (restored ages, next attempt) is wall time.
struct Now {
  SteadyTime steady;
  WallTime wall;
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

// One sink as the core sees it: a lane with its own queue and attempts.
struct LaneSpec {
  std::string name;
  EventFilter filter;
  std::chrono::milliseconds max_age{72LL * 3600 * 1000};
  std::size_t max_batch = 1;
};

// What became of one (event, sink): what the store must record.
struct Outcome {
  enum class Kind : std::uint8_t { delivered, attempt_failed, dead_lettered };
  Kind kind = Kind::delivered;
  std::shared_ptr<const watch::Event> event;
  std::size_t lane = 0;
  std::uint32_t attempts = 0;  // made so far, restored ones included
  WallTime next_attempt_at{};  // attempt_failed: when the retry is due
  std::string text;            // attempt_failed: the error; dead_lettered: the reason
};

// A delivery still owed after a restart or reload (an outbox row).
struct OwedDelivery {
  std::shared_ptr<const watch::Event> event;
  std::string sink;
  WallTime created_at;  // max_age counts from here
  std::uint32_t attempts = 0;
};

class DeliveryCore {
 public:
  // Outcomes are counted in `outcomes` (jobwatch_events_total{type, sink,
  // result}), which must outlive the core; the counts are read back there.
  // Retries back off per `backoff` with full jitter drawn from `jitter`, a
  // uniform [0, 1) source (a parameter, so that tests pick the delay).
  DeliveryCore(std::vector<LaneSpec> lanes, sinks::RetryPolicy backoff,
               std::function<double()> jitter, metrics::CounterVec& outcomes);
  DeliveryCore(const DeliveryCore&) = delete;
  DeliveryCore& operator=(const DeliveryCore&) = delete;

  // Queues the event on every lane whose filter takes it, behind what is
  // queued, to go out after the next committed(). Returns those lanes: one
  // outbox row each. A lane that has this event id queued already is
  // skipped (one row per (event, sink): a second copy would be delivered
  // and reported twice).
  std::vector<std::size_t> submit(std::shared_ptr<const watch::Event> event, SteadyTime now);
  // What was submitted so far is durable (or the commit failed, and it goes
  // out anyway, at most once: holding a transition back would lose it).
  void committed();

  // Queues owed deliveries on their named lanes, in the given order, behind
  // what is already queued. Already committed; the filter is not consulted
  // (the delivery was owed under the config that created it). max_age
  // counts from created_at; one already past it gets one more attempt and
  // is dead-lettered if that fails. Returns those whose sink no longer
  // exists, a null event, or all of them once stopped. One whose id the lane
  // has queued already (restored twice, or submitted again) is dropped: the
  // queued copy, with its own age and attempts, stands for it.
  std::vector<OwedDelivery> restore(std::vector<OwedDelivery> owed, Now now);

  // The next step. Starts a batch on every idle lane with committed work
  // (unless paused or stopped) and says when to call again for a retry.
  struct Deliver {
    std::size_t lane;
    std::vector<const watch::Event*> batch;  // alive until settle() for this lane
  };
  struct Step {
    std::vector<Deliver> deliver;       // hand each batch to its sink
    std::optional<SteadyTime> wake_at;  // the earliest retry due; resume() again then
    bool drained = false;               // nothing is out at any sink
  };
  Step resume(SteadyTime now);

  // The lane's sink answered its batch: one result per event for a prefix
  // of it (see sinks::Sink::BatchDone). Returns what the store must record,
  // in order. Nothing after stop().
  std::vector<Outcome> settle(std::size_t lane, std::vector<sinks::DeliveryResult> results,
                              Now now);

  // The lane's next attempt may start now instead of after its backoff (a
  // reopened file may work again).
  void retry_now(std::size_t lane);
  // No new attempts start; those out still settle. resume_attempts() undoes it.
  void pause();
  void resume_attempts();
  // For good: no more attempts or outcomes; what is queued stays owed.
  void stop();

  std::size_t lanes() const { return lanes_.size(); }
  const std::string& name(std::size_t lane) const { return lanes_[lane].spec.name; }
  std::optional<std::size_t> find(std::string_view name) const;
  std::size_t pending(std::size_t lane) const { return lanes_[lane].queue.size(); }
  std::size_t pending() const;
  // Handed to the sink and not answered yet (0 once stopped).
  std::size_t in_flight(std::size_t lane) const;
  std::size_t in_flight() const;
  bool retrying(std::size_t lane) const { return lanes_[lane].state == LaneState::waiting; }
  const std::string& last_error(std::size_t lane) const { return lanes_[lane].last_error; }
  // This lane's outcomes since the daemon started: the counts in the
  // registry, so a sink's earlier incarnations (reloads) are included.
  enum class Counted : std::uint8_t { delivered, retry, dead_lettered };
  std::uint64_t counted(std::size_t lane, Counted what) const;

 private:
  struct Delivery {
    std::shared_ptr<const watch::Event> event;
    SteadyTime enqueued;  // max_age counts from here
    std::uint32_t attempts = 0;
  };
  // A lane's whole life: idle → delivering → idle (the sink answered),
  // idle → waiting → idle (the retry is due, or retry_now); only `idle`
  // starts a batch. enter() is the one place it changes.
  enum class LaneState : std::uint8_t { idle, delivering, waiting };
  struct Lane {
    LaneSpec spec;
    std::deque<Delivery> queue;
    std::unordered_set<std::string> queued_ids;  // event ids in queue
    std::size_t uncommitted = 0;                 // the tail of queue waiting for committed()
    std::size_t in_batch = 0;                    // the head of queue handed to the sink
    LaneState state = LaneState::idle;
    SteadyTime retry_at{};   // waiting: when the next attempt may start
    bool failing = false;    // warned that this sink fails; cleared on success
    std::string last_error;  // the last failed attempt's error
    // Handles into outcomes_ by (event type, outcome), bound on first use
    // so that only outcomes that happened are shown.
    std::array<metrics::Counter, 5 * 3> counters{};
  };
  // Running ⇄ paused (a reload swapping sinks, shutdown), then stopped for good.
  enum class Mode : std::uint8_t { running, paused, stopped };

  static void enter(Lane& lane, LaneState next);
  // Records the id as queued on the lane; false when it is already (one
  // outbox row per (event, sink): a second copy would go out twice).
  bool claim(Lane& lane, const std::string& event_id);
  // Queues an owed delivery (already durable); false when its id is queued.
  bool queue_committed(Lane& lane, std::shared_ptr<const watch::Event> event, SteadyTime enqueued,
                       std::uint32_t attempts);
  // A `retry` for the head: a backoff, or a dead letter past max_age.
  void retry_head(std::size_t lane, const sinks::DeliveryResult& result, Now now,
                  std::vector<Outcome>& out);
  void dead_letter_head(std::size_t lane, std::string reason, std::vector<Outcome>& out);
  // `delivery` has left the queue (and queued_ids) already.
  void dead_letter(std::size_t lane, Delivery delivery, std::string reason,
                   std::vector<Outcome>& out);
  Delivery pop_head(Lane& lane);
  void count(Lane& lane, watch::EventType type, Counted what);

  std::vector<Lane> lanes_;
  sinks::RetryPolicy backoff_;
  std::function<double()> jitter_;
  metrics::CounterVec& outcomes_;
  Mode mode_ = Mode::running;
};

}  // namespace jobwatch::outbox
