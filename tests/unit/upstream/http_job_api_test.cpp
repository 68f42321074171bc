#include "jobwatch/upstream/http_job_api.hpp"

#include <gtest/gtest.h>

#include <boost/asio/post.hpp>

#include "jobwatch/config/config.hpp"
#include "upstream/fake_http_server.hpp"
#include "upstream/test_support.hpp"

namespace jobwatch::upstream {
namespace {

using namespace std::chrono_literals;
using namespace jobwatch::testing;
namespace http = boost::beast::http;

const std::string job_body = R"({"job": {"job_id": "job1", "job_type": 1, "job_status": 2,
  "sub_jobs": [{"job_id": "sub1", "job_type": 2, "job_status": 1}],
  "begin_time": "2023-06-06T02:30:06Z", "expected_end_time": "2023-06-06T15:55:57Z"}})";

// An authenticator whose token changes each time it is invalidated, like an
// IAM token after a refresh; optionally answering later, or failing.
class RefreshingAuth final : public Authenticator {
 public:
  explicit RefreshingAuth(boost::asio::any_io_executor executor) : executor_(std::move(executor)) {}
  void prepare(HttpRequest& request, const Origin& origin, Ready ready) override {
    ++prepared;
    last_origin_host = origin.host;
    if (!fail_with.empty()) return ready(fail_with);
    request.headers.emplace_back("X-Auth-Token", "t" + std::to_string(generation));
    if (!async) return ready(std::nullopt);
    boost::asio::post(executor_, [ready = std::move(ready)] { ready(std::nullopt); });
  }
  bool invalidate() override {
    ++invalidated;
    ++generation;
    return refreshable;
  }
  std::string describe() const override { return "refreshing"; }

  int generation = 1;
  int prepared = 0;
  int invalidated = 0;
  bool refreshable = true;
  bool async = false;
  std::string fail_with;
  std::string last_origin_host;

 private:
  boost::asio::any_io_executor executor_;
};

class HttpJobApiTest : public ::testing::Test {
 protected:
  config::ApiConfig api_for(const FakeHttpServer& server) {
    config::ApiConfig api;
    api.endpoint = server.url();
    api.auth.type = config::AuthType::none;
    return api;
  }

  std::unique_ptr<HttpJobApi> create(const config::ApiConfig& api,
                                     std::unique_ptr<Authenticator> auth = nullptr) {
    auto made = auth ? HttpJobApi::create(io.get_executor(), api, std::move(auth))
                     : HttpJobApi::create(io.get_executor(), api);
    if (auto* error = std::get_if<std::string>(&made)) {
      ADD_FAILURE() << *error;
      return nullptr;
    }
    return std::move(std::get<std::unique_ptr<HttpJobApi>>(made));
  }

  std::string create_error(const config::ApiConfig& api) {
    auto made = HttpJobApi::create(io.get_executor(), api);
    if (auto* error = std::get_if<std::string>(&made)) return *error;
    ADD_FAILURE() << "expected an error";
    return {};
  }

  // One fetch, run to completion; the server is stopped once it answered.
  Answer fetch_one(JobApi& api, FakeHttpServer& server, const std::string& project = "proj1",
                   const std::string& job = "job1") {
    Answer answer;
    bool inside = true;
    api.fetch(model::Api::app_v1, project, job, [&](Answer a) {
      EXPECT_FALSE(inside) << "callback ran inside fetch()";
      answer = std::move(a);
      server.stop();
    });
    inside = false;
    EXPECT_TRUE(run_to_completion(io));
    return answer;
  }

  boost::asio::io_context io{1};
};

TEST_F(HttpJobApiTest, FetchesAndParsesAJob) {
  FakeHttpServer server(io, [](const FakeRequest&) { return respond_json(200, job_body); });
  auto api = create(api_for(server));
  ASSERT_TRUE(api);
  EXPECT_EQ(api->auth_description(), "none");
  auto answer = fetch_one(*api, server);
  ASSERT_EQ(answer.kind, AnswerKind::ok) << answer.describe();
  ASSERT_TRUE(answer.job);
  EXPECT_EQ(answer.job->id, "job1");
  EXPECT_EQ(answer.job->status, model::JobStatus::handling);

  ASSERT_EQ(server.requests().size(), 1u);
  const auto& m = server.requests()[0].message;
  EXPECT_EQ(m.method(), http::verb::get);
  EXPECT_EQ(m.target(), "/v1/proj1/job/job1");
  EXPECT_EQ(m[http::field::accept], "application/json");
  EXPECT_EQ(m[http::field::user_agent], "jobwatch/" JOBWATCH_VERSION);
  EXPECT_EQ(m[http::field::host], "127.0.0.1:" + std::to_string(server.port()));
  EXPECT_EQ(m.find("X-Auth-Token"), m.end());
}

TEST_F(HttpJobApiTest, KeepsTheServersDate) {
  FakeHttpServer server(io, [](const FakeRequest&) {
    return respond_json(200, job_body, {{"Date", "Tue, 06 Jun 2023 03:00:00 GMT"}});
  });
  auto api = create(api_for(server));
  ASSERT_TRUE(api);
  auto answer = fetch_one(*api, server);
  ASSERT_EQ(answer.kind, AnswerKind::ok) << answer.describe();
  ASSERT_TRUE(answer.server_date);
  EXPECT_EQ(*answer.server_date, std::chrono::sys_days{std::chrono::June / 6 / 2023} + 3h);
}

TEST_F(HttpJobApiTest, SendsTheTokenFromItsFile) {
  TempFile token("secret-from-file\n");
  FakeHttpServer server(io, [](const FakeRequest& r) {
    if (r.message["X-Auth-Token"] != "secret-from-file") return respond_json(401, "{}");
    return respond_json(200, job_body);
  });
  auto config = api_for(server);
  config.auth.type = config::AuthType::token;
  config.auth.token.file = token.path();
  auto api = create(config);
  ASSERT_TRUE(api);
  EXPECT_EQ(api->auth_description(), "token");
  EXPECT_EQ(fetch_one(*api, server).kind, AnswerKind::ok);
}

TEST_F(HttpJobApiTest, PercentEncodesIdsAndKeepsTheEndpointPath) {
  FakeHttpServer server(io, [](const FakeRequest&) { return respond_json(404, "{}"); });
  auto config = api_for(server);
  config.endpoint += "/gateway/";
  auto api = create(config);
  ASSERT_TRUE(api);
  auto answer = fetch_one(*api, server, "p 1", "../a/b");
  EXPECT_EQ(answer.kind, AnswerKind::not_found);
  ASSERT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(server.requests()[0].message.target(), "/gateway/v1/p%201/job/..%2Fa%2Fb");
}

TEST_F(HttpJobApiTest, ErrorAnswersAreClassified) {
  FakeHttpServer server(io, [](const FakeRequest&) {
    return respond_json(503, R"({"error_code":"APIGW.0308","error_msg":"throttled"})",
                        {{"Retry-After", "3"}});
  });
  auto api = create(api_for(server));
  ASSERT_TRUE(api);
  auto answer = fetch_one(*api, server);
  EXPECT_EQ(answer.kind, AnswerKind::throttled);
  EXPECT_EQ(answer.http_status, 503u);
  EXPECT_EQ(answer.retry_after, std::optional<std::chrono::milliseconds>(3s));
  EXPECT_EQ(answer.describe(), "HTTP 503 APIGW.0308: throttled");
}

TEST_F(HttpJobApiTest, MalformedJobIsMalformed) {
  FakeHttpServer server(io, [](const FakeRequest&) {
    return respond_json(200, R"({"job": {"job_id": "job1", "job_status": 42}})");
  });
  auto api = create(api_for(server));
  ASSERT_TRUE(api);
  EXPECT_EQ(fetch_one(*api, server).kind, AnswerKind::malformed);
}

TEST_F(HttpJobApiTest, TransportFailuresBecomeTimeoutOrReset) {
  FakeHttpServer server(
      io, [](const FakeRequest& r) { return r.connection == 1 ? hang() : reset_connection(); });
  auto config = api_for(server);
  config.request_timeout = 200ms;
  auto api = create(config);
  ASSERT_TRUE(api);
  std::vector<std::string> codes;
  api->set_request_observer([&](std::string_view code, std::chrono::steady_clock::duration) {
    codes.emplace_back(code);
  });
  Answer first;
  Answer second;
  api->fetch(model::Api::app_v1, "p", "j", [&](Answer a) {
    first = std::move(a);
    api->fetch(model::Api::app_v1, "p", "j", [&](Answer b) {
      second = std::move(b);
      server.stop();
    });
  });
  ASSERT_TRUE(run_to_completion(io));
  EXPECT_EQ(first.kind, AnswerKind::timeout) << first.describe();
  EXPECT_EQ(first.http_status, 0u);
  EXPECT_EQ(first.describe().rfind("timeout: ", 0), 0u) << first.describe();
  EXPECT_EQ(second.kind, AnswerKind::reset) << second.describe();
  EXPECT_EQ(codes, (std::vector<std::string>{"timeout", "reset"}));
}

TEST_F(HttpJobApiTest, Unauthorized401IsRetriedOnceWithFreshCredentials) {
  FakeHttpServer server(io, [](const FakeRequest& r) {
    if (r.message["X-Auth-Token"] != "t2") return respond_json(401, R"({"error_code":"IAM.0001"})");
    return respond_json(200, job_body);
  });
  auto auth = std::make_unique<RefreshingAuth>(io.get_executor());
  auto* auth_ptr = auth.get();
  auto api = create(api_for(server), std::move(auth));
  ASSERT_TRUE(api);
  EXPECT_EQ(api->auth_description(), "refreshing");
  auto answer = fetch_one(*api, server);
  EXPECT_EQ(answer.kind, AnswerKind::ok) << answer.describe();
  EXPECT_EQ(auth_ptr->invalidated, 1);
  EXPECT_EQ(auth_ptr->prepared, 2);
  EXPECT_EQ(auth_ptr->last_origin_host, "127.0.0.1");
  ASSERT_EQ(server.requests().size(), 2u);
  EXPECT_EQ(server.requests()[0].message["X-Auth-Token"], "t1");
  EXPECT_EQ(server.requests()[1].message["X-Auth-Token"], "t2");
}

TEST_F(HttpJobApiTest, RequestObserverSeesEveryExchangeWithItsCode) {
  FakeHttpServer server(io, [](const FakeRequest& r) {
    if (r.message["X-Auth-Token"] != "t2") return respond_json(401, "{}");
    return respond_json(200, job_body);
  });
  auto api = create(api_for(server), std::make_unique<RefreshingAuth>(io.get_executor()));
  ASSERT_TRUE(api);
  std::vector<std::string> codes;
  api->set_request_observer([&](std::string_view code, std::chrono::steady_clock::duration took) {
    EXPECT_GE(took.count(), 0);
    codes.emplace_back(code);
  });
  EXPECT_EQ(fetch_one(*api, server).kind, AnswerKind::ok);
  // The 401 and its retry are two exchanges.
  EXPECT_EQ(codes, (std::vector<std::string>{"401", "200"}));
}

TEST_F(HttpJobApiTest, Persistent401IsUnauthorizedAfterOneRetry) {
  FakeHttpServer server(io, [](const FakeRequest&) {
    return respond_json(401, R"({"error_code":"IAM.0002","error_msg":"token expired"})");
  });
  auto auth = std::make_unique<RefreshingAuth>(io.get_executor());
  auth->async = true;
  auto* auth_ptr = auth.get();
  auto api = create(api_for(server), std::move(auth));
  ASSERT_TRUE(api);
  auto answer = fetch_one(*api, server);
  EXPECT_EQ(answer.kind, AnswerKind::unauthorized);
  EXPECT_EQ(answer.describe(), "HTTP 401 IAM.0002: token expired");
  EXPECT_EQ(auth_ptr->invalidated, 1);
  EXPECT_EQ(server.requests().size(), 2u);
}

TEST_F(HttpJobApiTest, Unrefreshable401IsNotRetried) {
  FakeHttpServer server(io, [](const FakeRequest&) { return respond_json(401, "{}"); });
  auto auth = std::make_unique<RefreshingAuth>(io.get_executor());
  auth->refreshable = false;
  auto api = create(api_for(server), std::move(auth));
  ASSERT_TRUE(api);
  EXPECT_EQ(fetch_one(*api, server).kind, AnswerKind::unauthorized);
  EXPECT_EQ(server.requests().size(), 1u);
}

TEST_F(HttpJobApiTest, CredentialsThatCannotBeHadAreUnauthorized) {
  FakeHttpServer server(io, [](const FakeRequest&) { return respond_json(200, job_body); });
  auto auth = std::make_unique<RefreshingAuth>(io.get_executor());
  auth->fail_with = "IAM endpoint unreachable";
  auto api = create(api_for(server), std::move(auth));
  ASSERT_TRUE(api);
  auto answer = fetch_one(*api, server);
  EXPECT_EQ(answer.kind, AnswerKind::unauthorized);
  EXPECT_EQ(answer.http_status, 0u);
  EXPECT_EQ(answer.describe(), "unauthorized: credentials: IAM endpoint unreachable");
  EXPECT_TRUE(server.requests().empty());
}

TEST_F(HttpJobApiTest, ManyFetchesShareThePool) {
  FakeHttpServer server(io,
                        [](const FakeRequest&) { return respond_json(200, job_body).after(5ms); });
  auto config = api_for(server);
  config.max_connections = 2;
  auto api = create(config);
  ASSERT_TRUE(api);
  int ok = 0;
  int done = 0;
  for (int i = 0; i < 20; ++i) {
    api->fetch(model::Api::app_v1, "p", "job" + std::to_string(i), [&](Answer a) {
      ok += a.kind == AnswerKind::ok;
      if (++done == 20) server.stop();
    });
  }
  EXPECT_EQ(api->pool().open_connections(), 2u);
  ASSERT_TRUE(run_to_completion(io));
  EXPECT_EQ(ok, 20);
  EXPECT_EQ(server.connections_accepted(), 2u);
}

TEST_F(HttpJobApiTest, CreateReportsConfigProblems) {
  config::ApiConfig api;
  EXPECT_EQ(create_error(api), "api: set api.endpoint or api.region");
  api.endpoint = "ftp://example.test";
  EXPECT_NE(create_error(api).find("api.endpoint"), std::string::npos);
  api.endpoint = "https://example.test";
  api.proxy = "https://proxy:3128";  // the tunnel is plain HTTP; TLS runs inside it
  EXPECT_NE(create_error(api).find("api.proxy"), std::string::npos);
  api.proxy.clear();
  api.auth.type = config::AuthType::aksk;
  EXPECT_EQ(create_error(api), "api.auth.access_key: not set");
  api.auth.type = config::AuthType::none;
  api.tls.ca_file = "/nonexistent/ca.pem";
  auto error = create_error(api);
  EXPECT_NE(error.find("/nonexistent/ca.pem"), std::string::npos) << error;
  api.tls.ca_file.clear();
  api.endpoint.clear();
  api.region = "cn-north-4";
  EXPECT_TRUE(create(api));  // nothing is contacted before the first fetch
  ASSERT_TRUE(run_to_completion(io));
}

}  // namespace
}  // namespace jobwatch::upstream

namespace jobwatch::upstream {
namespace {

// Each API has its own path and body mapping; desktop-v2 goes to
// api.desktop_endpoint when one is set, on a pool of its own.
TEST_F(HttpJobApiTest, EachApiHasItsPathAndDesktopItsEndpoint) {
  const std::string app_v2_body =
      R"({"id": "job1", "status": "RUNNING", "job_type": "CREATE_SERVER"})";
  const std::string desktop_body = R"({"id": "job1", "status": "SUCCESS", "sub_jobs_total": 0})";
  FakeHttpServer app(io, [&](const FakeRequest& r) {
    if (r.message.target() == "/v2/proj1/job/job1") return respond_json(200, app_v2_body);
    return respond_json(404, "{}");
  });
  FakeHttpServer desktop(io, [&](const FakeRequest& r) {
    if (r.message.target() == "/v2/proj1/workspace-jobs/job1")
      return respond_json(200, desktop_body);
    return respond_json(404, "{}");
  });
  auto config = api_for(app);
  config.desktop_endpoint = desktop.url() + "/";
  auto api = create(config);
  ASSERT_TRUE(api);

  Answer app_answer;
  Answer desktop_answer;
  int answered = 0;
  api->fetch(model::Api::app_v2, "proj1", "job1", [&](Answer a) {
    app_answer = std::move(a);
    if (++answered == 2) app.stop(), desktop.stop();
  });
  api->fetch(model::Api::desktop_v2, "proj1", "job1", [&](Answer a) {
    desktop_answer = std::move(a);
    if (++answered == 2) app.stop(), desktop.stop();
  });
  EXPECT_TRUE(run_to_completion(io));
  ASSERT_EQ(app_answer.kind, AnswerKind::ok) << app_answer.describe();
  ASSERT_EQ(desktop_answer.kind, AnswerKind::ok) << desktop_answer.describe();
  EXPECT_EQ(app_answer.job->status, model::JobStatus::handling);
  EXPECT_EQ(app_answer.job->upstream_status, "RUNNING");
  EXPECT_EQ(desktop_answer.job->status, model::JobStatus::successful);
  ASSERT_EQ(app.requests().size(), 1u);
  ASSERT_EQ(desktop.requests().size(), 1u);
  EXPECT_EQ(app.requests()[0].message.target(), "/v2/proj1/job/job1");
  EXPECT_EQ(desktop.requests()[0].message.target(), "/v2/proj1/workspace-jobs/job1");
  EXPECT_EQ(desktop.requests()[0].message[http::field::host],
            "127.0.0.1:" + std::to_string(desktop.port()));
}

TEST_F(HttpJobApiTest, DesktopEndpointDefaults) {
  config::ApiConfig api;
  api.region = "cn-north-4";
  EXPECT_EQ(endpoint_for(api), "https://appstream.cn-north-4.myhuaweicloud.com");
  EXPECT_EQ(desktop_endpoint_for(api), "https://workspace.cn-north-4.myhuaweicloud.com");
  api.region.clear();
  api.endpoint = "https://gw.example.test/";
  EXPECT_EQ(desktop_endpoint_for(api), "https://gw.example.test");  // api.endpoint serves all
  api.desktop_endpoint = "https://desk.example.test";
  EXPECT_EQ(desktop_endpoint_for(api), "https://desk.example.test");
  api.desktop_endpoint = "https://desk.example.test/?q=1";
  EXPECT_NE(create_error(api).find("api.desktop_endpoint"), std::string::npos);
}

}  // namespace
}  // namespace jobwatch::upstream
