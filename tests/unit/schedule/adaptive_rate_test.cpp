// AIMD of the shared request rate on fake steady time.
#include "jobwatch/schedule/adaptive_rate.hpp"

#include <gtest/gtest.h>

#include <limits>

namespace jobwatch::schedule {
namespace {

using namespace std::chrono_literals;
using Clock = AdaptiveRate::Clock;

const Clock::time_point kT0 = Clock::time_point{} + 1000h;

TEST(AdaptiveRate, StartsAtTheConfiguredRate) {
  AdaptiveRate rate(100);
  EXPECT_DOUBLE_EQ(rate.rate(), 100);
  EXPECT_DOUBLE_EQ(rate.update(kT0), 100);
  EXPECT_DOUBLE_EQ(rate.update(kT0 + 10s), 100);
  EXPECT_FALSE(rate.adapted());
}

TEST(AdaptiveRate, ThrottledAnswerCutsMultiplicatively) {
  AdaptiveRate rate(100);
  EXPECT_TRUE(rate.on_throttled(kT0));
  EXPECT_DOUBLE_EQ(rate.rate(), 70);
  EXPECT_TRUE(rate.adapted());
  EXPECT_EQ(rate.throttled_total(), 1u);
  EXPECT_EQ(rate.decreases(), 1u);
}

TEST(AdaptiveRate, BurstOfThrottledAnswersCutsOncePerWindow) {
  AdaptiveRate rate(100);
  EXPECT_TRUE(rate.on_throttled(kT0));
  for (int i = 1; i < 50; ++i) EXPECT_FALSE(rate.on_throttled(kT0 + i * 10ms));
  EXPECT_EQ(rate.throttled_total(), 50u);
  EXPECT_EQ(rate.decreases(), 1u);
  // 0.49 s of the additive increase (+5/s) happened meanwhile.
  EXPECT_NEAR(rate.rate(), 70 + 0.49 * 5, 1e-9);
  // The next window cuts again.
  EXPECT_TRUE(rate.on_throttled(kT0 + 1s));
  EXPECT_NEAR(rate.rate(), (70 + 5) * 0.7, 1e-9);
  EXPECT_EQ(rate.decreases(), 2u);
}

TEST(AdaptiveRate, NeverFallsBelowTheFloor) {
  AdaptiveRateParams no_recovery;
  no_recovery.increase_fraction_per_s = 0;
  AdaptiveRate fast(100, no_recovery);  // floor max(0.2, 100/100) = 1
  EXPECT_DOUBLE_EQ(fast.floor(), 1);
  for (int i = 0; i < 100; ++i) fast.on_throttled(kT0 + i * 1s);
  EXPECT_DOUBLE_EQ(fast.rate(), 1);

  AdaptiveRate slow(5, no_recovery);  // floor max(0.2, 0.05) = 0.2
  EXPECT_DOUBLE_EQ(slow.floor(), 0.2);
  for (int i = 0; i < 100; ++i) slow.on_throttled(kT0 + i * 1s);
  EXPECT_DOUBLE_EQ(slow.rate(), 0.2);

  AdaptiveRate tiny(0.1);  // the floor never exceeds the configured rate
  EXPECT_DOUBLE_EQ(tiny.floor(), 0.1);
  tiny.on_throttled(kT0);
  EXPECT_DOUBLE_EQ(tiny.rate(), 0.1);
}

TEST(AdaptiveRate, ThrottlingEverySecondHoldsWellAboveTheFloor) {
  // Cut once a second, +5/s between: the fixed point r = 0.7 (r + 5).
  AdaptiveRate rate(100);
  for (int i = 0; i < 100; ++i) rate.on_throttled(kT0 + i * 1s);
  EXPECT_NEAR(rate.rate(), 3.5 / 0.3, 1e-6);
}

TEST(AdaptiveRate, RecoversAdditivelyToTheConfiguredRate) {
  AdaptiveRate rate(100);
  rate.on_throttled(kT0);
  rate.on_throttled(kT0 + 1s);  // 75 * 0.7 = 52.5
  EXPECT_NEAR(rate.rate(), 52.5, 1e-9);
  EXPECT_NEAR(rate.update(kT0 + 2s), 57.5, 1e-9);
  EXPECT_NEAR(rate.update(kT0 + 5s), 72.5, 1e-9);
  EXPECT_DOUBLE_EQ(rate.update(kT0 + 60s), 100);  // capped
  EXPECT_FALSE(rate.adapted());
}

TEST(AdaptiveRate, ClockStepBackRaisesNothing) {
  AdaptiveRate rate(100);
  rate.on_throttled(kT0 + 10s);
  EXPECT_DOUBLE_EQ(rate.update(kT0), 70);
  EXPECT_DOUBLE_EQ(rate.update(kT0 + 10s), 70);
  EXPECT_NEAR(rate.update(kT0 + 11s), 75, 1e-9);
}

TEST(AdaptiveRate, SteadyOverloadSettlesNearTheCapacity) {
  // A fluid model of an API that takes 20/s: every second the rate is above
  // the capacity, a throttled answer comes back.
  AdaptiveRate rate(100);
  double sum = 0;
  int samples = 0;
  for (int ms = 0; ms < 120'000; ms += 10) {
    const auto now = kT0 + std::chrono::milliseconds(ms);
    if (rate.update(now) > 20) rate.on_throttled(now);
    if (ms >= 30'000) {
      sum += rate.rate();
      ++samples;
    }
  }
  const double mean = sum / samples;
  EXPECT_GT(mean, 12);
  EXPECT_LT(mean, 22);
}

TEST(AdaptiveRate, ReconfigureFollowsUnlessAdapted) {
  AdaptiveRate rate(100);
  rate.set_configured(50);
  EXPECT_DOUBLE_EQ(rate.rate(), 50);
  rate.set_configured(200);
  EXPECT_DOUBLE_EQ(rate.rate(), 200);

  rate.on_throttled(kT0);  // 140
  rate.set_configured(300);
  EXPECT_DOUBLE_EQ(rate.rate(), 140);  // recovers towards 300 from here
  EXPECT_NEAR(rate.update(kT0 + 2s), 140 + 2 * 15, 1e-9);
  rate.set_configured(100);
  EXPECT_DOUBLE_EQ(rate.rate(), 100);  // capped at the new rate
  EXPECT_DOUBLE_EQ(rate.configured(), 100);
}

TEST(AdaptiveRate, NoLimitIsNeverAdapted) {
  const double inf = std::numeric_limits<double>::infinity();
  AdaptiveRate rate(inf);
  EXPECT_FALSE(rate.on_throttled(kT0));
  EXPECT_EQ(rate.rate(), inf);
  EXPECT_EQ(rate.throttled_total(), 1u);
  AdaptiveRate zero(0);
  EXPECT_FALSE(zero.on_throttled(kT0));
  EXPECT_EQ(zero.rate(), 0);
}

}  // namespace
}  // namespace jobwatch::schedule
