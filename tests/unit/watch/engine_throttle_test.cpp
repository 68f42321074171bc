// The engine slows its shared request rate on 429/503 (SPEC §1) and shows
// the effective and configured rates in its stats.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "engine_fixture.hpp"
#include "jobwatch/watch/engine.hpp"

namespace jobwatch::watch {
namespace {

using namespace std::chrono_literals;
using testing::http_answer;
using testing::job_answer;
using testing::ScriptedApi;

config::Config throttle_config() {
  config::Config c;
  c.api.rate_limit = 100;
  c.api.max_connections = 4;
  c.poll.min_interval = 5ms;
  c.poll.max_interval = 20ms;
  c.poll.default_deadline = 60s;
  return c;
}

using EngineThrottleTest = EngineFixture;

TEST_F(EngineThrottleTest, RatesInStatsBeforeAnyThrottling) {
  make_engine(throttle_config());
  EXPECT_EQ(polls_stat("rate_limit"), 100);
  EXPECT_EQ(polls_stat("rate_limit_configured"), 100);
  EXPECT_EQ(polls_stat("throttled_total"), 0);
}

TEST_F(EngineThrottleTest, TooManyRequestsLowersTheSharedRate) {
  const std::string body = R"({"error_code":"APIGW.0308","error_msg":"throttled"})";
  api_.script("t1",
              [body](int n) { return n == 0 ? http_answer(429, body) : job_answer("t1", 2); });
  make_engine(throttle_config());
  watch({"t1"});
  run_until([&] { return api_.fetches("t1") >= 1 && polls_stat("throttled_total") >= 1; });
  EXPECT_EQ(polls_stat("throttled_total"), 1);
  EXPECT_EQ(polls_stat("rate_limit_configured"), 100);
  const double lowered = polls_stat("rate_limit");
  EXPECT_LT(lowered, 100);
  EXPECT_GE(lowered, 70);  // one cut of x0.7, maybe a little recovery
}

TEST_F(EngineThrottleTest, ServiceUnavailableLowersTheSharedRateToo) {
  api_.script("u1", [](int n) { return n == 0 ? http_answer(503) : job_answer("u1", 2); });
  make_engine(throttle_config());
  watch({"u1"});
  run_until([&] { return polls_stat("throttled_total") >= 1; });
  EXPECT_EQ(polls_stat("throttled_total"), 1);
  EXPECT_LT(polls_stat("rate_limit"), 100);
}

TEST_F(EngineThrottleTest, ServerErrorsDoNotLowerTheRate) {
  api_.script("e1", [](int n) { return n < 3 ? http_answer(500) : job_answer("e1", 1); });
  make_engine(throttle_config());
  watch({"e1"});
  run_until([&] { return engine_->finished({project, "e1"}).has_value(); });
  ASSERT_TRUE(engine_->finished({project, "e1"}).has_value());
  EXPECT_EQ(polls_stat("throttled_total"), 0);
  EXPECT_EQ(polls_stat("rate_limit"), 100);
}

TEST_F(EngineThrottleTest, ReconfigureSetsTheConfiguredRate) {
  api_.script("r1", [](int n) { return n == 0 ? http_answer(429) : job_answer("r1", 2); });
  make_engine(throttle_config());
  watch({"r1"});
  run_until([&] { return polls_stat("throttled_total") >= 1; });
  auto c = throttle_config();
  c.api.rate_limit = 10;
  engine_->reconfigure(c);
  EXPECT_EQ(polls_stat("rate_limit_configured"), 10);
  EXPECT_LE(polls_stat("rate_limit"), 10);
}

}  // namespace
}  // namespace jobwatch::watch
