// iam-password auth against an in-process fake IAM (and fake API on the
// same port): tokens, single flight, refresh ahead of expiry and after a
// 401, backoff after failures, and no secret in anything shown.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "jobwatch/config/config.hpp"
#include "jobwatch/model/time.hpp"
#include "jobwatch/upstream/http_job_api.hpp"
#include "jobwatch/upstream/iam_password.hpp"
#include "upstream/fake_http_server.hpp"
#include "upstream/test_support.hpp"

namespace jobwatch::upstream {
namespace {

using namespace std::chrono_literals;
using namespace jobwatch::testing;
using iam::Clock;

const std::string password = "pa55-w0rd-SECRET";
const std::string job_body = R"({"job": {"job_id": "job1", "job_type": 1, "job_status": 2}})";

class IamAuthTest : public ::testing::Test {
 protected:
  Action handle(const FakeRequest& r) {
    if (r.message.target() == "/v3/auth/tokens") {
      iam_bodies.push_back(r.message.body());
      if (iam_status != 201) {
        return respond_json(iam_status, R"({"error":{"code":"401","message":"The username or )"
                                        R"(password is wrong.","title":"Unauthorized"}})");
      }
      valid_token = "tok-" + std::to_string(iam_bodies.size()) + "-SECRET";
      auto expires = std::chrono::time_point_cast<std::chrono::milliseconds>(now + ttl);
      return respond_json(
          201, R"({"token":{"expires_at":")" + model::format_rfc3339(expires, true) + R"("}})",
          {{"X-Subject-Token", valid_token}});
    }
    if (r.message["X-Auth-Token"] == valid_token) return respond_json(200, job_body);
    return respond_json(401, R"({"error_code":"APIGW.0301","error_msg":"token expired"})");
  }

  std::unique_ptr<Authenticator> make() {
    iam::Options options;
    options.credentials = {"dom", "alice", password, "proj1"};
    options.endpoint = std::get<ParsedUrl>(parse_url(server.url()));
    options.pool.request_timeout = 10s;
    options.now = [this] { return now; };
    auto made = iam::make_authenticator(io.get_executor(), std::move(options));
    if (auto* error = std::get_if<std::string>(&made)) {
      ADD_FAILURE() << *error;
      return nullptr;
    }
    return std::move(std::get<0>(made));
  }

  // Runs handlers until `done` holds; the limit only keeps a bug from
  // hanging the suite.
  template <class Pred>
  ::testing::AssertionResult run_until(Pred done) {
    io.restart();
    for (int i = 0; i < 100'000 && !done(); ++i) {
      if (io.run_one_for(10s) == 0) break;
    }
    if (done()) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "condition not reached";
  }

  struct Prepared {
    HttpRequest request;
    bool ready = false;
    std::optional<std::string> error;
    std::string token() const {
      for (auto& [name, value] : request.headers) {
        if (name == "X-Auth-Token") return value;
      }
      return {};
    }
  };

  // Starts prepare() on a fresh request; the result lands in the returned slot.
  std::shared_ptr<Prepared> start(Authenticator& auth) {
    auto p = std::make_shared<Prepared>();
    auth.prepare(p->request, Origin{false, "127.0.0.1", server.port()},
                 [p](std::optional<std::string> error) {
                   p->ready = true;
                   p->error = std::move(error);
                 });
    return p;
  }

  std::shared_ptr<Prepared> prepare(Authenticator& auth) {
    auto p = start(auth);
    EXPECT_TRUE(run_until([&] { return p->ready; }));
    return p;
  }

  void expect_no_secret(const std::string& text) {
    EXPECT_EQ(text.find("SECRET"), std::string::npos) << text;
    EXPECT_EQ(text.find(password), std::string::npos) << text;
  }

  boost::asio::io_context io{1};
  Clock::time_point now = Clock::now();
  Clock::duration ttl = 1h;
  unsigned iam_status = 201;
  std::string valid_token = "none-yet";
  std::vector<std::string> iam_bodies;
  FakeHttpServer server{io, [this](const FakeRequest& r) { return handle(r); }};
};

TEST_F(IamAuthTest, ObtainsATokenScopedToTheProjectAndAttachesIt) {
  auto auth = make();
  ASSERT_TRUE(auth);
  EXPECT_EQ(auth->describe(), "iam-password (no token yet)");
  auto p = prepare(*auth);
  ASSERT_FALSE(p->error) << *p->error;
  EXPECT_EQ(p->token(), "tok-1-SECRET");

  ASSERT_EQ(server.requests().size(), 1u);
  const auto& m = server.requests()[0].message;
  EXPECT_EQ(m.method(), boost::beast::http::verb::post);
  auto body = boost::json::parse(m.body());
  auto expected = boost::json::parse(
      R"({"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"alice",)"
      R"("password":"pa55-w0rd-SECRET","domain":{"name":"dom"}}}},)"
      R"("scope":{"project":{"id":"proj1"}}}})");
  EXPECT_EQ(body, expected) << m.body();

  EXPECT_EQ(auth->describe(), "iam-password (token valid 1h)");
  expect_no_secret(auth->describe());
  expect_no_secret(boost::json::serialize(auth->stats()));

  // Cached: the next request needs no IAM round trip.
  auto again = prepare(*auth);
  EXPECT_EQ(again->token(), "tok-1-SECRET");
  EXPECT_EQ(iam_bodies.size(), 1u);
}

TEST_F(IamAuthTest, ConcurrentRequestsShareOneRefresh) {
  auto auth = make();
  ASSERT_TRUE(auth);
  std::vector<std::shared_ptr<Prepared>> waiting;
  for (int i = 0; i < 20; ++i) waiting.push_back(start(*auth));
  ASSERT_TRUE(run_until([&] {
    return std::all_of(waiting.begin(), waiting.end(), [](auto& p) { return p->ready; });
  }));
  for (auto& p : waiting) {
    EXPECT_FALSE(p->error);
    EXPECT_EQ(p->token(), "tok-1-SECRET");
  }
  EXPECT_EQ(iam_bodies.size(), 1u);
}

TEST_F(IamAuthTest, RefreshesAheadOfExpiry) {
  ttl = 100min;  // refresh margin: min(10 min, 5 min) = 5 min
  auto auth = make();
  ASSERT_TRUE(auth);
  EXPECT_EQ(prepare(*auth)->token(), "tok-1-SECRET");
  now += 94min;
  EXPECT_EQ(prepare(*auth)->token(), "tok-1-SECRET");
  EXPECT_EQ(iam_bodies.size(), 1u);

  now += 2min;  // 4 min left: still usable, its successor is fetched meanwhile
  auto p = start(*auth);
  EXPECT_TRUE(p->ready);
  EXPECT_EQ(p->token(), "tok-1-SECRET");
  ASSERT_TRUE(run_until([&] {
    return iam_bodies.size() == 2 && auth->describe().find("1h40m") != std::string::npos;
  }));
  EXPECT_EQ(prepare(*auth)->token(), "tok-2-SECRET");
}

TEST_F(IamAuthTest, ExpiredTokenIsReplacedBeforeUse) {
  auto auth = make();
  ASSERT_TRUE(auth);
  prepare(*auth);
  now += 2h;
  EXPECT_EQ(prepare(*auth)->token(), "tok-2-SECRET");
}

TEST_F(IamAuthTest, UnauthorizedBurstCostsOneRefresh) {
  config::ApiConfig api;
  api.endpoint = server.url();
  auto made = HttpJobApi::create(io.get_executor(), api, make());
  ASSERT_EQ(made.index(), 0u) << std::get<std::string>(made);
  auto& job_api = *std::get<0>(made);

  auto fetch_all = [&](int n) {
    std::vector<Answer> answers;
    for (int i = 0; i < n; ++i) {
      job_api.fetch(model::Api::app_v1, "proj1", "job1",
                    [&](Answer a) { answers.push_back(std::move(a)); });
    }
    EXPECT_TRUE(run_until([&] { return answers.size() == static_cast<std::size_t>(n); }));
    return answers;
  };
  for (auto& a : fetch_all(1)) EXPECT_EQ(a.kind, AnswerKind::ok) << a.describe();
  EXPECT_EQ(iam_bodies.size(), 1u);

  valid_token = "revoked";  // the API no longer takes tok-1
  now += 1min;
  for (auto& a : fetch_all(20)) EXPECT_EQ(a.kind, AnswerKind::ok) << a.describe();
  EXPECT_EQ(iam_bodies.size(), 2u);  // 20 × 401, one refresh

  // A token the API rejects although it is fresh: one retry, then the 401
  // stands (no refresh loop).
  auto answers = fetch_all(1);
  EXPECT_EQ(iam_bodies.size(), 2u);
  valid_token = "revoked-again";
  answers = fetch_all(1);
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0].kind, AnswerKind::unauthorized);
  EXPECT_LE(iam_bodies.size(), 3u);
  expect_no_secret(answers[0].describe());
}

TEST_F(IamAuthTest, InvalidateDropsTheTokenOnce) {
  auto auth = make();
  ASSERT_TRUE(auth);
  prepare(*auth);
  // Within the grace period a 401 is taken to be for the previous token.
  EXPECT_TRUE(auth->invalidate());
  EXPECT_EQ(prepare(*auth)->token(), "tok-1-SECRET");
  EXPECT_EQ(iam_bodies.size(), 1u);
  now += 1min;
  EXPECT_TRUE(auth->invalidate());
  EXPECT_TRUE(auth->invalidate());  // same token: nothing more to drop
  EXPECT_EQ(prepare(*auth)->token(), "tok-2-SECRET");
  EXPECT_EQ(iam_bodies.size(), 2u);
}

TEST_F(IamAuthTest, FailedRefreshBacksOffAndReports) {
  iam_status = 401;
  auto auth = make();
  ASSERT_TRUE(auth);
  std::vector<std::shared_ptr<Prepared>> waiting;
  for (int i = 0; i < 3; ++i) waiting.push_back(start(*auth));
  ASSERT_TRUE(run_until([&] { return waiting.back()->ready; }));
  for (auto& p : waiting) {
    ASSERT_TRUE(p->error);
    EXPECT_NE(p->error->find("refresh failed 1×: HTTP 401: The username or password is wrong"),
              std::string::npos)
        << *p->error;
    expect_no_secret(*p->error);
  }
  EXPECT_EQ(iam_bodies.size(), 1u);

  // Backing off: answered at once, IAM is not asked.
  auto p = start(*auth);
  ASSERT_TRUE(p->ready);
  ASSERT_TRUE(p->error);
  EXPECT_EQ(iam_bodies.size(), 1u);
  EXPECT_FALSE(auth->invalidate());
  std::string described = auth->describe();
  EXPECT_EQ(described.rfind("iam-password (refresh failed 1×: HTTP 401", 0), 0u) << described;
  EXPECT_NE(described.find("next try in 1s"), std::string::npos) << described;

  now += 2s;
  EXPECT_TRUE(prepare(*auth)->error);
  EXPECT_EQ(iam_bodies.size(), 2u);
  described = auth->describe();
  EXPECT_NE(described.find("refresh failed 2×"), std::string::npos) << described;
  EXPECT_NE(described.find("next try in 2s"), std::string::npos) << described;
  auto stats = auth->stats();
  EXPECT_EQ(stats["refresh_failures"].as_uint64(), 2u);
  EXPECT_EQ(stats["consecutive_failures"].as_int64(), 2);
  expect_no_secret(boost::json::serialize(stats));
  expect_no_secret(described);

  iam_status = 201;
  now += 3s;
  EXPECT_EQ(prepare(*auth)->token(), "tok-3-SECRET");
  EXPECT_EQ(auth->describe(), "iam-password (token valid 1h)");
  EXPECT_EQ(auth->stats()["refresh_failures"].as_uint64(), 2u);
}

TEST_F(IamAuthTest, UnreachableIamIsAnError) {
  auto auth = make();
  ASSERT_TRUE(auth);
  server.stop();
  auto p = prepare(*auth);
  ASSERT_TRUE(p->error);
  EXPECT_NE(p->error->find("refresh failed 1×"), std::string::npos) << *p->error;
}

TEST(IamCore, TimingRules) {
  EXPECT_EQ(iam::refresh_margin(1h), 5min);
  EXPECT_EQ(iam::refresh_margin(10min), 1min);
  EXPECT_EQ(iam::refresh_margin(24h), 5min);
  EXPECT_EQ(iam::backoff_delay(1, 0), 1s);
  EXPECT_EQ(iam::backoff_delay(2, 0), 2s);
  EXPECT_EQ(iam::backoff_delay(4, 0), 8s);
  EXPECT_EQ(iam::backoff_delay(7, 0), 60s);
  EXPECT_EQ(iam::backoff_delay(100, 0), 60s);
  EXPECT_EQ(iam::backoff_delay(100, 1), 72s);
  EXPECT_EQ(iam::backoff_delay(1, -1), 800ms);
  EXPECT_EQ(iam::short_duration(41min), "41m");
  EXPECT_EQ(iam::short_duration(65min), "1h5m");
  EXPECT_EQ(iam::short_duration(8s), "8s");
}

TEST(IamCore, ParsesTheAnswer) {
  auto ok = iam::parse_token_response(201, "tok",
                                      R"({"token":{"expires_at":"2030-01-02T03:04:05.000000Z"}})");
  ASSERT_EQ(ok.index(), 0u) << std::get<1>(ok);
  EXPECT_EQ(std::get<0>(ok).token, "tok");
  auto bad = [](unsigned status, std::string_view token, std::string_view body) {
    auto r = iam::parse_token_response(status, token, body);
    return r.index() == 1 ? std::get<1>(r) : std::string("(parsed)");
  };
  EXPECT_EQ(bad(201, "", R"({"token":{"expires_at":"2030-01-02T03:04:05Z"}})"),
            "IAM answer has no X-Subject-Token header");
  EXPECT_EQ(bad(201, "tok", R"({"token":{}})"), "IAM answer has no token.expires_at");
  EXPECT_EQ(bad(201, "t\r\nX: y", R"({"token":{"expires_at":"2030-01-02T03:04:05Z"}})"),
            "IAM answer's X-Subject-Token contains control characters");
  EXPECT_EQ(bad(403, "", R"({"error":{"code":"403","message":"no access"}})"),
            "HTTP 403: no access");
  EXPECT_NE(bad(503, "", "").find("503"), std::string::npos);
}

TEST(IamConfig, ChecksSettingsAndReadsThePassword) {
  boost::asio::io_context io;
  config::ApiConfig api;
  api.endpoint = "https://example.test";
  api.auth.type = config::AuthType::iam_password;
  api.auth.iam_endpoint = "https://iam.example.test";
  api.auth.user = "alice";
  api.auth.domain = "dom";
  api.auth.password.file = "/nonexistent/jobwatch/password";
  auto error = [&] {
    auto made = make_authenticator(io.get_executor(), api);
    return made.index() == 1 ? std::get<1>(made) : std::string("(made)");
  };
  EXPECT_NE(error().find("api.project_id"), std::string::npos) << error();
  api.project_id = "proj1";
  EXPECT_NE(error().find("/nonexistent/jobwatch/password"), std::string::npos) << error();
  TempFile file(password + "\n");
  api.auth.password.file = file.path();
  auto made = make_authenticator(io.get_executor(), api);
  ASSERT_EQ(made.index(), 0u) << std::get<1>(made);
  EXPECT_EQ(std::get<0>(made)->describe(), "iam-password (no token yet)");
}

}  // namespace
}  // namespace jobwatch::upstream
