#include "jobwatch/outbox/outbox.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <cassert>
#include <random>

#include "jobwatch/sinks/event_document.hpp"
#include "jobwatch/store/rows.hpp"

namespace jobwatch::outbox {
namespace {

Clocks with_defaults(Clocks clocks) {
  if (!clocks.now) {
    clocks.now = [] {
      return Now{std::chrono::steady_clock::now(), std::chrono::system_clock::now()};
    };
  }
  if (!clocks.jitter) {
    clocks.jitter = [rng = std::make_shared<std::mt19937_64>(std::random_device{}())] {
      return std::uniform_real_distribution<double>(0.0, 1.0)(*rng);
    };
  }
  return clocks;
}

model::WallTime millis(WallTime t) {
  return std::chrono::time_point_cast<std::chrono::milliseconds>(t);
}

}  // namespace

Outbox::Outbox(boost::asio::any_io_executor executor, store::Store& store,
               std::vector<sinks::SinkSpec> sinks, metrics::Registry& registry,
               sinks::RetryPolicy backoff, Clocks clocks)
    : executor_(executor),
      store_(store),
      outcomes_(registry.counter(
          "jobwatch_events_total",
          "Delivery outcomes by event type and sink: delivered, retry (an attempt failed with an "
          "error worth retrying) or dead_lettered.",
          {"type", "sink", "result"})),
      commits_(
          registry.single_counter("jobwatch_store_commits_total",
                                  "Transactions committed to the state store (each one fsync).")),
      commit_failures_(registry.single_counter("jobwatch_store_commit_failures_total",
                                               "State store commits that failed; their events were "
                                               "delivered without a durable outbox row.")),
      backoff_(backoff),
      clocks_(with_defaults(std::move(clocks))),
      sinks_(std::move(sinks)),
      core_(make_core(sinks_)),
      bookkeeping_timer_(executor),
      retry_timer_(executor),
      grace_timer_(executor) {}

Outbox::~Outbox() {
  if (phase_ != Phase::stopped) stop_sinks();
}

// The only place the phase changes; see Phase.
void Outbox::enter(Phase next) {
  switch (next) {
    case Phase::running:
      assert(phase_ == Phase::replacing);
      break;
    case Phase::replacing:
      assert(phase_ == Phase::running);
      break;
    case Phase::draining:
      assert(phase_ == Phase::running || phase_ == Phase::replacing);
      break;
    case Phase::stopped:
      break;
  }
  phase_ = next;
}

Now Outbox::now() const {
  return clocks_.now();
}

std::unique_ptr<DeliveryCore> Outbox::make_core(const std::vector<sinks::SinkSpec>& sinks) const {
  std::vector<LaneSpec> lanes;
  lanes.reserve(sinks.size());
  for (const auto& spec : sinks)
    lanes.push_back(
        {spec.sink->name(), EventFilter(spec.events), spec.max_age, spec.sink->max_batch()});
  return std::make_unique<DeliveryCore>(std::move(lanes), backoff_, clocks_.jitter, outcomes_);
}

bool Outbox::restore() {
  auto owed = load_owed();
  if (!owed) return false;
  queue_owed(*core_, std::move(*owed));
  auto dead = store_.count_dead_letters();
  if (auto* error = std::get_if<store::StoreError>(&dead)) {
    spdlog::error("state: {}", error->message);
    return false;
  }
  dead_lettered_before_ = static_cast<std::uint64_t>(std::get<0>(dead));
  pump();
  return true;
}

std::optional<std::vector<OwedDelivery>> Outbox::load_owed() const {
  auto rows = store_.load_outbox();
  if (auto* error = std::get_if<store::StoreError>(&rows)) {
    spdlog::error("state: {}", error->message);
    return std::nullopt;
  }
  std::vector<OwedDelivery> owed;
  for (store::OutboxRow& row : std::get<0>(rows)) {
    auto event = sinks::event_from_document(row.document);
    if (!event) {
      spdlog::warn("state: outbox row {} for sink {} does not parse; left in the store",
                   row.event_id, row.sink);
      continue;
    }
    owed.push_back({std::make_shared<const watch::Event>(std::move(*event)), std::move(row.sink),
                    WallTime(row.created_at.time_since_epoch()), row.attempts});
  }
  return owed;
}

void Outbox::queue_owed(DeliveryCore& core, std::vector<OwedDelivery> owed) const {
  const auto orphans = core.restore(std::move(owed), now());
  if (!orphans.empty())
    spdlog::warn(
        "state: {} undelivered event(s) are owed to sinks no longer configured; they stay "
        "in the store until such a sink is configured again",
        orphans.size());
}

void Outbox::submit(const watch::Event& event) {
  if (phase_ == Phase::stopped) return;
  auto shared = std::make_shared<const watch::Event>(event);
  const Now at = now();
  const auto lanes = core_->submit(shared, at.steady);
  for (std::size_t lane : lanes)
    buffer_.add_outbox(store::outbox_row(*shared, core_->name(lane), millis(at.wall)));
  if (!lanes.empty()) ++uncommitted_events_;
  schedule_flush();
}

void Outbox::pump() {
  if (phase_ == Phase::stopped) return;
  auto step = core_->resume(now().steady);
  for (auto& deliver : step.deliver) {
    const std::size_t lane = deliver.lane;
    sinks_[lane].sink->deliver_batch(deliver.batch,
                                     [this, life = lifetime_.token(), generation = generation_,
                                      lane](std::vector<sinks::DeliveryResult> results) {
                                       if (life.expired() || generation != generation_)
                                         return;  // an old sink's answer
                                       record(core_->settle(lane, std::move(results), now()));
                                       // Not from inside the sink's completion: the next step may
                                       // start another batch on it, or (a drain or reload) stop and
                                       // destroy it.
                                       post_pump();
                                     });
  }
  if (step.wake_at) arm_retry(*step.wake_at);
  if (step.drained && (phase_ == Phase::draining || phase_ == Phase::replacing)) finish_wait(false);
}

void Outbox::post_pump() {
  if (pump_posted_) return;
  pump_posted_ = true;
  boost::asio::post(executor_, [this, life = lifetime_.token()] {
    if (life.expired()) return;
    pump_posted_ = false;
    pump();
  });
}

void Outbox::arm_retry(SteadyTime at) {
  if (retry_at_ && *retry_at_ <= at) return;  // an earlier wake-up covers it
  retry_at_ = at;
  retry_timer_.expires_after(std::max(at - now().steady, SteadyTime::duration::zero()));
  retry_timer_.async_wait([this, life = lifetime_.token()](boost::system::error_code ec) {
    if (ec || life.expired()) return;  // re-armed earlier, or gone
    retry_at_.reset();
    pump();
  });
}

void Outbox::record(const std::vector<Outcome>& outcomes) {
  bool dead = false;
  for (const Outcome& outcome : outcomes) {
    const std::string& sink = core_->name(outcome.lane);
    switch (outcome.kind) {
      case Outcome::Kind::delivered:
        buffer_.mark_delivered(outcome.event->id, sink);
        break;
      case Outcome::Kind::attempt_failed:
        buffer_.update_attempt(outcome.event->id, sink, outcome.attempts,
                               millis(outcome.next_attempt_at), outcome.text);
        break;
      case Outcome::Kind::dead_lettered:
        buffer_.dead_letter(outcome.event->id, sink, outcome.text, outcome.attempts,
                            millis(now().wall));
        dead = true;
        break;
    }
  }
  // A dead letter is kept at once; the rest may wait for the next commit.
  if (dead) {
    schedule_flush();
  } else if (!outcomes.empty()) {
    schedule_bookkeeping_flush();
  }
}

void Outbox::reopen() {
  for (std::size_t lane = 0; lane < sinks_.size(); ++lane) {
    sinks_[lane].sink->reopen();
    // A file that could not be opened or written may work now (new file,
    // space freed); do not make it sit out the rest of its backoff.
    if (sinks_[lane].sink->type() == config::SinkType::file) core_->retry_now(lane);
  }
  pump();
}

void Outbox::drain(std::chrono::milliseconds grace, std::function<void()> done) {
  if (phase_ == Phase::replacing) {
    // The reload is abandoned: its new sinks never started.
    incoming_.clear();
    replaced_ = nullptr;
  }
  enter(Phase::draining);
  drained_ = std::move(done);
  wait_for_quiet(grace);
}

void Outbox::replace_sinks(std::vector<sinks::SinkSpec> next, std::chrono::milliseconds grace,
                           std::function<void(bool)> done) {
  enter(Phase::replacing);
  incoming_ = std::move(next);
  replaced_ = std::move(done);
  // One still out after the grace is delivered again by the new sinks.
  wait_for_quiet(grace);
}

void Outbox::wait_for_quiet(std::chrono::milliseconds grace) {
  // The sinks start nothing new and get a moment for what is in flight.
  core_->pause();
  grace_timer_.expires_after(grace);
  grace_timer_.async_wait([this, life = lifetime_.token()](boost::system::error_code ec) {
    if (!ec && !life.expired()) finish_wait(true);
  });
  pump();  // finishes at once when nothing is out
}

void Outbox::finish_wait(bool out_of_grace) {
  if (!out_of_grace && core_->in_flight() > 0) return;
  grace_timer_.cancel();
  if (phase_ == Phase::draining) {
    enter(Phase::stopped);
    core_->stop();
    stop_sinks();
    commit();
    if (auto done = std::exchange(drained_, nullptr)) done();
    return;
  }
  if (phase_ != Phase::replacing) return;
  // After this commit the store holds exactly what is still owed, events
  // queued on the old sinks included; the new sinks start from it.
  commit();
  auto done = std::exchange(replaced_, nullptr);
  auto owed = load_owed();
  if (!owed) {
    incoming_.clear();
    enter(Phase::running);
    core_->resume_attempts();
    pump();
    if (done) done(false);
    return;
  }
  core_->stop();
  stop_sinks();
  ++generation_;
  sinks_ = std::move(incoming_);
  incoming_.clear();
  core_ = make_core(sinks_);
  queue_owed(*core_, std::move(*owed));
  retry_timer_.cancel();
  retry_at_.reset();
  enter(Phase::running);
  pump();
  if (done) done(true);
}

void Outbox::stop_sinks() {
  for (auto& spec : sinks_) spec.sink->stop();
}

std::uint64_t Outbox::dead_lettered_total() const {
  return dead_lettered_before_ +
         metrics::as_count(outcomes_.sum_where({{"result", "dead_lettered"}}));
}

boost::json::object Outbox::stats() const {
  using Counted = DeliveryCore::Counted;
  boost::json::object by_sink;
  for (std::size_t lane = 0; lane < sinks_.size(); ++lane) {
    boost::json::object sink;
    sink["type"] = sinks::sink_type_name(sinks_[lane].sink->type());
    // Since the daemon started, this sink's earlier incarnations (reloads)
    // included: the counts live in the registry, not in the core.
    sink["delivered"] = core_->counted(lane, Counted::delivered);
    sink["pending"] = core_->pending(lane);
    sink["in_flight"] = core_->in_flight(lane);
    sink["retrying"] = core_->retrying(lane) ? 1 : 0;
    sink["retries"] = core_->counted(lane, Counted::retry);
    sink["dead_lettered"] = core_->counted(lane, Counted::dead_lettered);
    const auto& error = core_->last_error(lane);
    if (error.empty()) {
      sink["last_error"] = nullptr;
    } else {
      sink["last_error"] = error;
    }
    by_sink[core_->name(lane)] = std::move(sink);
  }
  return {{"pending", core_->pending()},
          {"dead_letters", dead_lettered_total()},
          {"by_sink", std::move(by_sink)}};
}

boost::json::object Outbox::store_stats() const {
  return {{"path", store_.path()},
          {"commits", metrics::as_count(commits_.value())},
          {"commit_failures", metrics::as_count(commit_failures_.value())}};
}

void Outbox::render_gauges(metrics::TextWriter& out) const {
  std::vector<std::pair<metrics::Labels, double>> pending;
  for (std::size_t lane = 0; lane < core_->lanes(); ++lane)
    pending.push_back({{{"sink", core_->name(lane)}}, static_cast<double>(core_->pending(lane))});
  out.gauge_family("jobwatch_outbox_pending", "Events owed to each sink, not yet delivered.",
                   pending);
}

}  // namespace jobwatch::outbox
