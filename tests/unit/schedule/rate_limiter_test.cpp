// Token bucket on fake steady time.
#include "jobwatch/schedule/rate_limiter.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <vector>

namespace jobwatch::schedule {
namespace {

using namespace std::chrono_literals;
using Clock = RateLimiter::Clock;

const Clock::time_point kT0 = Clock::time_point{} + 1000h;

int drain(RateLimiter& limiter, Clock::time_point now) {
  int n = 0;
  while (limiter.try_acquire(now)) {
    if (++n > 1000000) break;
  }
  return n;
}

TEST(RateLimiter, StartsFullWithDefaultBurst) {
  RateLimiter limiter(10);
  EXPECT_EQ(limiter.rate(), 10);
  EXPECT_EQ(limiter.burst(), 10);
  EXPECT_EQ(drain(limiter, kT0), 10);
  EXPECT_FALSE(limiter.try_acquire(kT0));
}

TEST(RateLimiter, DefaultBurstIsAtLeastOne) {
  RateLimiter slow(0.5);
  EXPECT_EQ(slow.burst(), 1);
  EXPECT_EQ(drain(slow, kT0), 1);
  EXPECT_FALSE(slow.try_acquire(kT0 + 1s));
  EXPECT_TRUE(slow.try_acquire(kT0 + 2s));
}

TEST(RateLimiter, ExplicitBurst) {
  RateLimiter limiter(100, 3);
  EXPECT_EQ(drain(limiter, kT0), 3);
  // Refill never exceeds the burst however long it idles.
  EXPECT_EQ(drain(limiter, kT0 + 1h), 3);
}

TEST(RateLimiter, Refills) {
  RateLimiter limiter(10);
  drain(limiter, kT0);
  EXPECT_FALSE(limiter.try_acquire(kT0 + 99ms));
  EXPECT_TRUE(limiter.try_acquire(kT0 + 100ms));
  EXPECT_FALSE(limiter.try_acquire(kT0 + 100ms));
  EXPECT_EQ(drain(limiter, kT0 + 500ms), 4);
}

TEST(RateLimiter, WaitTime) {
  RateLimiter limiter(10);
  EXPECT_EQ(limiter.wait_time(kT0), 0ns);
  drain(limiter, kT0);
  EXPECT_EQ(limiter.wait_time(kT0), 100ms);
  EXPECT_EQ(limiter.wait_time(kT0 + 30ms), 70ms);
  EXPECT_EQ(limiter.wait_time(kT0 + 100ms), 0ns);
  // wait_time is only a look: it does not consume or move time.
  EXPECT_EQ(limiter.wait_time(kT0), 100ms);
}

TEST(RateLimiter, WaitingTheAdvisedTimeSucceeds) {
  RateLimiter limiter(7, 2);  // a rate that does not divide a second evenly
  Clock::time_point now = kT0;
  int acquired = 0;
  for (int i = 0; i < 1000; ++i) {
    if (!limiter.try_acquire(now)) {
      const auto wait = limiter.wait_time(now);
      ASSERT_GT(wait, 0ns);
      now += wait;
      ASSERT_TRUE(limiter.try_acquire(now)) << "iteration " << i;
    }
    ++acquired;
  }
  // 1000 tokens at 7/s with 2 up front take about (1000 - 2) / 7 s.
  const double seconds = std::chrono::duration<double>(now - kT0).count();
  EXPECT_NEAR(seconds, 998.0 / 7.0, 0.01);
  EXPECT_EQ(acquired, 1000);
}

TEST(RateLimiter, NeverMoreThanRateTimesWindowPlusBurst) {
  const double rate = 20;
  const double burst = 5;
  RateLimiter limiter(rate, burst);
  std::vector<Clock::time_point> granted;
  Clock::time_point now = kT0;
  std::uint64_t lcg = 12345;
  for (int i = 0; i < 20000; ++i) {
    lcg = lcg * 6364136223846793005ULL + 1442695040888963407ULL;
    // Bursty arrivals: mostly tight, sometimes long idle gaps.
    const auto step = (lcg >> 60) == 0 ? std::chrono::milliseconds((lcg >> 33) % 3000)
                                       : std::chrono::milliseconds((lcg >> 33) % 40);
    now += step;
    const int attempts = static_cast<int>((lcg >> 20) % 4);
    for (int a = 0; a < attempts; ++a) {
      if (limiter.try_acquire(now)) granted.push_back(now);
    }
  }
  ASSERT_GT(granted.size(), 1000u);
  for (const auto window : {0ms, 10ms, 100ms, 1000ms, 10000ms}) {
    const double allowed = rate * std::chrono::duration<double>(window).count() + burst;
    std::size_t begin = 0;
    for (std::size_t end = 0; end < granted.size(); ++end) {
      while (granted[end] - granted[begin] > window) ++begin;
      ASSERT_LE(static_cast<double>(end - begin + 1), allowed + 1e-6)
          << "window " << window.count() << "ms ending at grant " << end;
    }
  }
}

TEST(RateLimiter, SetRateKeepsTokens) {
  RateLimiter limiter(10, 5);
  limiter.set_rate(1);
  EXPECT_EQ(limiter.rate(), 1);
  EXPECT_EQ(limiter.burst(), 5);  // an explicit burst stays
  EXPECT_EQ(drain(limiter, kT0), 5);
  EXPECT_FALSE(limiter.try_acquire(kT0 + 999ms));
  EXPECT_TRUE(limiter.try_acquire(kT0 + 1s));

  limiter.set_rate(100);
  EXPECT_FALSE(limiter.try_acquire(kT0 + 1s));
  EXPECT_EQ(limiter.wait_time(kT0 + 1s), 10ms);
  EXPECT_TRUE(limiter.try_acquire(kT0 + 1s + 10ms));
}

TEST(RateLimiter, SetRateMovesADefaultBurst) {
  RateLimiter limiter(10);
  limiter.set_rate(2);
  EXPECT_EQ(limiter.burst(), 2);
  EXPECT_EQ(drain(limiter, kT0), 2);  // the 10 tokens were capped at the new burst
  limiter.set_rate(50);
  EXPECT_EQ(limiter.burst(), 50);
  // Tokens are kept, not refilled by the change itself.
  EXPECT_FALSE(limiter.try_acquire(kT0));
  EXPECT_EQ(drain(limiter, kT0 + 1s), 50);
}

TEST(RateLimiter, NonPositiveRateMeansUnlimited) {
  for (double rate : {0.0, -1.0}) {
    RateLimiter limiter(rate);
    EXPECT_EQ(drain(limiter, kT0), 1000001);
    EXPECT_EQ(limiter.wait_time(kT0), 0ns);
  }
}

TEST(RateLimiter, ClockGoingBackwardsRefillsNothing) {
  RateLimiter limiter(10, 1);
  EXPECT_TRUE(limiter.try_acquire(kT0));
  EXPECT_FALSE(limiter.try_acquire(kT0 - 1h));
  EXPECT_EQ(limiter.wait_time(kT0 - 1h), 100ms);
  EXPECT_TRUE(limiter.try_acquire(kT0 + 100ms));
}

TEST(RateLimiter, AvailableCountsTheTokensInTheBucket) {
  RateLimiter limiter(10, 5);
  EXPECT_DOUBLE_EQ(limiter.available(kT0), 5.0);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(limiter.try_acquire(kT0));
  EXPECT_DOUBLE_EQ(limiter.available(kT0), 0.0);
  EXPECT_NEAR(limiter.available(kT0 + 250ms), 2.5, 1e-9);
  EXPECT_DOUBLE_EQ(limiter.available(kT0 + 1h), 5.0);  // capped at the burst
  EXPECT_TRUE(std::isinf(RateLimiter(0).available(kT0)));
}

TEST(RateLimiter, TinyRateSaturatesWaitTime) {
  RateLimiter limiter(1e-30, 1);
  EXPECT_TRUE(limiter.try_acquire(kT0));
  EXPECT_EQ(limiter.wait_time(kT0), std::chrono::nanoseconds::max());
}

}  // namespace
}  // namespace jobwatch::schedule
