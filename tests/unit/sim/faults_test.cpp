#include "faults.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace jobwatch::sim {
namespace {

namespace json = boost::json;

FaultRule rule_from(std::string_view text) {
  auto r = parse_fault_rule(json::parse(text));
  if (auto* err = std::get_if<SpecError>(&r)) {
    ADD_FAILURE() << err->message;
    return {};
  }
  return std::get<FaultRule>(r);
}

bool rejected(std::string_view text) {
  return std::holds_alternative<SpecError>(parse_fault_rule(json::parse(text)));
}

TEST(SimFaultRule, Defaults) {
  const FaultRule status = rule_from(R"({"kind": "status"})");
  EXPECT_EQ(status.status, 500u);
  EXPECT_EQ(status.probability, 1.0);
  EXPECT_FALSE(status.remaining.has_value());
  EXPECT_FALSE(status.retry_after_s.has_value());

  const FaultRule throttle = rule_from(R"({"kind": "throttle"})");
  EXPECT_EQ(throttle.kind, FaultKind::throttle);
  EXPECT_EQ(throttle.status, 429u);
  EXPECT_EQ(throttle.retry_after_s, 2.0);

  const FaultRule unavailable =
      rule_from(R"({"kind": "throttle", "status": 503, "retry_after_s": 5})");
  EXPECT_EQ(unavailable.status, 503u);
  EXPECT_EQ(unavailable.retry_after_s, 5.0);

  const FaultRule slow = rule_from(R"({"kind": "slow", "delay_s": 3, "count": 2, "job_id": "j"})");
  EXPECT_EQ(slow.delay_s, 3.0);
  EXPECT_EQ(slow.remaining, 2u);
  EXPECT_EQ(slow.job_id, "j");
}

TEST(SimFaultRule, Rejections) {
  EXPECT_TRUE(rejected(R"({})"));
  EXPECT_TRUE(rejected(R"({"kind": "explode"})"));
  EXPECT_TRUE(rejected(R"({"kind": "throttle", "status": 500})"));
  EXPECT_TRUE(rejected(R"({"kind": "status", "status": 99})"));
  EXPECT_TRUE(rejected(R"({"kind": "status", "probability": 1.5})"));
  EXPECT_TRUE(rejected(R"({"kind": "status", "count": 0})"));
  EXPECT_TRUE(rejected(R"({"kind": "malformed", "variant": "odd"})"));
  EXPECT_TRUE(rejected(R"({"kind": "reset", "colour": 1})"));
}

TEST(SimFaultTable, CountedRuleIsUsedUpThenRemoved) {
  FaultTable table;
  std::mt19937_64 rng(1);
  table.add(rule_from(R"({"kind": "status", "count": 2})"));
  EXPECT_TRUE(table.pick("a", rng).has_value());
  EXPECT_TRUE(table.pick("b", rng).has_value());
  EXPECT_FALSE(table.pick("c", rng).has_value());
  EXPECT_EQ(table.size(), 0u);
}

TEST(SimFaultTable, JobFilterAndOrder) {
  FaultTable table;
  std::mt19937_64 rng(1);
  const auto only_x = table.add(rule_from(R"({"kind": "reset", "job_id": "x"})"));
  const auto everyone = table.add(rule_from(R"({"kind": "status", "status": 503})"));
  EXPECT_NE(only_x, everyone);
  EXPECT_EQ(table.pick("x", rng)->kind, FaultKind::reset);
  EXPECT_EQ(table.pick("y", rng)->kind, FaultKind::status);
  EXPECT_EQ(table.pick("x", rng)->id, only_x);
  table.clear();
  EXPECT_FALSE(table.pick("x", rng).has_value());
}

TEST(SimFaultTable, ProbabilityIsHonoured) {
  FaultTable table;
  std::mt19937_64 rng(123);
  table.add(rule_from(R"({"kind": "status", "probability": 0})"));
  for (int i = 0; i < 100; ++i) EXPECT_FALSE(table.pick("a", rng).has_value());

  table.clear();
  table.add(rule_from(R"({"kind": "status", "probability": 0.25})"));
  int fired = 0;
  for (int i = 0; i < 4000; ++i) fired += table.pick("a", rng).has_value();
  EXPECT_GT(fired, 800);
  EXPECT_LT(fired, 1200);
}

TEST(SimFaultTable, MissedRollFallsThroughToTheNextRule) {
  FaultTable table;
  std::mt19937_64 rng(1);
  table.add(rule_from(R"({"kind": "reset", "probability": 0})"));
  table.add(rule_from(R"({"kind": "slow"})"));
  EXPECT_EQ(table.pick("a", rng)->kind, FaultKind::slow);
}

TEST(SimErrorBody, ThrottleAndStatus) {
  const auto throttle = error_body_for(rule_from(R"({"kind": "throttle", "status": 503})"));
  EXPECT_EQ(throttle.at("error_code"), "APIGW.0308");
  EXPECT_EQ(throttle.at("error_msg"), "The throttling threshold has been reached");
  const auto custom =
      error_body_for(rule_from(R"({"kind": "status", "status": 403, "error_code": "X.1"})"));
  EXPECT_EQ(custom.at("error_code"), "X.1");
  EXPECT_TRUE(custom.at("error_msg").is_string());
}

TEST(SimMalformedBody, EveryVariantIsUnusable) {
  const json::object detail =
      json::parse(R"({"job_id": "1", "job_type": 1, "job_status": 2, "sub_jobs": []})").as_object();

  boost::system::error_code ec;
  json::parse(malformed_body(MalformedVariant::truncated, &detail), ec);
  EXPECT_TRUE(ec) << "a truncated body must not parse";

  const auto wrong =
      json::parse(malformed_body(MalformedVariant::wrong_types, &detail)).as_object();
  EXPECT_TRUE(wrong.at("job").at("job_status").is_string());
  EXPECT_TRUE(wrong.at("job").at("sub_jobs").is_object());

  const auto unknown =
      json::parse(malformed_body(MalformedVariant::unknown_status, nullptr)).as_object();
  EXPECT_EQ(unknown.at("job").at("job_status"), 7);
}

}  // namespace
}  // namespace jobwatch::sim
