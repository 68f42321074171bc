// PollPolicy on fake time: convergence on the estimate, backoff, Retry-After.
#include "jobwatch/schedule/poll_policy.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

namespace jobwatch::schedule {
namespace {

using namespace std::chrono_literals;
using std::chrono::milliseconds;
using TimePoint = std::chrono::system_clock::time_point;

const TimePoint kT0 = TimePoint{} + std::chrono::hours(24 * 365 * 56);
const PollTiming kTiming{2s, 2min};

PolicyInput input(PollOutcome outcome, std::uint16_t step = 0, double jitter = 0.5) {
  PolicyInput in;
  in.outcome = outcome;
  in.now = kT0;
  in.backoff_step = step;
  in.jitter_unit = jitter;
  return in;
}

PolicyInput progress_towards(milliseconds remaining, std::uint16_t step = 0) {
  PolicyInput in = input(PollOutcome::progress, step);
  in.expected_end_time = kT0 + remaining;
  return in;
}

TEST(PollPolicy, ProgressHalvesTheRemainingTimeAndResetsBackoff) {
  const auto d = next_poll(kTiming, progress_towards(60s, 7));
  EXPECT_EQ(d.gap, 30s);
  EXPECT_EQ(d.backoff_step, 0);
}

TEST(PollPolicy, ProgressIsCappedAtMaxInterval) {
  EXPECT_EQ(next_poll(kTiming, progress_towards(10min)).gap, 2min);
  EXPECT_EQ(next_poll(kTiming, progress_towards(5h)).gap, 2min);
}

TEST(PollPolicy, NearTheEstimateAimsStraightAtIt) {
  // Half of 3 s is below min_interval: poll at the estimate itself.
  EXPECT_EQ(next_poll(kTiming, progress_towards(3s)).gap, 3s);
  EXPECT_EQ(next_poll(kTiming, progress_towards(4s)).gap, 2s);
  // Closer than min_interval: min_interval wins.
  EXPECT_EQ(next_poll(kTiming, progress_towards(500ms)).gap, 2s);
  EXPECT_EQ(next_poll(kTiming, progress_towards(1ms)).gap, 2s);
}

TEST(PollPolicy, GapsShrinkApproachingTheEstimate) {
  const milliseconds estimate = 10min;
  TimePoint now = kT0;
  milliseconds previous = milliseconds::max();
  int guard = 0;
  while (now < kT0 + estimate && ++guard < 100) {
    PolicyInput in = input(PollOutcome::progress);
    in.now = now;
    in.expected_end_time = kT0 + estimate;
    const auto d = next_poll(kTiming, in);
    EXPECT_LE(d.gap, previous);
    EXPECT_GE(d.gap, kTiming.min_interval);
    EXPECT_LE(d.gap, kTiming.max_interval);
    previous = d.gap;
    now += d.gap;
  }
  // The first poll at or after the estimate is within min_interval of it.
  EXPECT_GE(now, kT0 + estimate);
  EXPECT_LT(now - (kT0 + estimate), kTiming.min_interval);
}

TEST(PollPolicy, TenMinuteEstimateCostsAFewPolls) {
  const milliseconds estimate = 10min;
  TimePoint now = kT0;
  int polls = 1;  // the engine's immediate first poll, at kT0
  while (now < kT0 + estimate) {
    PolicyInput in = input(PollOutcome::progress);
    in.now = now;
    in.expected_end_time = kT0 + estimate;
    now += next_poll(kTiming, in).gap;
    ++polls;  // the poll at `now`
  }
  // 0, 2m, 4m, 6m, 8m, 9m, 9.5m, 9m45s, 9m52.5s, 9m56.25s, 10m.
  EXPECT_EQ(polls, 11);
  EXPECT_EQ(now, kT0 + estimate);
}

TEST(PollPolicy, NoEstimateBacksOffByOneAndAHalf) {
  const std::vector<milliseconds> expected{2000ms, 3000ms, 4500ms, 6750ms, 10125ms};
  for (std::uint16_t step = 0; step < expected.size(); ++step) {
    const auto d = next_poll(kTiming, input(PollOutcome::progress, step, 0.5));
    EXPECT_EQ(d.gap, expected[step]) << "step " << step;
    EXPECT_EQ(d.backoff_step, step + 1);
  }
  EXPECT_EQ(next_poll(kTiming, input(PollOutcome::progress, 30)).gap, 2min);
}

TEST(PollPolicy, PassedEstimateBacksOffLikeNoEstimate) {
  PolicyInput in = input(PollOutcome::progress, 2);
  in.expected_end_time = kT0 - 1s;
  const auto d = next_poll(kTiming, in);
  EXPECT_EQ(d.gap, 4500ms);
  EXPECT_EQ(d.backoff_step, 3);
  in.expected_end_time = kT0;  // exactly now counts as passed
  EXPECT_EQ(next_poll(kTiming, in).gap, 4500ms);
}

TEST(PollPolicy, FailureAndNotFoundBackOffByTwo) {
  for (auto outcome : {PollOutcome::failure, PollOutcome::not_found}) {
    EXPECT_EQ(next_poll(kTiming, input(outcome, 0)).gap, 2s);
    EXPECT_EQ(next_poll(kTiming, input(outcome, 1)).gap, 4s);
    EXPECT_EQ(next_poll(kTiming, input(outcome, 3)).gap, 16s);
    EXPECT_EQ(next_poll(kTiming, input(outcome, 6)).gap, 2min);  // 128 s capped
    EXPECT_EQ(next_poll(kTiming, input(outcome, 3)).backoff_step, 4);
  }
}

TEST(PollPolicy, BackoffIgnoresTheEstimateOnFailure) {
  PolicyInput in = input(PollOutcome::failure, 2);
  in.expected_end_time = kT0 + 1h;
  EXPECT_EQ(next_poll(kTiming, in).gap, 8s);
}

TEST(PollPolicy, JitterStaysWithinAQuarter) {
  // step 3, factor 2: base 16 s.
  EXPECT_EQ(next_poll(kTiming, input(PollOutcome::failure, 3, 0.0)).gap, 12s);
  const auto high =
      next_poll(kTiming, input(PollOutcome::failure, 3, std::nextafter(1.0, 0.0))).gap;
  EXPECT_LE(high, 20s);
  EXPECT_GE(high, 19999ms);
  for (double j = 0; j < 1; j += 0.01) {
    const auto gap = next_poll(kTiming, input(PollOutcome::failure, 3, j)).gap;
    EXPECT_GE(gap, 12s);
    EXPECT_LE(gap, 20s);
  }
  // Out-of-range samples are clamped, not trusted.
  EXPECT_EQ(next_poll(kTiming, input(PollOutcome::failure, 3, -5)).gap, 12s);
  EXPECT_EQ(next_poll(kTiming, input(PollOutcome::failure, 3, 7)).gap, 20s);
  EXPECT_EQ(next_poll(kTiming, input(PollOutcome::failure, 3, std::nan(""))).gap, 16s);
}

TEST(PollPolicy, GapsStayWithinMinAndMax) {
  const std::vector<std::optional<milliseconds>> offsets{std::nullopt, -1h, 0ms,  1ms, 1s,
                                                         3s,           10s, 5min, 48h};
  for (auto outcome : {PollOutcome::progress, PollOutcome::not_found, PollOutcome::failure,
                       PollOutcome::throttled}) {
    for (std::uint16_t step : {0, 1, 2, 5, 10, 40, 1000, 65535}) {
      for (double jitter : {0.0, 0.3, 0.999999}) {
        for (const auto& offset : offsets) {
          PolicyInput in = input(outcome, step, jitter);
          if (offset) in.expected_end_time = kT0 + *offset;
          const auto d = next_poll(kTiming, in);
          EXPECT_GE(d.gap, kTiming.min_interval);
          EXPECT_LE(d.gap, kTiming.max_interval);
        }
      }
    }
  }
}

TEST(PollPolicy, BackoffStepSaturates) {
  const auto top = std::numeric_limits<std::uint16_t>::max();
  const auto d = next_poll(kTiming, input(PollOutcome::failure, top));
  EXPECT_EQ(d.backoff_step, top);
  EXPECT_EQ(d.gap, 2min);
}

TEST(PollPolicy, ThrottledHonoursRetryAfter) {
  PolicyInput in = input(PollOutcome::throttled, 0);
  in.retry_after = 30s;
  auto d = next_poll(kTiming, in);
  EXPECT_EQ(d.gap, 30s);
  EXPECT_EQ(d.backoff_step, 1);

  // Beyond max_interval: still obeyed.
  in.retry_after = 4min;
  EXPECT_EQ(next_poll(kTiming, in).gap, 4min);
  // But capped at five minutes.
  in.retry_after = 1h;
  EXPECT_EQ(next_poll(kTiming, in).gap, kMaxRetryAfter);
  EXPECT_EQ(kMaxRetryAfter, 5min);
}

TEST(PollPolicy, ThrottledTakesTheLongerOfRetryAfterAndBackoff) {
  PolicyInput in = input(PollOutcome::throttled, 3);  // backoff 16 s
  in.retry_after = 3s;
  EXPECT_EQ(next_poll(kTiming, in).gap, 16s);
  in.retry_after = std::nullopt;
  EXPECT_EQ(next_poll(kTiming, in).gap, 16s);
  // A tiny Retry-After never goes below min_interval.
  in = input(PollOutcome::throttled, 0, 0.0);
  in.retry_after = 100ms;
  EXPECT_EQ(next_poll(kTiming, in).gap, 2s);
  in.retry_after = -5s;
  EXPECT_EQ(next_poll(kTiming, in).gap, 2s);
}

TEST(PollPolicy, InvertedBoundsDoNotInvertTheClamp) {
  const PollTiming odd{10s, 1s};
  EXPECT_EQ(next_poll(odd, input(PollOutcome::failure, 5)).gap, 10s);
  EXPECT_EQ(next_poll(odd, progress_towards(1h)).gap, 10s);
}

}  // namespace
}  // namespace jobwatch::schedule
