// When to poll a job next: a pure function of the last answer, the job's
// estimated end and the watch's backoff step. No clock, no randomness of its
// own: the caller passes `now` and a jitter sample.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

namespace jobwatch::schedule {

// What the last poll told us, reduced to what matters for timing.
enum class PollOutcome {
  progress,   // a usable 200 (job still running)
  not_found,  // 404 before the job became visible
  throttled,  // 429 / 503: the API asks us to slow down
  failure,    // 5xx, timeout, reset, malformed body, 401
};

struct PollTiming {
  std::chrono::milliseconds min_interval{2000};
  std::chrono::milliseconds max_interval{120000};
};

struct PolicyInput {
  PollOutcome outcome = PollOutcome::progress;
  std::chrono::system_clock::time_point now;
  std::optional<std::chrono::system_clock::time_point> expected_end_time;
  std::optional<std::chrono::milliseconds> retry_after;  // only read for `throttled`
  std::uint16_t backoff_step = 0;
  double jitter_unit = 0.5;  // uniform in [0, 1), drawn by the caller
};

struct PolicyDecision {
  std::chrono::milliseconds gap;  // from `now` to the next poll
  std::uint16_t backoff_step;     // to store on the watch for the next call
};

// Retry-After beyond this is treated as a mistake, not as advice.
inline constexpr std::chrono::milliseconds kMaxRetryAfter = std::chrono::minutes(5);

// The gap after a poll. The first poll of a watch is not decided here: the
// engine issues it at once.
//  - progress, estimate ahead: halve the remaining time (never below
//    min_interval), so polls converge on the estimate; resets the backoff.
//  - progress, no estimate or estimate passed: backoff by 1.5 per step.
//  - failure, not_found: backoff by 2 per step.
//  - throttled: the larger of Retry-After (capped at kMaxRetryAfter, and
//    allowed past max_interval) and the factor-2 backoff.
// Backoff gaps are min_interval * factor^step, jittered by ±25%, then
// clamped to [min_interval, max_interval]. Only Retry-After leaves that range.
PolicyDecision next_poll(const PollTiming& timing, const PolicyInput& input);

}  // namespace jobwatch::schedule
