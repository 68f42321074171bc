#include "aksk_check.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "cli.hpp"
#include "jobwatch/upstream/aksk_signer.hpp"
#include "sim_test_util.hpp"
#include "simulator.hpp"

namespace jobwatch::sim {
namespace {

namespace aksk = jobwatch::upstream::aksk;
using namespace std::chrono_literals;
using Headers = std::vector<std::pair<std::string, std::string>>;

// A GET signed as the daemon signs it, at `signed_at`.
Headers signed_headers(const std::string& target, SimTime signed_at, const std::string& sk) {
  Headers headers = {{"Host", "127.0.0.1:1"}, {"X-Sdk-Date", aksk::format_sdk_date(signed_at)}};
  aksk::MessageView message{"GET", target, {}, ""};
  for (const auto& [n, v] : headers) message.headers.emplace_back(n, v);
  headers.emplace_back("Authorization",
                       *aksk::authorization("AK", sk, message, {"host", "x-sdk-date"}));
  return headers;
}

Outcome get(Simulator& sim, const std::string& target, const Headers& headers, SimTime wall) {
  Request req;
  req.method = "GET";
  req.target = target;
  for (const auto& [n, v] : headers) req.headers.emplace_back(n, v);
  return sim.handle(req, wall);
}

std::string error_code(const Reply& reply) {
  return std::string(boost::json::parse(reply.body).at("error_code").as_string());
}

Simulator make_sim(std::chrono::seconds skew = 0s) {
  SimOptions options;
  options.aksk = AkskOptions{"AK", "SK", skew};
  return Simulator(std::move(options));
}

TEST(SimAksk, SignedRequestsPassOthersAre401) {
  Simulator sim = make_sim();
  const std::string target = "/v1/p/job/missing";
  const SimTime now = test::epoch();
  EXPECT_EQ(get(sim, target, signed_headers(target, now, "SK"), now).reply.status, 404u);

  Reply unsigned_reply = get(sim, target, {}, now).reply;
  EXPECT_EQ(unsigned_reply.status, 401u);
  EXPECT_EQ(error_code(unsigned_reply), "APIGW.0301");
  EXPECT_NE(unsigned_reply.body.find("verify aksk signature fail"), std::string::npos);

  Reply wrong_key = get(sim, target, signed_headers(target, now, "other"), now).reply;
  EXPECT_EQ(wrong_key.status, 401u);
  EXPECT_EQ(error_code(wrong_key), "APIGW.0301");
  // Dated like every answer, in the API's own clock: no skew to report.
  EXPECT_EQ(wrong_key.date, "Tue, 06 Jun 2023 02:30:06 GMT");
}

TEST(SimAksk, SkewedClockAnswers0303WithItsDate) {
  Simulator sim = make_sim(1800s);  // the gateway runs 30 min ahead
  const std::string target = "/v1/p/job/missing";
  const SimTime wall = test::epoch();
  Reply reply = get(sim, target, signed_headers(target, wall, "SK"), wall).reply;
  EXPECT_EQ(reply.status, 401u);
  EXPECT_EQ(error_code(reply), "APIGW.0303");
  EXPECT_EQ(reply.date, "Tue, 06 Jun 2023 03:00:06 GMT");
  // Signed with the gateway's time, it passes.
  EXPECT_EQ(get(sim, target, signed_headers(target, wall + 1800s, "SK"), wall).reply.status, 404u);
  // Within 15 min is fine.
  EXPECT_EQ(get(sim, target, signed_headers(target, wall + 1000s, "SK"), wall).reply.status, 404u);
}

TEST(SimAksk, V2PathsAreVerifiedAgainstThePathRequested) {
  Simulator sim = make_sim();
  const SimTime now = test::epoch();
  for (const std::string target : {"/v2/p/job/missing", "/v2/p/workspace-jobs/missing"}) {
    EXPECT_EQ(get(sim, target, signed_headers(target, now, "SK"), now).reply.status, 404u)
        << target;
    // A signature for another path does not carry over.
    const Reply moved = get(sim, target, signed_headers("/v1/p/job/missing", now, "SK"), now).reply;
    EXPECT_EQ(moved.status, 401u) << target;
    EXPECT_EQ(error_code(moved), "APIGW.0301");
  }
  const Reply swapped =
      get(sim, "/v2/p/workspace-jobs/missing", signed_headers("/v2/p/job/missing", now, "SK"), now)
          .reply;
  EXPECT_EQ(swapped.status, 401u);
}

TEST(SimAksk, CliFlags) {
  auto parsed = parse_cli(
      {"--aksk-access-key", "AK", "--aksk-secret-key-file", "/f", "--clock-skew-s", "-1800"});
  ASSERT_TRUE(std::holds_alternative<CliOptions>(parsed));
  const auto& o = std::get<CliOptions>(parsed);
  EXPECT_EQ(o.aksk_access_key, std::optional<std::string>("AK"));
  EXPECT_EQ(o.aksk_secret_key_file, std::optional<std::string>("/f"));
  EXPECT_EQ(o.clock_skew_s, -1800);
  EXPECT_TRUE(std::holds_alternative<CliError>(parse_cli({"--aksk-access-key", "AK"})));
  EXPECT_TRUE(std::holds_alternative<CliError>(parse_cli({"--clock-skew-s", "soon"})));
}

}  // namespace
}  // namespace jobwatch::sim
