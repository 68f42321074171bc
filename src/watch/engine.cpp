#include "jobwatch/watch/engine.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <random>

#include "engine_impl.hpp"

namespace jobwatch::watch {

std::string_view outcome_name(Outcome outcome) {
  switch (outcome) {
    case Outcome::succeeded:
      return "succeeded";
    case Outcome::failed:
      return "failed";
    case Outcome::abandoned:
      return "abandoned";
  }
  return "abandoned";
}

namespace {

// How far the API's clock is from ours, per service host that has answered
// with a Date: jobs' ages are read in the API's clock (SPEC §7).
boost::json::object api_clock_stats(const ApiClocks& clocks) {
  boost::json::object out;
  for (model::Service service : {model::Service::app_streaming, model::Service::desktop}) {
    const ApiClock& clock = clocks.of(service);
    if (clock.samples() == 0) continue;
    out[service == model::Service::desktop ? "desktop" : "app_streaming"] =
        boost::json::object{{"offset_s", std::chrono::duration<double>(clock.offset()).count()},
                            {"samples", clock.samples()}};
  }
  return out;
}

}  // namespace

Engine::Engine(boost::asio::any_io_executor executor, const config::Config& config,
               upstream::JobApi& api, Journal* journal, metrics::Registry* registry)
    : impl_(nullptr) {
  std::unique_ptr<Loop> loop = asio_loop(std::move(executor));
  Loop& ref = *loop;
  impl_ = std::make_unique<Impl>(std::move(loop), ref, config, api, journal, PollOrder::priority,
                                 std::random_device{}(), registry);
}

Engine::Engine(Loop& loop, const config::Config& config, upstream::JobApi& api, Journal* journal,
               PollOrder order)
    : impl_(std::make_unique<Impl>(nullptr, loop, config, api, journal, order, 1, nullptr)) {}

void Engine::restore(std::vector<Watch> watches) {
  Impl& s = *impl_;
  s.table.reserve(s.table.size() + watches.size());
  for (Watch& w : watches) {
    if (s.table.find(w.job)) continue;
    const bool finished = is_finished(w.status);
    w.in_flight = false;
    w.next_poll_at.reset();
    const Index index = s.table.insert(std::move(w));
    if (finished) {
      s.arm_sweep();
    } else {
      ++s.active;
      s.schedule(index, milliseconds(0));
    }
  }
  s.loop.post([&s, life = s.lifetime.token()] {
    if (!life.expired()) s.pump();
  });
}

void Engine::load_timing_models(schedule::TimingModels models) {
  impl_->timing = std::move(models);
}

const schedule::TimingModels& Engine::timing_models() const {
  return impl_->timing;
}

boost::json::array Engine::timing() const {
  boost::json::array models;
  for (const auto& [key, model] : impl_->timing)
    models.push_back(timing_json(key, model, impl_->poll));
  return models;
}

std::vector<TraceJob> Engine::finished_jobs() const {
  std::vector<TraceJob> jobs;
  // Each submission is taken to the API's clock with the offset known now:
  // offsets are not stored per watch (clocks drift slowly), and after a
  // restart it is zero until the API has answered again.
  impl_->table.for_each([&](const Watch& w) {
    if (auto job =
            trace_job(w, last_answer(w, impl_->stored_answer), impl_->api_clocks.offset(w.api)))
      jobs.push_back(std::move(*job));
  });
  return jobs;
}

Engine::~Engine() {
  impl_->lifetime.end();
}

std::variant<std::vector<WatchInfo>, EngineError> Engine::watch(const WatchRequest& request) {
  Impl& s = *impl_;
  if (s.stopped) return EngineError::shutting_down;
  std::size_t new_watches = 0;
  for (const WatchTarget& target : request.jobs)
    if (!s.table.find(target.job)) ++new_watches;
  if (s.active + new_watches > s.max_watches) return EngineError::limit_reached;

  Labels labels = request.labels;
  std::sort(labels.begin(), labels.end());
  const model::WallTime now = s.loop.wall_now();
  const milliseconds deadline = request.deadline.value_or(s.poll.default_deadline);

  std::vector<Index> created;
  for (const WatchTarget& target : request.jobs) {
    if (s.table.find(target.job)) continue;  // watched already (or named twice)
    Watch w;
    w.job = target.job;
    w.api = target.api;
    w.labels = labels;
    w.submitter = request.submitter;
    w.created_at = now;
    w.deadline_at = now + deadline;
    created.push_back(s.table.insert(std::move(w)));
  }
  // Durable before the reply: an acknowledged watch survives a crash.
  if (s.journal && !created.empty()) {
    std::vector<const Watch*> fresh;
    for (Index index : created) fresh.push_back(&s.table.at(index));
    if (auto error = s.journal->record_new(fresh)) {
      spdlog::error("cannot store {} new watch(es): {}", created.size(), *error);
      for (Index index : created) s.table.erase(index);
      return EngineError::store_failed;
    }
  }
  for (Index index : created) {
    ++s.active;
    s.schedule(index, milliseconds(0));  // the first poll is due at once
  }

  std::vector<WatchInfo> replies;
  replies.reserve(request.jobs.size());
  for (const WatchTarget& target : request.jobs) {
    const Index index = *s.table.find(target.job);
    replies.push_back(info_of(s.table.at(index)));
    replies.back().created = std::find(created.begin(), created.end(), index) != created.end();
  }
  // Pump after the reply is built: a batch of Watch calls in one loop turn
  // starts its polls together.
  s.loop.post([&s, life = s.lifetime.token()] {
    if (!life.expired()) s.pump();
  });
  return replies;
}

std::variant<std::vector<JobRef>, CancelFailure> Engine::cancel(const std::vector<JobRef>& jobs,
                                                                uid_t caller) {
  Impl& s = *impl_;
  std::vector<Index> found;
  for (const JobRef& job : jobs) {
    auto index = s.table.find(job);
    if (!index) return CancelFailure{CancelFailure::Kind::not_watched, job};
    const uid_t submitter = s.table.at(*index).submitter;
    if (caller != 0 && caller != ::geteuid() && caller != submitter)
      return CancelFailure{CancelFailure::Kind::permission_denied, job};
    found.push_back(*index);
  }
  std::vector<JobRef> cancelled;
  for (Index index : found) {
    if (!s.table.contains(index)) continue;  // named twice
    Watch& w = s.table.at(index);
    if (!is_finished(w.status)) --s.active;
    cancelled.push_back(w.job);
    if (s.journal) s.journal->record_removed(w.job);
    s.table.erase(index);
  }
  return cancelled;
}

std::vector<WatchInfo> Engine::list() const {
  std::vector<WatchInfo> all;
  all.reserve(impl_->table.size());
  impl_->table.for_each([&](const Watch& w) { all.push_back(info_of(w)); });
  return all;
}

std::vector<WatchHandle> Engine::handles() const {
  std::vector<WatchHandle> all;
  all.reserve(impl_->table.size());
  impl_->table.for_each_index([&](WatchTable::Index i) {
    all.push_back(WatchHandle{i, impl_->table.at(i).generation});
  });
  return all;
}

std::optional<WatchInfo> Engine::info(WatchHandle handle) const {
  const auto& table = impl_->table;
  if (!table.contains(handle.index)) return std::nullopt;
  const Watch& w = table.at(handle.index);
  if (w.generation != handle.generation) return std::nullopt;
  return info_of(w);
}

std::optional<ShowResult> Engine::show(const JobRef& job) const {
  auto index = impl_->table.find(job);
  if (!index) return std::nullopt;
  const Watch& w = impl_->table.at(*index);
  return ShowResult{info_of(w), last_answer(w, impl_->stored_answer)};
}

std::optional<WatchInfo> Engine::info(const JobRef& job) const {
  auto index = impl_->table.find(job);
  if (!index) return std::nullopt;
  return info_of(impl_->table.at(*index));
}

std::optional<FinishedWatch> Engine::finished(const JobRef& job) const {
  auto index = impl_->table.find(job);
  if (!index) return std::nullopt;
  const Watch& w = impl_->table.at(*index);
  if (!is_finished(w.status)) return std::nullopt;
  return FinishedWatch{outcome_of(w.status), w.final_event};
}

SubscriptionId Engine::subscribe_events(EventListener listener) {
  const SubscriptionId id = impl_->next_subscription++;
  impl_->event_listeners.emplace(id, std::move(listener));
  return id;
}

SubscriptionId Engine::subscribe_changes(ChangeListener listener) {
  const SubscriptionId id = impl_->next_subscription++;
  impl_->change_listeners.emplace(id, std::move(listener));
  return id;
}

void Engine::unsubscribe(SubscriptionId id) {
  impl_->event_listeners.erase(id);
  impl_->change_listeners.erase(id);
}

boost::json::object Engine::stats() const {
  const Impl& s = *impl_;
  std::array<std::uint64_t, 6> by_state{};
  s.table.for_each([&](const Watch& w) { ++by_state[static_cast<std::size_t>(w.status)]; });
  boost::json::object watches;
  watches["total"] = s.table.size();
  watches["active"] = s.active;
  for (std::size_t i = 0; i < by_state.size(); ++i)
    watches[status_name(static_cast<WatchStatus>(i))] = by_state[i];

  using metrics::as_count;
  boost::json::object by_answer;
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < s.counters.polls_by_answer.size(); ++i) {
    const std::uint64_t n = as_count(s.counters.polls_by_answer[i].value());
    total += n;
    by_answer[upstream::kind_name(static_cast<upstream::AnswerKind>(i))] = n;
  }
  boost::json::object by_http;
  for (const auto& [code, n] : s.counters.by_http.values()) by_http[code[0]] = as_count(n);
  boost::json::object polls;
  polls["total"] = total;
  polls["by_answer"] = std::move(by_answer);
  polls["by_http_status"] = std::move(by_http);
  polls["in_flight"] = s.in_flight;
  // Entries not yet due plus those due and waiting for a token or a
  // connection (the heap may still hold stale entries of cancelled watches).
  polls["due_queue"] = s.due.size() + s.ready.size();
  polls["waiting_for_budget"] = s.ready.size();
  polls["rate_limit"] = s.limiter.rate();  // effective, after AIMD
  polls["rate_limit_configured"] = s.adaptive.configured();
  polls["throttled_total"] = s.adaptive.throttled_total();
  polls["api_clock"] = api_clock_stats(s.api_clocks);

  boost::json::object events;
  for (std::size_t i = 0; i < s.counters.events_by_type.size(); ++i)
    events[type_name(static_cast<EventType>(i))] = as_count(s.counters.events_by_type[i].value());

  boost::json::object out;
  out["watches"] = std::move(watches);
  out["polls"] = std::move(polls);
  out["events_emitted"] = std::move(events);
  return out;
}

std::size_t Engine::active_watches() const {
  return impl_->active;
}

void Engine::reconfigure(const config::Config& config) {
  impl_->apply(config);
  impl_->pump();
}

void Engine::checkpoint() {
  Impl& s = *impl_;
  if (!s.journal) return;
  std::vector<const Watch*> unsaved;
  s.table.for_each_index([&](WatchTable::Index i) {
    Watch& w = s.table.at(i);
    if (!w.polls_unsaved) return;
    w.polls_unsaved = false;
    unsaved.push_back(&w);
  });
  if (!unsaved.empty()) s.journal->record_polls(unsaved);
}

void Engine::stop() {
  impl_->stopped = true;
  impl_->timer->cancel();
  impl_->sweep_timer->cancel();
}

}  // namespace jobwatch::watch
