// The simulator's fake IAM: issuing tokens for the configured credentials,
// requiring a live one on the API, expire-all, counters, the CLI flags.
#include <boost/json/parse.hpp>

#include "cli.hpp"
#include "sim_test_util.hpp"
#include "simulator.hpp"

namespace jobwatch::sim {
namespace {

using test::at;
namespace json = boost::json;

std::string token_body(std::string_view password, std::string_view project = "proj") {
  return R"({"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"alice",)"
         R"("password":")" +
         std::string(password) +
         R"(","domain":{"name":"dom"}}}},)"
         R"("scope":{"project":{"id":")" +
         std::string(project) + R"("}}}})";
}

class SimIamTest : public ::testing::Test {
 protected:
  Reply call(std::string_view method, std::string_view target, std::string_view body, double t,
             std::optional<std::string_view> token = std::nullopt) {
    const Outcome o = sim_.handle(Request{method, target, body, token}, at(t));
    EXPECT_EQ(o.action, Outcome::Action::reply);
    return o.reply;
  }

  static SimOptions options() {
    SimOptions o;
    o.seed = 7;
    o.iam = IamOptions{"alice", "dom", "pw", Millis{8000}};
    return o;
  }
  Simulator sim_{options()};
};

TEST_F(SimIamTest, IssuesTokensThatTheApiAcceptsUntilTheyExpire) {
  call("POST", "/admin/jobs", R"({"job_id": "j1", "duration_s": 100})", 0);
  const Reply issued = call("POST", "/v3/auth/tokens", token_body("pw"), 0);
  ASSERT_EQ(issued.status, 201u) << issued.body;
  ASSERT_FALSE(issued.subject_token.empty());
  const auto body = json::parse(issued.body);
  EXPECT_EQ(body.at("token").at("expires_at").as_string(), "2023-06-06T02:30:14Z");
  EXPECT_EQ(body.at("token").at("project").at("id").as_string(), "proj");

  EXPECT_EQ(call("GET", "/v1/proj/job/j1", {}, 1, issued.subject_token).status, 200u);
  EXPECT_EQ(call("GET", "/v1/proj/job/j1", {}, 1).status, 401u);
  EXPECT_EQ(call("GET", "/v1/proj/job/j1", {}, 1, "made-up").status, 401u);
  const Reply expired = call("GET", "/v1/proj/job/j1", {}, 8.5, issued.subject_token);
  EXPECT_EQ(expired.status, 401u);
  EXPECT_NE(expired.body.find("APIGW.0301"), std::string::npos) << expired.body;
  EXPECT_NE(expired.body.find("token expired"), std::string::npos) << expired.body;
}

TEST_F(SimIamTest, RefusesWrongCredentialsAndUnscopedRequests) {
  const Reply wrong = call("POST", "/v3/auth/tokens", token_body("nope"), 0);
  EXPECT_EQ(wrong.status, 401u);
  EXPECT_TRUE(wrong.subject_token.empty());
  EXPECT_NE(wrong.body.find("\"error\""), std::string::npos) << wrong.body;
  EXPECT_EQ(call("POST", "/v3/auth/tokens", token_body("pw", ""), 0).status, 400u);
  EXPECT_EQ(call("POST", "/v3/auth/tokens", "{", 0).status, 400u);
  EXPECT_EQ(call("GET", "/v3/auth/tokens", {}, 0).status, 405u);
}

TEST_F(SimIamTest, ExpireAllAndCounters) {
  call("POST", "/admin/jobs", R"({"job_id": "j1", "duration_s": 100})", 0);
  const Reply a = call("POST", "/v3/auth/tokens", token_body("pw"), 0);
  call("POST", "/v3/auth/tokens", token_body("wrong"), 0);
  const auto expired = json::parse(call("POST", "/admin/iam/expire-all", {}, 1).body);
  EXPECT_EQ(expired.at("expired").to_number<std::uint64_t>(), 1u);
  EXPECT_EQ(call("GET", "/v1/proj/job/j1", {}, 1, a.subject_token).status, 401u);
  const auto stats = json::parse(call("GET", "/admin/stats", {}, 1).body);
  EXPECT_EQ(stats.at("iam_tokens_issued").to_number<std::uint64_t>(), 1u);
  EXPECT_EQ(stats.at("iam_requests").to_number<std::uint64_t>(), 2u);
}

TEST(SimIamOff, NoIamRoutesWithoutTheFlags) {
  Simulator sim{SimOptions{std::nullopt, 7, {}}};
  const Outcome o = sim.handle(Request{"POST", "/admin/iam/expire-all", {}, std::nullopt}, at(0));
  EXPECT_EQ(o.reply.status, 404u);
  const Outcome stats = sim.handle(Request{"GET", "/admin/stats", {}, std::nullopt}, at(0));
  EXPECT_EQ(stats.reply.body.find("iam_"), std::string::npos);
}

TEST(SimIamCli, Flags) {
  auto parsed = parse_cli({"--iam-user", "u", "--iam-domain", "d", "--iam-password-file", "/f",
                           "--iam-token-ttl-s", "8"});
  ASSERT_EQ(parsed.index(), 0u) << std::get<CliError>(parsed).message;
  const auto& o = std::get<CliOptions>(parsed);
  EXPECT_EQ(*o.iam_user, "u");
  EXPECT_EQ(*o.iam_domain, "d");
  EXPECT_EQ(*o.iam_password_file, "/f");
  EXPECT_EQ(o.iam_token_ttl_s, 8u);
  EXPECT_EQ(parse_cli({"--iam-user", "u"}).index(), 1u);
  EXPECT_EQ(parse_cli({"--iam-user", "u", "--iam-domain", "d", "--iam-password-file", "/f",
                       "--iam-token-ttl-s", "0"})
                .index(),
            1u);
}

}  // namespace
}  // namespace jobwatch::sim
