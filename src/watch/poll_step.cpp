#include "jobwatch/watch/poll_step.hpp"

#include <algorithm>
#include <boost/json/serialize.hpp>

#include "jobwatch/schedule/call_price.hpp"
#include "jobwatch/schedule/placement.hpp"
#include "jobwatch/schedule/poll_policy.hpp"
#include "jobwatch/schedule/priority.hpp"
#include "jobwatch/watch/timing.hpp"
#include "jobwatch/watch/tracker.hpp"

namespace jobwatch::watch {
namespace {

using std::chrono::milliseconds;
using upstream::AnswerKind;

schedule::PollOutcome outcome_for(AnswerKind kind) {
  switch (kind) {
    case AnswerKind::ok:
      return schedule::PollOutcome::progress;
    case AnswerKind::not_found:
      return schedule::PollOutcome::not_found;
    case AnswerKind::throttled:
      return schedule::PollOutcome::throttled;
    default:
      return schedule::PollOutcome::failure;
  }
}

std::uint32_t clamp_count(const std::optional<std::int64_t>& count) {
  if (!count || *count < 0) return 0;
  return static_cast<std::uint32_t>(std::min<std::int64_t>(*count, UINT32_MAX));
}

// desktop-v2's subjob `process`, averaged; a terminal subjob counts as 100 %
// whatever its last `process` said. nullopt when the API sends none.
std::optional<std::uint8_t> mean_progress(const model::JobSnapshot& job) {
  std::int64_t sum = 0;
  std::int64_t counted = 0;
  bool any_process = false;
  for (const model::SubjobSnapshot& sub : job.subjobs) {
    any_process = any_process || sub.process.has_value();
    if (model::is_terminal(sub.status)) {
      sum += 100;
    } else if (sub.process) {
      sum += std::clamp<std::int64_t>(*sub.process, 0, 100);
    } else {
      continue;
    }
    ++counted;
  }
  if (!any_process || counted == 0) return std::nullopt;
  return static_cast<std::uint8_t>(sum / counted);
}

struct PlacedGap {
  double gap_s;
  // Where a call price may stretch it: not before a window, whose edge the
  // gap is aimed at.
  bool priceable;
};

// SPEC §7: target_delay where the end is likely, up to max_interval
// elsewhere, never below min_interval.
PlacedGap placed_gap(const EndPrediction& predicted, const config::PollConfig& poll) {
  const schedule::PlacementParams params = placement_params(poll);
  const schedule::PollPlan plan = schedule::plan_polls(predicted.plan_on, params);
  const schedule::Placement now = schedule::next_gap(plan, predicted.age_s, params);
  double gap_s = now.gap_s;
  // With whole-second times an end learned at age T happens up to a second
  // later: each window is kept up for that second too (the gap as it would
  // be a resolution earlier), else such ends fall "beyond history" and wait
  // for max_interval. Inside a window whose start is less than that behind,
  // the earlier gap would only land a second poll on the start the last
  // one just made; a window narrower than the resolution still needs it.
  const double res = predicted.time_resolution_s;
  if (res > 0 && predicted.age_s >= res) {
    const schedule::Placement earlier = schedule::next_gap(plan, predicted.age_s - res, params);
    const bool opening = now.regime == schedule::PollRegime::in_window &&
                         earlier.regime == schedule::PollRegime::before_window;
    if (!opening) gap_s = std::min(gap_s, earlier.gap_s);
  }
  return {gap_s, now.regime != schedule::PollRegime::before_window};
}

// Under a binding budget the placed gap stretches where the end is least
// likely (schedule/call_price.hpp); the watch keeps the unpriced gap and
// its hazard, from which the engine solves the price.
double priced_gap(Watch& watch, const EndPrediction& predicted, PlacedGap placed,
                  const config::PollConfig& poll, double call_price_s) {
  if (!placed.priceable) return placed.gap_s;
  const double age = predicted.age_s;
  const double hazard = predicted.plan_on.prob_end_between(age, age + placed.gap_s).value_or(0) /
                        std::max(1e-3, placed.gap_s);
  watch.gap_priceable = true;
  watch.planned_gap_s = static_cast<float>(placed.gap_s);
  watch.planned_hazard = static_cast<float>(hazard);
  return schedule::gap_at_price(placed.gap_s, hazard, call_price_s,
                                std::chrono::duration<double>(poll.max_interval).count());
}

// The capped backoff (and estimate halving) of schedule::next_poll. `api_now`
// is in the API's clock: the policy measures it against expected_end_time.
milliseconds backoff_gap(Watch& watch, const upstream::Answer& answer,
                         const config::PollConfig& poll, model::WallTime api_now,
                         double jitter_unit) {
  schedule::PolicyInput input{};
  input.outcome = outcome_for(answer.kind);
  input.now = std::chrono::system_clock::time_point(api_now.time_since_epoch());
  if (watch.expected_end_time)
    input.expected_end_time =
        std::chrono::system_clock::time_point(watch.expected_end_time->time_since_epoch());
  input.retry_after = answer.retry_after;
  input.backoff_step = watch.backoff_step;
  input.jitter_unit = jitter_unit;
  const schedule::PolicyDecision decision =
      schedule::next_poll({poll.min_interval, poll.max_interval}, input);
  watch.backoff_step = decision.backoff_step;
  return decision.gap;
}

double seconds(milliseconds d) {
  return std::chrono::duration<double>(d).count();
}

// The chance that the next poll, `gap` from now, finds the job ended: from
// the prediction when there is one, else the scale-free prior on the job's
// age (since begin_time, in the API's clock, or since the watch began when
// the API gives none).
double change_odds(const std::optional<EndPrediction>& predicted, const model::JobSnapshot& job,
                   const Watch& watch, model::WallTime now, milliseconds api_clock_offset,
                   milliseconds gap) {
  const double gap_s = seconds(gap);
  if (predicted)
    return schedule::change_probability(predicted->plan_on, predicted->age_s,
                                        predicted->age_s + gap_s);
  std::optional<milliseconds> age;
  if (job.begin_time) {
    if (auto begin = model::parse_rfc3339(*job.begin_time);
        begin && *begin <= now + api_clock_offset)
      age = std::chrono::duration_cast<milliseconds>(now + api_clock_offset - *begin);
  }
  if (!age) age = std::chrono::duration_cast<milliseconds>(now - watch.created_at);
  const double age_s = std::max(0.0, seconds(*age));
  return schedule::default_change_probability(age_s, age_s + gap_s);
}

void finish(Watch& watch, StepResult& result, model::WallTime now) {
  result.finished = true;
  result.changed = true;
  watch.finished_at = now;
  watch.next_poll_at.reset();
  if (!result.events.empty()) watch.final_event = result.events.back().document;
}

void abandon(Watch& watch, StepResult& result, AbandonReason reason, const upstream::Answer* answer,
             model::WallTime now, const StoredAnswer& stored) {
  const std::string_view code = answer ? std::string_view(answer->error_code) : "";
  const std::string_view msg = answer ? std::string_view(answer->error_msg) : "";
  if (auto event = abandon_event(watch.track, {watch.job, watch.api, watch.labels}, reason, code,
                                 msg, now, last_answer(watch, stored)))
    result.events.push_back(std::move(*event));
  watch.status = WatchStatus::abandoned;
  watch.reason = reason;
  finish(watch, result, now);
}

}  // namespace

StepResult apply_answer(Watch& watch, const upstream::Answer& answer,
                        const config::PollConfig& poll, model::WallTime now, double jitter_unit,
                        const schedule::TimingModels* timing, milliseconds api_clock_offset,
                        const BudgetNow& budget, const StoredAnswer& stored) {
  StepResult result;
  std::optional<EndPrediction> predicted;  // for a running job whose key predicts
  ++watch.polls;
  watch.last_poll_at = now;

  switch (answer.kind) {
    case AnswerKind::ok: {
      const model::JobSnapshot& job = *answer.job;
      watch.seen = true;
      if (!job.job_type.is_null()) watch.job_type = model::job_type_text(job.job_type);
      watch.last_error.clear();
      remember_answer(watch, boost::json::serialize(job.raw));
      watch.expected_end_time =
          job.expected_end_time ? model::parse_rfc3339(*job.expected_end_time) : std::nullopt;
      const WatchStatus status_before = watch.status;
      const TrackState track_before = watch.track;
      Observation seen = observe(watch.track, {watch.job, watch.api, watch.labels}, job, now);
      result.changed = seen.new_status != status_before || watch.track != track_before;
      watch.status = seen.new_status;
      // The API's own count where it gives one (v2 may list fewer).
      watch.subjobs_total =
          std::max<std::uint32_t>(seen.subjobs_total, clamp_count(job.subjobs_total));
      watch.subjobs_done = seen.subjobs_done;
      watch.progress = mean_progress(job);
      result.events = std::move(seen.events);
      if (is_finished(watch.status)) {
        watch.predicted_end.reset();
        finish(watch, result, now);
        return result;
      }
      watch.predicted_end.reset();
      if (timing) {
        predicted = predict_end(watch, job, *timing, now, api_clock_offset);
        if (predicted) watch.predicted_end = predicted->end;
      }
      break;
    }
    case AnswerKind::rejected:
      watch.last_error = answer.describe();
      abandon(watch, result, AbandonReason::rejected, &answer, now, stored);
      return result;
    case AnswerKind::not_found:
      watch.last_error = answer.describe();
      // A job seen before and gone now is treated as a passing fault; only a
      // job never seen within the grace period is given up on.
      if (!watch.seen && now - watch.created_at >= poll.not_found_grace) {
        abandon(watch, result, AbandonReason::not_found, &answer, now, stored);
        return result;
      }
      break;
    default:
      watch.last_error = answer.describe();
      break;
  }

  if (now >= watch.deadline_at) {
    abandon(watch, result, AbandonReason::deadline, nullptr, now, stored);
    return result;
  }

  milliseconds gap{0};
  watch.gap_priceable = false;
  watch.planned_hazard = 0;
  if (predicted) {
    gap = schedule::to_millis(
        priced_gap(watch, *predicted, placed_gap(*predicted, poll), poll, budget.call_price_s));
    watch.backoff_step = 0;  // a usable answer: a later failure backs off from the start
  } else {
    gap = backoff_gap(watch, answer, poll, now + api_clock_offset, jitter_unit);
  }

  const auto to_deadline = std::chrono::duration_cast<milliseconds>(watch.deadline_at - now);
  // Not before the deadline passes; not long after not_found_grace runs out.
  gap = std::min(gap, to_deadline + milliseconds(1));
  if (answer.kind == AnswerKind::not_found && !watch.seen) {
    const auto to_grace =
        std::chrono::duration_cast<milliseconds>(watch.created_at + poll.not_found_grace - now);
    gap = std::min(gap, std::max(to_grace + milliseconds(1), poll.min_interval));
  }
  result.next_gap = std::max(gap, milliseconds(0));
  if (!watch.gap_priceable) watch.planned_gap_s = static_cast<float>(seconds(result.next_gap));
  // After a failed poll the odds stand: the job is no less likely to have
  // changed than when that poll was due.
  if (answer.kind == AnswerKind::ok) {
    // Over the gap and the wait the budget is likely to add to it: a poll
    // planned for a window's start is mostly served inside the window.
    const milliseconds horizon = result.next_gap + std::max(budget.wait, milliseconds(0));
    const double odds = change_odds(predicted, *answer.job, watch, now, api_clock_offset, horizon);
    watch.change_rate = static_cast<float>(odds / std::max(0.001, seconds(horizon)));
  }
  return result;
}

std::optional<Event> expire_if_due(Watch& watch, model::WallTime now, const StoredAnswer& stored) {
  if (now < watch.deadline_at) return std::nullopt;
  StepResult result;
  abandon(watch, result, AbandonReason::deadline, nullptr, now, stored);
  if (result.events.empty()) return std::nullopt;
  return std::move(result.events.back());
}

}  // namespace jobwatch::watch
