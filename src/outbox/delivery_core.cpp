#include "jobwatch/outbox/delivery_core.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cassert>

namespace jobwatch::outbox {

using std::chrono::milliseconds;
using Kind = sinks::DeliveryResult::Kind;

namespace {

constexpr std::array<std::string_view, 3> counted_names = {"delivered", "retry", "dead_lettered"};

}  // namespace

EventFilter::EventFilter(const std::vector<watch::EventType>& types) {
  if (types.empty()) return;
  mask_ = 0;
  for (auto type : types) mask_ |= 1u << static_cast<unsigned>(type);
}

DeliveryCore::DeliveryCore(std::vector<LaneSpec> lanes, sinks::RetryPolicy backoff,
                           std::function<double()> jitter, metrics::CounterVec& outcomes)
    : backoff_(backoff), jitter_(std::move(jitter)), outcomes_(outcomes) {
  lanes_.reserve(lanes.size());
  for (auto& spec : lanes) {
    spec.max_batch = std::max<std::size_t>(spec.max_batch, 1);
    lanes_.push_back(Lane{std::move(spec)});
  }
}

// The only place a lane's state changes; see LaneState.
void DeliveryCore::enter(Lane& lane, LaneState next) {
  assert(next == LaneState::idle ? lane.state != LaneState::idle : lane.state == LaneState::idle);
  lane.state = next;
}

void DeliveryCore::count(Lane& lane, watch::EventType type, Counted what) {
  const auto w = static_cast<std::size_t>(what);
  auto& counter = lane.counters[static_cast<std::size_t>(type) * 3 + w];
  if (!counter.bound()) {
    counter = metrics::Counter(outcomes_.cell(
        {std::string(watch::type_name(type)), lane.spec.name, std::string(counted_names[w])}));
  }
  counter.add();
}

std::uint64_t DeliveryCore::counted(std::size_t lane, Counted what) const {
  return metrics::as_count(outcomes_.sum_where(
      {{"sink", lanes_[lane].spec.name},
       {"result", std::string(counted_names[static_cast<std::size_t>(what)])}}));
}

bool DeliveryCore::claim(Lane& lane, const std::string& event_id) {
  if (lane.queued_ids.insert(event_id).second) return true;
  spdlog::debug("sink {}: {} is already queued", lane.spec.name, event_id);
  return false;
}

bool DeliveryCore::queue_committed(Lane& lane, std::shared_ptr<const watch::Event> event,
                                   SteadyTime enqueued, std::uint32_t attempts) {
  if (!claim(lane, event->id)) return false;
  // Behind what is committed, ahead of what awaits a commit: the tail of
  // `uncommitted` entries stays the uncommitted ones.
  const auto at = lane.queue.end() - static_cast<std::ptrdiff_t>(lane.uncommitted);
  lane.queue.insert(at, Delivery{std::move(event), enqueued, attempts});
  return true;
}

std::vector<std::size_t> DeliveryCore::submit(std::shared_ptr<const watch::Event> event,
                                              SteadyTime now) {
  std::vector<std::size_t> queued;
  if (mode_ == Mode::stopped || !event) return queued;
  for (std::size_t i = 0; i < lanes_.size(); ++i) {
    Lane& lane = lanes_[i];
    if (!lane.spec.filter.accepts(event->type) || !claim(lane, event->id)) continue;
    lane.queue.push_back(Delivery{event, now, 0});
    ++lane.uncommitted;
    queued.push_back(i);
  }
  return queued;
}

void DeliveryCore::committed() {
  for (Lane& lane : lanes_) lane.uncommitted = 0;
}

std::vector<OwedDelivery> DeliveryCore::restore(std::vector<OwedDelivery> owed, Now now) {
  std::vector<OwedDelivery> not_queued;
  for (auto& item : owed) {
    const auto lane = item.event ? find(item.sink) : std::nullopt;
    if (!lane || mode_ == Mode::stopped) {
      not_queued.push_back(std::move(item));
      continue;
    }
    // Ages are measured on the steady clock; the age so far is only known
    // on the wall clock. A created_at in the future counts as new.
    const auto age = std::max(now.wall - item.created_at, std::chrono::system_clock::duration{0});
    const auto enqueued =
        now.steady - std::chrono::duration_cast<std::chrono::steady_clock::duration>(age);
    queue_committed(lanes_[*lane], std::move(item.event), enqueued, item.attempts);
  }
  return not_queued;
}

DeliveryCore::Step DeliveryCore::resume(SteadyTime now) {
  Step step;
  for (std::size_t i = 0; i < lanes_.size(); ++i) {
    Lane& lane = lanes_[i];
    if (lane.state == LaneState::waiting && now >= lane.retry_at && mode_ != Mode::stopped)
      enter(lane, LaneState::idle);
    if (lane.state == LaneState::waiting && mode_ != Mode::stopped) {
      step.wake_at = step.wake_at ? std::min(*step.wake_at, lane.retry_at) : lane.retry_at;
    }
    const std::size_t ready = lane.queue.size() - lane.uncommitted;
    if (mode_ != Mode::running || lane.state != LaneState::idle || ready == 0) continue;
    lane.in_batch = std::min(ready, lane.spec.max_batch);
    Deliver deliver{i, {}};
    deliver.batch.reserve(lane.in_batch);
    for (std::size_t k = 0; k < lane.in_batch; ++k)
      deliver.batch.push_back(lane.queue[k].event.get());
    enter(lane, LaneState::delivering);
    step.deliver.push_back(std::move(deliver));
  }
  step.drained = in_flight() == 0;
  return step;
}

std::vector<Outcome> DeliveryCore::settle(std::size_t index,
                                          std::vector<sinks::DeliveryResult> results, Now now) {
  std::vector<Outcome> out;
  Lane& lane = lanes_[index];
  if (lane.state != LaneState::delivering) return out;  // a stale answer
  enter(lane, LaneState::idle);
  const std::size_t attempted = std::min(std::exchange(lane.in_batch, 0), lane.queue.size());
  if (mode_ == Mode::stopped) return out;
  if (results.empty()) results.push_back(sinks::DeliveryResult::retry("sink attempted nothing"));
  // The batch in order: delivered and refused events leave the queue;
  // retried ones and those not attempted stay at its head, in order. A
  // sink stops a job at its first retry, so what stays starts with the
  // first retried event: the head the backoff is for.
  std::vector<Delivery> staying;
  const sinks::DeliveryResult* head_retry = nullptr;
  struct AlsoRetried {
    std::shared_ptr<const watch::Event> event;
    std::string error;
  };
  std::vector<AlsoRetried> also_retried;  // retried after the first, other jobs'
  bool any_delivered = false;
  static const sinks::DeliveryResult not_attempted = sinks::DeliveryResult::not_attempted();
  for (std::size_t i = 0; i < attempted; ++i) {
    Delivery delivery = std::move(lane.queue.front());
    lane.queue.pop_front();
    const auto& result = i < results.size() ? results[i] : not_attempted;
    if (result.kind == Kind::not_attempted) {
      staying.push_back(std::move(delivery));
      continue;
    }
    ++delivery.attempts;
    if (result.kind == Kind::retry) {
      if (!head_retry)
        head_retry = &result;
      else
        also_retried.push_back({delivery.event, result.error});
      staying.push_back(std::move(delivery));
      continue;
    }
    lane.queued_ids.erase(delivery.event->id);
    if (result.kind == Kind::permanent) {
      lane.last_error = result.error;
      dead_letter(index, std::move(delivery), "refused: " + result.error, out);
      continue;
    }
    any_delivered = true;
    count(lane, delivery.event->type, Counted::delivered);
    out.push_back(
        {Outcome::Kind::delivered, std::move(delivery.event), index, delivery.attempts, {}, {}});
  }
  for (auto it = staying.rbegin(); it != staying.rend(); ++it)
    lane.queue.push_front(std::move(*it));
  // Back only when nothing in the batch failed: a batch where one job keeps
  // failing beside others that go through logs no "again" per retry.
  if (any_delivered && !head_retry && lane.failing) {
    spdlog::info("sink {}: delivering again", lane.spec.name);
    lane.failing = false;
  }
  if (!head_retry) return out;
  retry_head(index, *head_retry, now, out);
  // Other jobs' events that failed beside the head wait with it; their
  // attempts count (the store keeps them) unless max_age settled them.
  const WallTime next_attempt =
      lane.state == LaneState::waiting
          ? now.wall + std::chrono::duration_cast<WallTime::duration>(lane.retry_at - now.steady)
          : now.wall;
  for (auto& [event, error] : also_retried) {
    if (!lane.queued_ids.contains(event->id)) continue;
    const auto it = std::find_if(lane.queue.begin(), lane.queue.end(),
                                 [&](const Delivery& d) { return d.event == event; });
    count(lane, event->type, Counted::retry);
    out.push_back({Outcome::Kind::attempt_failed, event, index, it->attempts, next_attempt,
                   std::move(error)});
  }
  return out;
}

void DeliveryCore::retry_head(std::size_t index, const sinks::DeliveryResult& result, Now now,
                              std::vector<Outcome>& out) {
  Lane& lane = lanes_[index];
  const Delivery& head = lane.queue.front();
  count(lane, head.event->type, Counted::retry);
  lane.last_error = result.error;
  const auto age = now.steady - head.enqueued;
  if (age >= lane.spec.max_age) {
    dead_letter_head(
        index,
        "gave up after " + std::to_string(head.attempts) + " attempts (max_age): " + result.error,
        out);
    // Events queued behind a head that outlived max_age while the sink kept
    // failing (typically owed ones restored after a long outage) are as
    // old: one failed attempt settles them all, instead of one attempt each.
    while (!lane.queue.empty() && lane.queue.size() > lane.uncommitted &&
           now.steady - lane.queue.front().enqueued >= lane.spec.max_age) {
      dead_letter_head(index, "expired (max_age) while the sink was failing: " + result.error, out);
    }
    return;
  }
  // Attempts carry over a restart, so the backoff picks up where it was.
  const int failures = static_cast<int>(std::min<std::uint32_t>(head.attempts, 64));
  auto delay =
      sinks::retry_delay(backoff_, failures, jitter_ ? jitter_() : 0.5, result.retry_after);
  // Never wait past max_age: the attempt at that point is the last one.
  delay = std::min(delay, std::chrono::duration_cast<milliseconds>(lane.spec.max_age - age));
  // One warning when a sink starts failing, not one per retry.
  if (!lane.failing) {
    lane.failing = true;
    spdlog::warn("sink {}: delivery of {} failed, retrying in {} ms: {}", lane.spec.name,
                 head.event->id, delay.count(), result.error);
  } else {
    spdlog::debug("sink {}: delivery of {} failed {} times, retrying in {} ms: {}", lane.spec.name,
                  head.event->id, head.attempts, delay.count(), result.error);
  }
  out.push_back({Outcome::Kind::attempt_failed, head.event, index, head.attempts, now.wall + delay,
                 result.error});
  lane.retry_at = now.steady + delay;
  enter(lane, LaneState::waiting);
}

void DeliveryCore::dead_letter_head(std::size_t index, std::string reason,
                                    std::vector<Outcome>& out) {
  dead_letter(index, pop_head(lanes_[index]), std::move(reason), out);
}

void DeliveryCore::dead_letter(std::size_t index, Delivery delivery, std::string reason,
                               std::vector<Outcome>& out) {
  Lane& lane = lanes_[index];
  spdlog::warn("sink {}: dead letter {} ({}): {}", lane.spec.name, delivery.event->id,
               watch::type_name(delivery.event->type), reason);
  count(lane, delivery.event->type, Counted::dead_lettered);
  out.push_back({Outcome::Kind::dead_lettered,
                 std::move(delivery.event),
                 index,
                 delivery.attempts,
                 {},
                 std::move(reason)});
}

DeliveryCore::Delivery DeliveryCore::pop_head(Lane& lane) {
  Delivery head = std::move(lane.queue.front());
  lane.queue.pop_front();
  lane.queued_ids.erase(head.event->id);
  return head;
}

void DeliveryCore::retry_now(std::size_t index) {
  Lane& lane = lanes_[index];
  if (lane.state == LaneState::waiting) enter(lane, LaneState::idle);
}

void DeliveryCore::pause() {
  if (mode_ == Mode::running) mode_ = Mode::paused;
}

void DeliveryCore::resume_attempts() {
  if (mode_ == Mode::paused) mode_ = Mode::running;
}

void DeliveryCore::stop() {
  mode_ = Mode::stopped;
}

std::optional<std::size_t> DeliveryCore::find(std::string_view name) const {
  for (std::size_t i = 0; i < lanes_.size(); ++i) {
    if (lanes_[i].spec.name == name) return i;
  }
  return std::nullopt;
}

std::size_t DeliveryCore::pending() const {
  std::size_t total = 0;
  for (const Lane& lane : lanes_) total += lane.queue.size();
  return total;
}

std::size_t DeliveryCore::in_flight(std::size_t lane) const {
  return mode_ == Mode::stopped ? 0 : lanes_[lane].in_batch;
}

std::size_t DeliveryCore::in_flight() const {
  std::size_t total = 0;
  for (std::size_t i = 0; i < lanes_.size(); ++i) total += in_flight(i);
  return total;
}

}  // namespace jobwatch::outbox
