// Poll timing: converge on the job's estimated end, back off otherwise.
#include "jobwatch/schedule/poll_policy.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace jobwatch::schedule {

namespace {

using Millis = std::chrono::duration<double, std::milli>;

struct Bounds {
  double lo;
  double hi;
  double clamp(double ms) const { return std::clamp(ms, lo, hi); }
};

Bounds bounds_of(const PollTiming& timing) {
  const double lo = std::max(0.0, static_cast<double>(timing.min_interval.count()));
  // A max below the min (a config slip) must not invert the clamp.
  const double hi = std::max(lo, static_cast<double>(timing.max_interval.count()));
  return {lo, hi};
}

double sane_jitter(double unit) {
  if (std::isnan(unit)) return 0.5;
  return std::clamp(unit, 0.0, 1.0);
}

// min_interval * factor^step with ±25% jitter, clamped. Large steps overflow
// to infinity, which the clamp turns into max_interval.
double backoff_ms(const Bounds& b, std::uint16_t step, double factor, double jitter_unit) {
  const double base = b.lo * std::pow(factor, static_cast<double>(step));
  const double jittered = base * (0.75 + 0.5 * sane_jitter(jitter_unit));
  if (std::isnan(jittered)) return b.hi;  // 0 * inf when min_interval is 0
  return b.clamp(jittered);
}

std::uint16_t next_step(std::uint16_t step) {
  return step == std::numeric_limits<std::uint16_t>::max() ? step
                                                           : static_cast<std::uint16_t>(step + 1);
}

std::chrono::milliseconds to_gap(double ms) {
  // Rounded up: a poll aimed at the estimate should not land just before it.
  return std::chrono::milliseconds{static_cast<std::int64_t>(std::ceil(ms))};
}

}  // namespace

PolicyDecision next_poll(const PollTiming& timing, const PolicyInput& input) {
  const Bounds b = bounds_of(timing);
  switch (input.outcome) {
    case PollOutcome::progress: {
      if (input.expected_end_time && *input.expected_end_time > input.now) {
        const double remaining = Millis(*input.expected_end_time - input.now).count();
        const double half = remaining / 2;
        // Halving keeps polls converging on the estimate; once half would be
        // shorter than min_interval, aim straight at the estimate.
        const double gap = half >= b.lo ? half : remaining;
        return {to_gap(b.clamp(gap)), 0};
      }
      return {to_gap(backoff_ms(b, input.backoff_step, 1.5, input.jitter_unit)),
              next_step(input.backoff_step)};
    }
    case PollOutcome::not_found:
    case PollOutcome::failure:
      return {to_gap(backoff_ms(b, input.backoff_step, 2.0, input.jitter_unit)),
              next_step(input.backoff_step)};
    case PollOutcome::throttled: {
      const double backoff = backoff_ms(b, input.backoff_step, 2.0, input.jitter_unit);
      double advised = 0;
      if (input.retry_after) {
        advised = std::clamp(static_cast<double>(input.retry_after->count()), 0.0,
                             static_cast<double>(kMaxRetryAfter.count()));
      }
      return {to_gap(std::max(advised, backoff)), next_step(input.backoff_step)};
    }
  }
  return {to_gap(b.hi), next_step(input.backoff_step)};
}

}  // namespace jobwatch::schedule
