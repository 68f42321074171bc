#include "jobwatch/sinks/delivery_loop.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/post.hpp>

namespace jobwatch::sinks {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

EventFilter::EventFilter(const std::vector<watch::EventType>& types) {
  if (types.empty()) return;
  mask_ = 0;
  for (auto type : types) mask_ |= 1u << static_cast<unsigned>(type);
}

DeliveryLoop::DeliveryLoop(std::unique_ptr<Sink> sink, EventFilter filter, milliseconds max_age,
                           std::shared_ptr<RetryPolicy> policy, DeadLetterSink on_dead_letter)
    : sink_(std::move(sink)),
      filter_(filter),
      max_age_(max_age),
      policy_(std::move(policy)),
      on_dead_letter_(std::move(on_dead_letter)),
      timer_(sink_->executor()) {}

void DeliveryLoop::push(std::shared_ptr<const watch::Event> event) {
  queue_.push_back(Delivery{std::move(event), policy_->now()});
  schedule_pump();
}

void DeliveryLoop::reopen() {
  sink_->reopen();
  // A file that could not be opened or written may work now (new file,
  // space freed); do not make it sit out the rest of its backoff.
  if (waiting_ && sink_->type() == config::SinkType::file) timer_.cancel();
}

void DeliveryLoop::stop() {
  stopped_ = true;
  timer_.cancel();
  sink_->stop();
}

void DeliveryLoop::schedule_pump() {
  if (stopped_ || pump_posted_ || in_flight_ || waiting_ || queue_.empty()) return;
  pump_posted_ = true;
  // Posting (rather than delivering now) keeps submit() cheap and lets a
  // burst of submits in one loop turn go out as one batch.
  boost::asio::post(sink_->executor(), [weak = weak_from_this()] {
    if (auto self = weak.lock()) {
      self->pump_posted_ = false;
      self->pump();
    }
  });
}

void DeliveryLoop::pump() {
  if (stopped_ || in_flight_ || waiting_ || queue_.empty()) return;
  const auto count = std::min(queue_.size(), std::max<std::size_t>(sink_->max_batch(), 1));
  batch_.clear();
  for (std::size_t i = 0; i < count; ++i) batch_.push_back(queue_[i].event.get());
  in_flight_ = true;
  // The queue keeps the events alive until on_results pops them.
  sink_->deliver_batch(batch_,
                       [weak = weak_from_this(), count](std::vector<DeliveryResult> results) {
                         if (auto self = weak.lock()) self->on_results(count, std::move(results));
                       });
}

void DeliveryLoop::on_results(std::size_t attempted, std::vector<DeliveryResult> results) {
  in_flight_ = false;
  if (stopped_) return;
  if (results.empty()) {
    results.push_back(DeliveryResult::retry("sink attempted nothing"));
  }
  const auto now = policy_->now();
  const auto n = std::min(attempted, results.size());
  for (std::size_t i = 0; i < n && !queue_.empty(); ++i) {
    auto& result = results[i];
    if (result.kind == DeliveryResult::Kind::retry) {
      // Nothing after a retry was attempted: the head must go first.
      if (retry_head(std::move(result), now)) return;
      break;
    }
    failures_ = 0;
    if (result.kind == DeliveryResult::Kind::permanent) {
      last_error_ = result.error;
      settle_head_dead("refused: " + result.error);
      continue;
    }
    if (failing_) {
      spdlog::info("sink {}: delivering again", sink_->name());
      failing_ = false;
    }
    ++delivered_;
    queue_.pop_front();
  }
  schedule_pump();
}

bool DeliveryLoop::retry_head(DeliveryResult result, steady_clock::time_point now) {
  const auto& head = queue_.front();
  ++retries_;
  ++failures_;
  last_error_ = result.error;
  const auto age = now - head.enqueued;
  if (age >= max_age_) {
    const auto attempts = failures_;
    failures_ = 0;
    settle_head_dead("gave up after " + std::to_string(attempts) +
                     " attempts (max_age): " + result.error);
    return false;
  }
  const double jitter = policy_->jitter();
  auto delay = retry_delay(*policy_, failures_, jitter, result.retry_after);
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
                  head.event->id, failures_, delay.count(), result.error);
  }
  waiting_ = true;
  timer_.expires_after(delay);
  timer_.async_wait([weak = weak_from_this()](const boost::system::error_code&) {
    // Cancelled by reopen() (retry now) or stop(), or simply due.
    if (auto self = weak.lock()) {
      self->waiting_ = false;
      self->pump();
    }
  });
  return true;
}

void DeliveryLoop::settle_head_dead(std::string reason) {
  const auto& head = queue_.front();
  spdlog::warn("sink {}: dead letter {} ({}): {}", sink_->name(), head.event->id,
               watch::type_name(head.event->type), reason);
  ++dead_lettered_;
  if (on_dead_letter_) {
    on_dead_letter_(DeadLetter{head.event->id, sink_->name(), std::move(reason),
                               std::chrono::system_clock::now()});
  }
  queue_.pop_front();
}

boost::json::object DeliveryLoop::stats() const {
  boost::json::object out;
  out["type"] = sink_type_name(sink_->type());
  out["delivered"] = delivered_;
  out["pending"] = queue_.size();
  out["retrying"] = waiting_ ? 1 : 0;
  out["retries"] = retries_;
  out["dead_lettered"] = dead_lettered_;
  if (last_error_.empty()) {
    out["last_error"] = nullptr;
  } else {
    out["last_error"] = last_error_;
  }
  return out;
}

}  // namespace jobwatch::sinks
