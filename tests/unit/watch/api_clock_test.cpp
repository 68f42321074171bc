// The API's clock learned from Date headers: whole seconds and latency only
// ever make a sample read low, so the estimate is the largest recent sample
// plus the expected shortfall.
#include "jobwatch/watch/api_clock.hpp"

#include <gtest/gtest.h>

#include <random>

namespace jobwatch::watch {
namespace {

using namespace std::chrono_literals;
using std::chrono::milliseconds;
using std::chrono::system_clock;

const model::WallTime kHost = *model::parse_rfc3339("2026-01-01T10:00:00Z");

// The Date a server whose clock is `offset` ahead of ours sends at our
// `sent`: its time then, cut to the whole second.
system_clock::time_point date_at(model::WallTime sent, milliseconds offset) {
  return std::chrono::floor<std::chrono::seconds>(system_clock::time_point(sent + offset));
}

TEST(ApiClock, ZeroUntilADateCame) {
  ApiClock clock;
  EXPECT_EQ(clock.offset(), 0ms);
  EXPECT_EQ(clock.samples(), 0u);
}

TEST(ApiClock, OneDateIsTakenAsTheMiddleOfItsSecond) {
  ApiClock clock;
  clock.observe(date_at(kHost, 1h), kHost);
  EXPECT_EQ(clock.offset(), 1h + 500ms);
}

TEST(ApiClock, ManyAnswersConvergeOnTheOffsetWhateverTheLatency) {
  for (const milliseconds offset :
       {milliseconds(3'600'000), milliseconds(-3'600'250), 0ms, 700ms}) {
    ApiClock clock;
    std::mt19937_64 rng(5);
    std::uniform_int_distribution<int> spread(0, 999), latency(1, 40);
    model::WallTime t = kHost;
    for (int i = 0; i < 40; ++i) {
      t += milliseconds(spread(rng));
      const model::WallTime received = t + milliseconds(latency(rng));
      clock.observe(date_at(t, offset), received);
      // Never more than the second's resolution off, from the first answer.
      EXPECT_LE(std::abs((clock.offset() - offset).count()), 1000) << offset.count();
    }
    EXPECT_LE(std::abs((clock.offset() - offset).count()), 250) << offset.count();
  }
}

TEST(ApiClock, ASlowAnswerDoesNotPullTheEstimate) {
  ApiClock clock;
  for (int i = 0; i < 15; ++i) {
    const model::WallTime sent = kHost + milliseconds(i * 137);
    clock.observe(date_at(sent, 10s), sent + 5ms);
  }
  clock.observe(date_at(kHost + 3s, 10s), kHost + 3s + 4s);  // answered 4 s late
  // A mean of the sixteen would be a quarter of a second low.
  EXPECT_LE(std::abs((clock.offset() - 10s).count()), 100);
}

TEST(ApiClock, FollowsAClockSteppedAheadAtOnceAndBackWithinTheWindow) {
  ApiClock clock;
  model::WallTime t = kHost;
  const auto answers = [&](int n, milliseconds offset) {
    for (int i = 0; i < n; ++i) {
      t += 321ms;
      clock.observe(date_at(t, offset), t);
    }
  };
  answers(16, 0s);
  answers(1, 1h);
  EXPECT_GE(clock.offset(), 1h - 1s);
  answers(16, 0s);
  EXPECT_LE(std::abs(clock.offset().count()), 1000);
}

TEST(ApiClocks, EachServiceHostHasItsOwn) {
  ApiClocks clocks;
  clocks.observe(model::Api::app_v1, date_at(kHost, 1h), kHost);
  clocks.observe(model::Api::desktop_v2, std::nullopt, kHost);  // no Date: nothing learned
  EXPECT_EQ(clocks.offset(model::Api::app_v2), 1h + 500ms);     // the same host as app-v1
  EXPECT_EQ(clocks.offset(model::Api::desktop_v2), 0ms);
  clocks.observe(model::Api::desktop_v2, date_at(kHost, -2h), kHost);
  EXPECT_EQ(clocks.offset(model::Api::desktop_v2), -2h + 500ms);
  EXPECT_EQ(clocks.of(model::Service::app_streaming).samples(), 1u);
}

}  // namespace
}  // namespace jobwatch::watch
