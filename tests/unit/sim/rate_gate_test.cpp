// The simulator's global rate limit (--rate-limit): the gate itself, the 429
// the API answers beyond it, its counters and its flag.
#include "rate_gate.hpp"

#include <boost/json/parse.hpp>

#include "cli.hpp"
#include "sim_test_util.hpp"
#include "simulator.hpp"

namespace jobwatch::sim {
namespace {

using test::at;
namespace json = boost::json;

TEST(SimRateGate, BurstThenRate) {
  RateGate gate(20);
  int admitted = 0;
  for (int i = 0; i < 100; ++i) admitted += gate.admit(at(0)) ? 1 : 0;
  EXPECT_EQ(admitted, 20);
  EXPECT_EQ(gate.refused(), 80u);
  // One token per 50 ms.
  EXPECT_FALSE(gate.admit(at(0.049)));
  EXPECT_TRUE(gate.admit(at(0.050)));
  EXPECT_FALSE(gate.admit(at(0.050)));
  // Over a second at the limit, 20 pass.
  admitted = 0;
  for (int ms = 51; ms <= 1050; ++ms) admitted += gate.admit(at(ms / 1000.0)) ? 1 : 0;
  EXPECT_EQ(admitted, 20);
}

TEST(SimRateGate, IdleTimeRefillsOnlyUpToTheBurst) {
  RateGate gate(5);
  while (gate.admit(at(0))) {
  }
  int admitted = 0;
  for (int i = 0; i < 50; ++i) admitted += gate.admit(at(100)) ? 1 : 0;
  EXPECT_EQ(admitted, 5);
}

TEST(SimRateGate, ClockStepBackRefillsNothing) {
  RateGate gate(1);
  EXPECT_TRUE(gate.admit(at(10)));
  EXPECT_FALSE(gate.admit(at(5)));
  EXPECT_FALSE(gate.admit(at(10.5)));
  EXPECT_TRUE(gate.admit(at(11)));
}

TEST(SimRateGate, ApiAnswers429BeyondTheLimit) {
  SimOptions options;
  options.rate_limit = 2;
  Simulator sim(std::move(options));
  sim.handle(Request{"POST", "/admin/jobs", R"({"job_id": "j1"})", std::nullopt}, at(0));
  auto get = [&](double t) { return sim.handle(Request{"GET", "/v1/p/job/j1", {}, {}}, at(t)); };
  EXPECT_EQ(get(1).reply.status, 200u);
  EXPECT_EQ(get(1).reply.status, 200u);
  const Reply refused = get(1).reply;
  EXPECT_EQ(refused.status, 429u);
  ASSERT_TRUE(refused.retry_after_s.has_value());
  EXPECT_EQ(*refused.retry_after_s, 1u);
  const json::value body = json::parse(refused.body);
  EXPECT_EQ(body.at("error_code").as_string(), "APIGW.0308");
  EXPECT_EQ(body.at("error_msg").as_string(),
            "The throttling threshold has been reached: policy ip over ratelimit");
  // Admin requests are not limited.
  const Reply stats = sim.handle(Request{"GET", "/admin/stats", {}, {}}, at(1)).reply;
  EXPECT_EQ(stats.status, 200u);
  const json::value s = json::parse(stats.body);
  EXPECT_EQ(s.at("by_status").at("429").to_number<int>(), 1);
  EXPECT_EQ(s.at("by_status").at("200").to_number<int>(), 2);
  EXPECT_EQ(s.at("rate_limited").to_number<int>(), 1);
  EXPECT_EQ(s.at("rate_limit").to_number<double>(), 2.0);
  EXPECT_EQ(get(1.5).reply.status, 200u);  // refilled
}

TEST(SimRateGate, NoLimitByDefault) {
  Simulator sim(SimOptions{});
  sim.handle(Request{"POST", "/admin/jobs", R"({"job_id": "j1"})", std::nullopt}, at(0));
  for (int i = 0; i < 500; ++i)
    ASSERT_EQ(sim.handle(Request{"GET", "/v1/p/job/j1", {}, {}}, at(1)).reply.status, 200u);
  const json::value s =
      json::parse(sim.handle(Request{"GET", "/admin/stats", {}, {}}, at(1)).reply.body);
  EXPECT_EQ(s.as_object().if_contains("rate_limited"), nullptr);
}

TEST(SimRateGate, CliFlag) {
  auto ok = parse_cli({"--rate-limit", "20"});
  ASSERT_TRUE(std::holds_alternative<CliOptions>(ok));
  EXPECT_EQ(std::get<CliOptions>(ok).rate_limit, 20.0);
  auto fractional = parse_cli({"--rate-limit=0.5"});
  ASSERT_TRUE(std::holds_alternative<CliOptions>(fractional));
  EXPECT_EQ(std::get<CliOptions>(fractional).rate_limit, 0.5);
  EXPECT_FALSE(std::get<CliOptions>(parse_cli({})).rate_limit.has_value());
  for (const char* bad : {"0", "-1", "x", "5/s", ""})
    EXPECT_TRUE(std::holds_alternative<CliError>(parse_cli({"--rate-limit", bad}))) << bad;
  EXPECT_TRUE(std::holds_alternative<CliError>(parse_cli({"--rate-limit"})));
}

}  // namespace
}  // namespace jobwatch::sim
