#include "jobwatch/sinks/delivery_loop.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <cassert>

namespace jobwatch::sinks {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

EventFilter::EventFilter(const std::vector<watch::EventType>& types) {
  if (types.empty()) return;
  mask_ = 0;
  for (auto type : types) mask_ |= 1u << static_cast<unsigned>(type);
}

DeliveryLoop::DeliveryLoop(std::unique_ptr<Sink> sink, EventFilter filter, milliseconds max_age,
                           std::shared_ptr<RetryPolicy> policy, DeadLetterSink on_dead_letter,
                           metrics::CounterVec& outcomes)
    : sink_(std::move(sink)),
      filter_(filter),
      max_age_(max_age),
      policy_(std::move(policy)),
      on_dead_letter_(std::move(on_dead_letter)),
      timer_(sink_->executor()),
      outcomes_(outcomes) {}

namespace {

constexpr std::array<std::string_view, 3> outcome_names = {"delivered", "retry", "dead_lettered"};

}  // namespace

void DeliveryLoop::count(const watch::Event& event, Outcome outcome) {
  const auto o = static_cast<std::size_t>(outcome);
  auto& counter = outcome_counters_[static_cast<std::size_t>(event.type) * 3 + o];
  if (!counter.bound()) {
    counter = metrics::Counter(outcomes_.cell(
        {std::string(watch::type_name(event.type)), sink_->name(), std::string(outcome_names[o])}));
  }
  counter.add();
}

double DeliveryLoop::counted(Outcome outcome) const {
  return outcomes_.sum_where(
      {{"sink", sink_->name()},
       {"result", std::string(outcome_names[static_cast<std::size_t>(outcome)])}});
}

bool DeliveryLoop::push(std::shared_ptr<const watch::Event> event) {
  const auto now = policy_->now();
  return push(std::move(event), now, 0);
}

bool DeliveryLoop::push(std::shared_ptr<const watch::Event> event,
                        steady_clock::time_point enqueued, std::uint32_t attempts) {
  // One outbox row per (event, sink): a second copy would be delivered and
  // reported twice.
  if (!queued_ids_.insert(event->id).second) {
    spdlog::debug("sink {}: {} is already queued", sink_->name(), event->id);
    return false;
  }
  queue_.push_back(Delivery{std::move(event), enqueued, attempts});
  schedule_pump();
  return true;
}

// The only places the loop's state changes. The activity's whole life:
// idle → posted → idle (the posted pump runs), idle → delivering → idle
// (the sink answered), idle → waiting → idle (the retry timer fired or was
// cancelled); nothing else moves. The mode goes running ⇄ paused, and to
// stopped for good.
void DeliveryLoop::enter(Activity next) {
  assert(next == Activity::idle ? activity_ != Activity::idle : activity_ == Activity::idle);
  activity_ = next;
}

void DeliveryLoop::enter(Mode next) {
  assert(mode_ != Mode::stopped || next == Mode::stopped);
  mode_ = next;
}

void DeliveryLoop::reopen() {
  sink_->reopen();
  // A file that could not be opened or written may work now (new file,
  // space freed); do not make it sit out the rest of its backoff.
  if (activity_ == Activity::waiting && sink_->type() == config::SinkType::file) timer_.cancel();
}

void DeliveryLoop::pause() {
  if (mode_ == Mode::running) enter(Mode::paused);
}

void DeliveryLoop::resume() {
  if (mode_ == Mode::paused) enter(Mode::running);
  schedule_pump();
}

void DeliveryLoop::stop() {
  enter(Mode::stopped);
  timer_.cancel();
  sink_->stop();
}

void DeliveryLoop::schedule_pump() {
  if (mode_ != Mode::running || activity_ != Activity::idle || queue_.empty()) return;
  enter(Activity::posted);
  // Posting (rather than delivering now) keeps submit() cheap and lets a
  // burst of submits in one loop turn go out as one batch.
  boost::asio::post(sink_->executor(), [weak = weak_from_this()] {
    if (auto self = weak.lock()) {
      if (self->activity_ == Activity::posted) self->enter(Activity::idle);
      self->pump();
    }
  });
}

void DeliveryLoop::pump() {
  if (mode_ != Mode::running || activity_ != Activity::idle || queue_.empty()) return;
  const auto count = std::min(queue_.size(), std::max<std::size_t>(sink_->max_batch(), 1));
  batch_.clear();
  for (std::size_t i = 0; i < count; ++i) batch_.push_back(queue_[i].event.get());
  enter(Activity::delivering);
  // The queue keeps the events alive until on_results pops them.
  sink_->deliver_batch(batch_,
                       [weak = weak_from_this(), count](std::vector<DeliveryResult> results) {
                         if (auto self = weak.lock()) self->on_results(count, std::move(results));
                       });
}

void DeliveryLoop::on_results(std::size_t attempted, std::vector<DeliveryResult> results) {
  enter(Activity::idle);
  batch_.clear();
  if (mode_ == Mode::stopped) return;
  if (results.empty()) {
    results.push_back(DeliveryResult::retry("sink attempted nothing"));
  }
  const auto now = policy_->now();
  const auto n = std::min(attempted, results.size());
  for (std::size_t i = 0; i < n && !queue_.empty(); ++i) {
    auto& result = results[i];
    ++queue_.front().attempts;
    if (result.kind == DeliveryResult::Kind::retry) {
      // Nothing after a retry was attempted: the head must go first.
      if (retry_head(std::move(result), now)) return;
      break;
    }
    if (result.kind == DeliveryResult::Kind::permanent) {
      last_error_ = result.error;
      settle_head_dead("refused: " + result.error);
    } else {
      if (failing_) {
        spdlog::info("sink {}: delivering again", sink_->name());
        failing_ = false;
      }
      count(*queue_.front().event, Outcome::delivered);
      const auto done = pop_head();
      if (observer_) observer_->delivered(*done.event, sink_->name());
    }
    if (mode_ == Mode::stopped) return;  // the observer may have stopped the dispatcher
  }
  schedule_pump();
}

bool DeliveryLoop::retry_head(DeliveryResult result, steady_clock::time_point now) {
  const auto& head = queue_.front();
  count(*head.event, Outcome::retry);
  last_error_ = result.error;
  const auto age = now - head.enqueued;
  if (age >= max_age_) {
    settle_head_dead("gave up after " + std::to_string(head.attempts) +
                     " attempts (max_age): " + result.error);
    if (mode_ != Mode::stopped) expire_followers(result.error, now);
    return false;
  }
  const double jitter = policy_->jitter();
  // Attempts carry over a restart, so the backoff picks up where it was.
  const int failures = static_cast<int>(std::min<std::uint32_t>(head.attempts, 64));
  auto delay = retry_delay(*policy_, failures, jitter, result.retry_after);
  // Never wait past max_age: the attempt at that point is the last one.
  const auto left = std::chrono::duration_cast<milliseconds>(max_age_ - age);
  delay = std::min(delay, left);
  // One warning when a sink starts failing, not one per retry.
  if (!failing_) {
    failing_ = true;
    spdlog::warn("sink {}: delivery of {} failed, retrying in {} ms: {}", sink_->name(),
                 head.event->id, delay.count(), result.error);
  } else {
    spdlog::debug("sink {}: delivery of {} failed {} times, retrying in {} ms: {}", sink_->name(),
                  head.event->id, head.attempts, delay.count(), result.error);
  }
  if (observer_) {
    const auto event = head.event;  // the observer may queue more; keep ours
    observer_->attempt_failed(*event, sink_->name(), queue_.front().attempts,
                              policy_->wall_now() + delay, result.error);
    if (mode_ == Mode::stopped) return true;
  }
  enter(Activity::waiting);
  timer_.expires_after(delay);
  timer_.async_wait([weak = weak_from_this()](const boost::system::error_code&) {
    // Cancelled by reopen() (retry now) or stop(), or simply due.
    if (auto self = weak.lock()) {
      if (self->activity_ == Activity::waiting) self->enter(Activity::idle);
      self->pump();
    }
  });
  return true;
}

void DeliveryLoop::expire_followers(const std::string& error, steady_clock::time_point now) {
  // Events queued behind a head that outlived max_age while the sink kept
  // failing (typically owed ones restored after a long outage) are as old:
  // one failed attempt settles them all, instead of one attempt each.
  while (mode_ != Mode::stopped && !queue_.empty() && now - queue_.front().enqueued >= max_age_) {
    settle_head_dead("expired (max_age) while the sink was failing: " + error);
  }
}

Delivery DeliveryLoop::pop_head() {
  Delivery head = std::move(queue_.front());
  queue_.pop_front();
  queued_ids_.erase(head.event->id);
  return head;
}

void DeliveryLoop::settle_head_dead(std::string reason) {
  const auto head = pop_head();
  spdlog::warn("sink {}: dead letter {} ({}): {}", sink_->name(), head.event->id,
               watch::type_name(head.event->type), reason);
  count(*head.event, Outcome::dead_lettered);
  if (on_dead_letter_) {
    on_dead_letter_(
        DeadLetter{head.event->id, sink_->name(), reason, policy_->wall_now(), head.attempts});
  }
  if (observer_) observer_->dead_lettered(*head.event, sink_->name(), reason, head.attempts);
}

boost::json::object DeliveryLoop::stats() const {
  boost::json::object out;
  out["type"] = sink_type_name(sink_->type());
  // Since the daemon started, this sink's earlier incarnations (reloads)
  // included: the counts live in the registry, not in the loop.
  out["delivered"] = metrics::as_count(counted(Outcome::delivered));
  out["pending"] = queue_.size();
  out["in_flight"] = in_flight();
  out["retrying"] = activity_ == Activity::waiting ? 1 : 0;
  out["retries"] = metrics::as_count(counted(Outcome::retry));
  out["dead_lettered"] = metrics::as_count(counted(Outcome::dead_lettered));
  if (last_error_.empty()) {
    out["last_error"] = nullptr;
  } else {
    out["last_error"] = last_error_;
  }
  return out;
}

}  // namespace jobwatch::sinks
