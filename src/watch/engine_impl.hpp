// The engine's insides, shared by engine.cpp (the public methods) and
// nothing else: the watch table, the due-queue loop, the journal and the
// listeners. Private to src/watch.
#pragma once

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <deque>
#include <map>
#include <random>

#include "jobwatch/asio/lifetime.hpp"
#include "jobwatch/metrics/registry.hpp"
#include "jobwatch/schedule/adaptive_rate.hpp"
#include "jobwatch/schedule/call_price.hpp"
#include "jobwatch/schedule/placement.hpp"
#include "jobwatch/schedule/priority.hpp"
#include "jobwatch/schedule/rate_limiter.hpp"
#include "jobwatch/watch/api_clock.hpp"
#include "jobwatch/watch/engine.hpp"
#include "jobwatch/watch/loop.hpp"
#include "jobwatch/watch/poll_step.hpp"
#include "jobwatch/watch/timing.hpp"
#include "jobwatch/watch/watch_table.hpp"

namespace jobwatch::watch {
namespace engine_detail {

using std::chrono::milliseconds;
using Index = WatchTable::Index;

inline Outcome outcome_of(WatchStatus status) {
  switch (status) {
    case WatchStatus::succeeded:
      return Outcome::succeeded;
    case WatchStatus::failed:
      return Outcome::failed;
    default:
      return Outcome::abandoned;
  }
}

// Listeners are few (sinks, Wait and Follow clients) and may unsubscribe
// while being called, so each call works on a copy of the function.
template <class Listener, class Arg>
inline void notify(const std::map<SubscriptionId, Listener>& listeners, const Arg& arg) {
  if (listeners.empty()) return;
  std::vector<SubscriptionId> ids;
  ids.reserve(listeners.size());
  for (const auto& [id, fn] : listeners) ids.push_back(id);
  for (SubscriptionId id : ids) {
    auto it = listeners.find(id);
    if (it == listeners.end()) continue;
    Listener fn = it->second;
    fn(arg);
  }
}

// The engine's counters, kept in the daemon's registry (or in one of its
// own when the engine runs alone: unit tests, the replay benchmark), with
// handles bound once so counting a poll is one add. stats() reads them back.
struct EngineCounters {
  explicit EngineCounters(metrics::Registry* shared);
  // The jobwatch_poll_http_status_total sample of `code`, bound on first use.
  metrics::Counter& http_status(unsigned code);

  metrics::SharedOrOwnRegistry registry;
  metrics::CounterVec& polls;                       // jobwatch_polls_total{answer}
  metrics::CounterVec& by_http;                     // jobwatch_poll_http_status_total{code}
  metrics::CounterVec& events;                      // jobwatch_events_emitted_total{type}
  std::array<metrics::Counter, 9> polls_by_answer;  // by upstream::AnswerKind
  std::array<metrics::Counter, 5> events_by_type;   // by EventType
  std::map<unsigned, metrics::Counter> by_code;     // handles into by_http
};

}  // namespace engine_detail

using namespace engine_detail;

struct Engine::Impl {
  Impl(std::unique_ptr<Loop> own_loop, Loop& engine_loop, const config::Config& config,
       upstream::JobApi& job_api, Journal* watch_journal, PollOrder poll_order,
       std::uint64_t jitter_seed, metrics::Registry* shared_registry)
      : owned_loop(std::move(own_loop)),
        loop(engine_loop),
        api(job_api),
        journal(watch_journal),
        stored_answer(watch_journal ? StoredAnswer([watch_journal](const JobRef& job) {
          return watch_journal->last_answer(job);
        })
                                    : StoredAnswer()),
        order(poll_order),
        limiter(config.api.rate_limit),
        adaptive(config.api.rate_limit),
        timer(loop.make_timer()),
        sweep_timer(loop.make_timer()),
        rng(jitter_seed),
        counters(shared_registry) {
    apply(config);
  }

  void apply(const config::Config& config) {
    poll = config.poll;
    max_in_flight = static_cast<std::size_t>(std::max(1, config.api.max_connections));
    max_watches = config.control.max_watches;
    retention = config.state.retention;
    adaptive.set_configured(config.api.rate_limit);
    limiter.set_rate(adaptive.rate());
  }

  // --- the due-queue loop -------------------------------------------------

  bool is_current(const DueQueue::Entry& e) const {
    if (!table.contains(e.index)) return false;
    const Watch& w = table.at(e.index);
    return w.generation == e.generation && !w.in_flight && !is_finished(w.status) && w.due == e.due;
  }

  void arm(SteadyTime at) {
    if (timer_at && *timer_at <= at) return;
    timer_at = at;
    timer->arm(at, [this] {
      timer_at.reset();
      pump();
    });
  }

  // Moves every due poll to `ready`, starts as many as the connection cap
  // and the rate budget allow — the likeliest to find a change first when
  // they cannot all go (SPEC §7) — and arms the one timer for what follows.
  void pump() {
    if (stopped) return;
    const SteadyTime now = loop.now();
    recover_rate(now);
    while (!due.empty() && due.top().due <= now) {
      const DueQueue::Entry entry = due.top();
      due.pop();
      if (!is_current(entry)) continue;
      Watch& w = table.at(entry.index);
      if (auto expired = expire_if_due(w, loop.wall_now(), stored_answer)) {
        std::vector<Event> events{std::move(*expired)};
        record(entry.index, events);
        on_finished(entry.index, events);
        continue;
      }
      // Heap order, and every later entry is due at or after `now`: behind
      // its ranked front, ready stays sorted by due time.
      ready.push_back(entry);
    }
    start_ready(now);
    reprice(now);
    std::optional<SteadyTime> wake;
    if (!due.empty()) wake = due.top().due;
    // With polls waiting and a free connection, the next token starts one;
    // without a free connection a completion pumps again.
    if (!ready.empty() && in_flight < max_in_flight) {
      const SteadyTime token_at = now + limiter.wait_time(now);
      wake = wake ? std::min(*wake, token_at) : token_at;
    }
    if (wake) arm(*wake);
  }

  // How long a poll due now is likely to wait for the rate budget: the
  // polls already waiting, at the current rate; and what a call is worth.
  BudgetNow budget_now() const {
    const double rate = limiter.rate();
    BudgetNow budget;
    budget.call_price_s = call_price_s;  // stays 0 in due-time order (reprice)
    if (!ready.empty() && rate > 0)
      budget.wait = schedule::to_millis(static_cast<double>(ready.size()) / rate);
    return budget;
  }

  // Solves the call price (schedule/call_price.hpp) from every scheduled
  // watch's planned gap, so that the calls they plan fit the budget. A pass
  // over the table every reprice_every, only under a rate limit: at 100k
  // watches some milliseconds in five seconds.
  void reprice(SteadyTime now) {
    if (order != PollOrder::priority) return;
    const double rate = limiter.rate();
    if (!(rate > 0) || !std::isfinite(rate)) {
      call_price_s = 0;
      return;
    }
    if (priced_at && now - *priced_at < reprice_every) return;
    priced_at = now;
    priceable.clear();
    double fixed_calls_per_s = 0;
    table.for_each([&](const Watch& w) {
      if (!(w.next_poll_at || w.in_flight) || !(w.planned_gap_s > 0)) return;
      if (w.gap_priceable)
        priceable.push_back({w.planned_gap_s, w.planned_hazard});
      else
        fixed_calls_per_s += 1.0 / w.planned_gap_s;
    });
    call_price_s = schedule::price_to_fit(priceable, fixed_calls_per_s, rate,
                                          std::chrono::duration<double>(poll.max_interval).count());
  }

  // Starts due polls from the front of `ready` while a connection and a
  // token are free. Entries made stale (cancelled, rescheduled) while they
  // waited are dropped as they reach the front.
  void start_ready(SteadyTime now) {
    if (ready.empty() || in_flight >= max_in_flight || limiter.wait_time(now).count() > 0) return;
    std::size_t slots = max_in_flight - in_flight;
    if (order == PollOrder::priority) rank_if_binding(now, slots);
    while (slots > 0 && !ready.empty()) {
      const DueQueue::Entry entry = ready.front();
      const bool current = is_current(entry);
      if (current && !limiter.try_acquire(now)) break;
      ready.pop_front();
      if (ranked > 0) --ranked;
      if (!current) continue;
      start_poll(entry.index);
      --slots;
    }
  }

  // When more polls are due than can start now, puts the ones worth most
  // first (SPEC §7, schedule/priority.hpp): the delay each would cut — the
  // chance it finds the end now (the chance per second its schedule saw,
  // times the time since its last poll) times that time — with starving
  // watches above all. Scoring every waiting poll for every token would be
  // O(ready) per poll (100k watches: the loop's whole time), so the ranking
  // is redone only when its front is used up or rerank_every old, and
  // covers the polls the budget can start until then: scores move little
  // in that time, and a poll due since waits at most rerank_every for it.
  void rank_if_binding(SteadyTime now, std::size_t slots) {
    const double can_start = std::min(static_cast<double>(slots), limiter.available(now));
    if (can_start >= static_cast<double>(ready.size())) return;
    if (ranked > 0 && now - ranked_at < rerank_every) return;
    std::erase_if(ready, [this](const DueQueue::Entry& e) { return !is_current(e); });
    const double max_interval_s = std::chrono::duration<double>(poll.max_interval).count();
    const model::WallTime wall = loop.wall_now();
    std::vector<schedule::DuePoll> candidates;
    candidates.reserve(ready.size());
    for (std::size_t i = 0; i < ready.size(); ++i) {
      const Watch& w = table.at(ready[i].index);
      const double waited_s = std::chrono::duration<double>(now - ready[i].due).count();
      const double unpolled_s =
          std::chrono::duration<double>(wall - w.last_poll_at.value_or(w.created_at)).count();
      // The chance the poll finds the end now; none for a first poll.
      const std::optional<double> p_now =
          w.seen ? std::optional<double>(w.change_rate * unpolled_s) : std::nullopt;
      candidates.push_back(
          {i, schedule::priority_score(p_now, unpolled_s, max_interval_s), waited_s});
    }
    // The polls that can start before the next ranking: the tokens the rate
    // adds in rerank_every, and at least the ones free now.
    const double per_round = limiter.rate() * std::chrono::duration<double>(rerank_every).count();
    const auto wanted = static_cast<std::size_t>(
        std::clamp(std::max(per_round, can_start) + 1, 1.0, static_cast<double>(ready.size())));
    std::vector<bool> chosen(ready.size(), false);
    std::deque<DueQueue::Entry> reordered;
    for (std::size_t i : schedule::select_polls(candidates, wanted)) {
      chosen[i] = true;
      reordered.push_back(ready[i]);
    }
    ranked = reordered.size();
    // The rest stay in due order behind them.
    for (std::size_t i = 0; i < ready.size(); ++i)
      if (!chosen[i]) reordered.push_back(ready[i]);
    ready = std::move(reordered);
    ranked_at = now;
  }

  void start_poll(Index index) {
    Watch& w = table.at(index);
    w.in_flight = true;
    ++in_flight;
    api.fetch(
        w.api, w.job.project_id, w.job.job_id,
        [this, life = lifetime.token(), index, generation = w.generation](upstream::Answer answer) {
          if (life.expired()) return;
          on_answer(index, generation, std::move(answer));
        });
  }

  void on_answer(Index index, std::uint32_t generation, upstream::Answer answer) {
    --in_flight;
    count_answer(answer);
    if (answer.kind == upstream::AnswerKind::throttled) slow_down(loop.now());
    if (stopped) return;
    if (!table.contains(index) || table.at(index).generation != generation) {
      pump();  // cancelled while the poll was out
      return;
    }
    Watch& w = table.at(index);
    w.in_flight = false;
    if (answer.kind != upstream::AnswerKind::ok && answer.kind != upstream::AnswerKind::not_found)
      log_poll_error(w.job, answer);
    // The estimate seen while the job ran, before the final answer replaces it.
    const std::optional<model::WallTime> estimate = w.expected_end_time;
    StepResult step = apply_answer(w, answer, poll, loop.wall_now(), jitter(rng), &timing,
                                   api_clock_offset(w.api, answer), budget_now(), stored_answer);
    std::optional<TimingUpdate> learned;
    if (step.finished) learned = learn(w, answer, estimate);
    if (step.changed) {
      record(index, step.events, learned);
    } else if (journal && !w.unsaved_answer.empty()) {
      journal->record_answer(w);
      answer_handed_over(w);
    }
    if (step.finished) {
      on_finished(index, step.events);
    } else {
      emit(step.events);
      schedule(index, step.next_gap);
      notify_change(index);
    }
    pump();
  }

  // Learns the API's clock from the answer's Date (it came just now) and
  // gives the offset that the job's own times are to be read with.
  milliseconds api_clock_offset(model::Api job_api, const upstream::Answer& answer) {
    api_clocks.observe(job_api, answer.server_date, loop.wall_now());
    return api_clocks.offset(job_api);
  }

  // SPEC §1: 429/503 slow the shared budget (AIMD, see AdaptiveRate);
  // Retry-After is honoured per watch by the poll policy on top of this.
  void slow_down(SteadyTime now) {
    if (!adaptive.on_throttled(now)) return;
    limiter.set_rate(adaptive.rate());
    if (!rate_lowered_logged) {
      rate_lowered_logged = true;
      spdlog::info("upstream throttling: request rate lowered to {:.2f}/s (configured {:.2f}/s)",
                   adaptive.rate(), adaptive.configured());
    } else {
      spdlog::debug("upstream throttling: request rate lowered to {:.2f}/s", adaptive.rate());
    }
  }

  void recover_rate(SteadyTime now) {
    if (!adaptive.adapted()) return;
    limiter.set_rate(adaptive.update(now));
    if (!adaptive.adapted() && rate_lowered_logged) {
      rate_lowered_logged = false;
      spdlog::info("upstream throttling over: request rate back to {:.2f}/s", adaptive.rate());
    }
  }

  // Poll failures are worth a warn line — a bad certificate or a revoked
  // token shows up in the log, not only in Show — but a storm of them must
  // not flood the journal: a few per window, then a count of the rest.
  void log_poll_error(const JobRef& job, const upstream::Answer& answer) {
    const SteadyTime now = loop.now();
    if (now - error_window_start >= poll_error_window) {
      if (errors_suppressed > 0)
        spdlog::warn("{} more poll error(s) in the last {} s were not logged", errors_suppressed,
                     std::chrono::duration_cast<std::chrono::seconds>(poll_error_window).count());
      error_window_start = now;
      errors_logged = 0;
      errors_suppressed = 0;
    }
    if (errors_logged < poll_errors_per_window) {
      ++errors_logged;
      spdlog::warn("poll {}/{}: {}", job.project_id, job.job_id, answer.describe());
    } else {
      ++errors_suppressed;
      spdlog::debug("poll {}/{}: {}", job.project_id, job.job_id, answer.describe());
    }
  }

  void schedule(Index index, milliseconds gap) {
    Watch& w = table.at(index);
    w.due = loop.now() + gap;
    w.next_poll_at = loop.wall_now() + gap;
    w.polls_unsaved = true;
    due.push({w.due, index, w.generation});
  }

  void record(Index index, const std::vector<Event>& events,
              const std::optional<TimingUpdate>& learned = std::nullopt) {
    Watch& w = table.at(index);
    w.polls_unsaved = false;
    if (!journal) return;
    journal->record_change(w, events, learned);
    answer_handed_over(w);
  }

  // SPEC §7: a job whose success the daemon saw teaches its key's model how
  // long it took and where it ended against the estimate it had while
  // running (the final answer's, when no earlier answer gave one). Failures
  // teach nothing: they end wherever the job broke, and a window stretched
  // over them would spend target_delay polls on the whole early range —
  // max_interval is what bounds how late a failure is seen.
  std::optional<TimingUpdate> learn(const Watch& w, const upstream::Answer& answer,
                                    std::optional<model::WallTime> estimate) {
    if (answer.kind != upstream::AnswerKind::ok || !answer.job) return std::nullopt;
    if (w.status != WatchStatus::succeeded) return std::nullopt;
    const model::JobSnapshot& job = *answer.job;
    if (!estimate && job.expected_end_time) estimate = model::parse_rfc3339(*job.expected_end_time);
    const auto seen = job_timing(job.begin_time, job.end_time, estimate);
    if (!seen) return std::nullopt;
    schedule::TimingKey key = timing_key(w);
    schedule::TimingModel& model = timing.get(key);
    model.observe_job(seen->duration_s, seen->expected_duration_s);
    return TimingUpdate{std::move(key), model.serialize()};
  }

  void on_finished(Index index, const std::vector<Event>& events) {
    Watch& w = table.at(index);
    --active;
    spdlog::debug("watch {}/{} finished: {}", w.job.project_id, w.job.job_id,
                  status_name(w.status));
    emit(events);
    notify_change(index);
    arm_sweep();
  }

  void emit(const std::vector<Event>& events) {
    for (const Event& event : events) {
      counters.events_by_type[static_cast<std::size_t>(event.type)].add();
      notify(event_listeners, event);
    }
  }

  void notify_change(Index index) {
    if (change_listeners.empty()) return;
    notify(change_listeners, info_of(table.at(index)));
  }

  void count_answer(const upstream::Answer& answer) {
    counters.polls_by_answer[static_cast<std::size_t>(answer.kind)].add();
    if (answer.http_status != 0) counters.http_status(answer.http_status).add();
  }

  // Finished watches stay visible for state.retention, then go.
  void arm_sweep() {
    if (sweep_armed) return;
    sweep_armed = true;
    const auto period =
        std::clamp<milliseconds>(retention / 10, milliseconds(1000), milliseconds(60'000));
    sweep_timer->arm(loop.now() + period, [this] {
      sweep_armed = false;
      sweep();
    });
  }

  void sweep() {
    const model::WallTime cutoff = loop.wall_now() - retention;
    std::vector<Index> expired;
    bool any_finished = false;
    table.for_each_index([&](Index i) {
      const Watch& w = table.at(i);
      if (!is_finished(w.status)) return;
      if (!w.finished_at || *w.finished_at <= cutoff)  // no end time: never a kept one
        expired.push_back(i);
      else
        any_finished = true;
    });
    for (Index i : expired) {
      if (journal) journal->record_removed(table.at(i).job);
      table.erase(i);
    }
    if (any_finished) arm_sweep();
  }

  static constexpr milliseconds poll_error_window{10'000};
  static constexpr int poll_errors_per_window = 5;
  static constexpr milliseconds rerank_every{100};
  static constexpr milliseconds reprice_every{5'000};
  SteadyTime error_window_start{};
  int errors_logged = 0;
  std::uint64_t errors_suppressed = 0;

  std::unique_ptr<Loop> owned_loop;  // the Asio loop, when the engine made it
  Loop& loop;
  upstream::JobApi& api;
  Journal* journal = nullptr;
  StoredAnswer stored_answer;  // the journal's copies of answers (last_answer)
  PollOrder order;
  config::PollConfig poll;
  std::size_t max_in_flight = 16;
  std::size_t max_watches = 0;
  milliseconds retention{0};
  schedule::RateLimiter limiter;
  schedule::AdaptiveRate adaptive;  // sets the limiter's rate
  // The delay a call must save while the budget binds (PollOrder::priority),
  // solved every reprice_every from the watches' planned gaps.
  double call_price_s = 0;
  std::optional<SteadyTime> priced_at;
  std::vector<schedule::PriceableGap> priceable;  // reprice's scratch
  bool rate_lowered_logged = false;
  WatchTable table;
  DueQueue due;
  // Due, waiting for a token or a connection: in due order, but for the
  // first `ranked`, which rank_if_binding put in priority order.
  std::deque<DueQueue::Entry> ready;
  std::size_t ranked = 0;
  SteadyTime ranked_at{};
  schedule::TimingModels timing;  // SPEC §7, by (api, project_id, job_type)
  ApiClocks api_clocks;           // the API's clock against ours, per service host
  std::unique_ptr<LoopTimer> timer;
  std::optional<SteadyTime> timer_at;
  std::unique_ptr<LoopTimer> sweep_timer;
  bool sweep_armed = false;
  std::size_t in_flight = 0;
  std::size_t active = 0;
  bool stopped = false;
  Lifetime lifetime;
  std::mt19937_64 rng;
  std::uniform_real_distribution<double> jitter{0.0, 1.0};

  SubscriptionId next_subscription = 1;
  std::map<SubscriptionId, EventListener> event_listeners;
  std::map<SubscriptionId, ChangeListener> change_listeners;

  EngineCounters counters;
};

}  // namespace jobwatch::watch
