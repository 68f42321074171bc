#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "jobwatch/upstream/answer.hpp"
#include "jobwatch/upstream/http_job_api.hpp"

namespace jobwatch::upstream {
namespace {

using namespace std::chrono;
using namespace std::chrono_literals;

// Fixed "now" for every test: Sun, 06 Nov 1994 08:49:37 GMT.
const system_clock::time_point now = sys_days{1994y / November / 6} + 8h + 49min + 37s;

const std::string seed_body = R"({
  "job" : {
    "job_id" : "575768277444198400",
    "job_type" : 1,
    "job_status" : 0,
    "sub_jobs" : [ {
      "job_id" : "575768277481947136",
      "job_type" : 2,
      "job_status" : 0,
      "entities" : [ ],
      "begin_time" : "2023-06-06T02:30:06Z",
      "end_time" : "2023-06-06T02:45:49Z"
    } ],
    "begin_time" : "2023-06-06T02:30:06Z",
    "end_time" : "2023-06-06T02:45:49Z",
    "expected_end_time" : "2023-06-06T15:55:57Z",
    "execute_code" : "",
    "execute_message" : ""
  }
})";

const std::string error_body = R"({"error_code":"WKS.0001","error_msg":"something went wrong"})";

struct StatusCase {
  unsigned status;
  AnswerKind kind;
};

class StatusTable : public ::testing::TestWithParam<StatusCase> {};

TEST_P(StatusTable, ClassifiesEveryStatus) {
  auto [status, kind] = GetParam();
  auto answer = classify_response(status, "", status == 200 ? seed_body : error_body, now);
  EXPECT_EQ(answer.kind, kind) << "HTTP " << status << " gave " << kind_name(answer.kind);
  EXPECT_EQ(answer.http_status, status);
  if (status != 200) {
    EXPECT_EQ(answer.error_code, "WKS.0001");
    EXPECT_EQ(answer.error_msg, "something went wrong");
    EXPECT_FALSE(answer.job.has_value());
  }
}

INSTANTIATE_TEST_SUITE_P(
    Spec, StatusTable,
    ::testing::Values(
        StatusCase{200, AnswerKind::ok}, StatusCase{400, AnswerKind::rejected},
        StatusCase{401, AnswerKind::unauthorized}, StatusCase{403, AnswerKind::rejected},
        StatusCase{404, AnswerKind::not_found}, StatusCase{405, AnswerKind::rejected},
        StatusCase{429, AnswerKind::throttled}, StatusCase{500, AnswerKind::server_error},
        StatusCase{503, AnswerKind::throttled},
        // beyond the seed's list
        StatusCase{409, AnswerKind::rejected}, StatusCase{422, AnswerKind::rejected},
        StatusCase{502, AnswerKind::server_error}, StatusCase{504, AnswerKind::server_error},
        StatusCase{100, AnswerKind::server_error}, StatusCase{301, AnswerKind::server_error},
        StatusCase{304, AnswerKind::server_error}, StatusCase{600, AnswerKind::server_error}),
    [](const auto& info) { return "HTTP" + std::to_string(info.param.status); });

TEST(Classify, OkCarriesTheJob) {
  auto answer = classify_response(200, "", seed_body, now);
  ASSERT_EQ(answer.kind, AnswerKind::ok);
  ASSERT_TRUE(answer.job.has_value());
  EXPECT_EQ(answer.job->id, "575768277444198400");
  EXPECT_EQ(answer.job->status, model::JobStatus::failed);
  EXPECT_TRUE(answer.error_msg.empty());
  EXPECT_EQ(answer.describe(), "HTTP 200");
}

TEST(Classify, MalformedOkBodies) {
  for (const std::string body : {"", "not json", "[]", R"({"job": 5})", R"({"nojob": {}})"}) {
    auto answer = classify_response(200, "", body, now);
    EXPECT_EQ(answer.kind, AnswerKind::malformed) << body;
    EXPECT_FALSE(answer.job.has_value()) << body;
    EXPECT_FALSE(answer.error_msg.empty()) << body;
    EXPECT_EQ(answer.describe().rfind("malformed: ", 0), 0u) << answer.describe();
  }
}

TEST(Classify, UnknownJobStatusIsMalformed) {
  auto body = R"({"job": {"job_id": "j1", "job_type": 1, "job_status": 7}})";
  auto answer = classify_response(200, "", body, now);
  EXPECT_EQ(answer.kind, AnswerKind::malformed);
  EXPECT_EQ(answer.http_status, 200u);
  EXPECT_NE(answer.error_msg.find("job_status"), std::string::npos) << answer.error_msg;

  auto sub = R"({"job": {"job_id": "j1", "job_status": 2,
                 "sub_jobs": [{"job_id": "s1", "job_status": 9}]}})";
  EXPECT_EQ(classify_response(200, "", sub, now).kind, AnswerKind::malformed);
}

TEST(Classify, GatewayErrorForm) {
  auto body = R"({"error": {"code": "APIGW.0308", "message": "The request is throttled."}})";
  auto answer = classify_response(429, "", body, now);
  EXPECT_EQ(answer.kind, AnswerKind::throttled);
  EXPECT_EQ(answer.error_code, "APIGW.0308");
  EXPECT_EQ(answer.error_msg, "The request is throttled.");
  EXPECT_EQ(answer.describe(), "HTTP 429 APIGW.0308: The request is throttled.");
}

TEST(Classify, ErrorBodiesThatAreNotTheUsualForm) {
  auto empty = classify_response(503, "", "", now);
  EXPECT_EQ(empty.kind, AnswerKind::throttled);
  EXPECT_TRUE(empty.error_code.empty());
  EXPECT_TRUE(empty.error_msg.empty());
  EXPECT_EQ(empty.describe(), "HTTP 503");

  auto html = classify_response(502, "", "<html>\r\nBad Gateway</html>", now);
  EXPECT_EQ(html.kind, AnswerKind::server_error);
  EXPECT_EQ(html.error_msg, "<html>  Bad Gateway</html>");  // one line
  EXPECT_EQ(html.describe(), "HTTP 502: <html>  Bad Gateway</html>");

  auto huge = classify_response(500, "", std::string(100'000, 'x'), now);
  EXPECT_LE(huge.error_msg.size(), 512u);

  auto msg_only = classify_response(400, "", R"({"error_msg": "bad job id"})", now);
  EXPECT_EQ(msg_only.describe(), "HTTP 400: bad job id");
}

TEST(Classify, DescribeFormats) {
  auto answer = classify_response(
      503, "", R"({"error_code":"APIGW.0308","error_msg":"too many requests"})", now);
  EXPECT_EQ(answer.describe(), "HTTP 503 APIGW.0308: too many requests");
  EXPECT_EQ(transport_failure(AnswerKind::timeout, "127.0.0.1:1: no answer within 10s").describe(),
            "timeout: 127.0.0.1:1: no answer within 10s");
  EXPECT_EQ(transport_failure(AnswerKind::reset, "connect x:1: refused").describe(),
            "reset: connect x:1: refused");
}

TEST(Classify, KindNames) {
  EXPECT_EQ(kind_name(AnswerKind::ok), "ok");
  EXPECT_EQ(kind_name(AnswerKind::not_found), "not_found");
  EXPECT_EQ(kind_name(AnswerKind::unauthorized), "unauthorized");
  EXPECT_EQ(kind_name(AnswerKind::throttled), "throttled");
  EXPECT_EQ(kind_name(AnswerKind::server_error), "server_error");
  EXPECT_EQ(kind_name(AnswerKind::rejected), "rejected");
  EXPECT_EQ(kind_name(AnswerKind::timeout), "timeout");
  EXPECT_EQ(kind_name(AnswerKind::reset), "reset");
  EXPECT_EQ(kind_name(AnswerKind::malformed), "malformed");
}

TEST(Classify, TransportErrorsMap) {
  EXPECT_EQ(transport_failure(TransportError{TransportErrorKind::timeout, "t"}).kind,
            AnswerKind::timeout);
  for (auto kind : {TransportErrorKind::reset, TransportErrorKind::connect, TransportErrorKind::tls,
                    TransportErrorKind::protocol}) {
    auto answer = transport_failure(TransportError{kind, "why"});
    EXPECT_EQ(answer.kind, AnswerKind::reset);
    EXPECT_EQ(answer.http_status, 0u);
    EXPECT_EQ(answer.error_msg, "why");
  }
}

TEST(RetryAfter, DeltaSeconds) {
  auto answer = classify_response(429, "5", error_body, now);
  ASSERT_TRUE(answer.retry_after.has_value());
  EXPECT_EQ(*answer.retry_after, 5s);
  EXPECT_EQ(parse_retry_after("0", now), 0ms);
  EXPECT_EQ(parse_retry_after(" 120 ", now), 120s);
  EXPECT_EQ(parse_retry_after("3600", now), 1h);
  EXPECT_EQ(parse_retry_after("3601", now), 1h);
  EXPECT_EQ(parse_retry_after("99999999999999999999999999", now), 1h);
}

TEST(RetryAfter, HttpDateInAllThreeForms) {
  auto answer = classify_response(503, "Sun, 06 Nov 1994 08:50:07 GMT", error_body, now);
  ASSERT_TRUE(answer.retry_after.has_value());
  EXPECT_EQ(*answer.retry_after, 30s);
  EXPECT_EQ(parse_retry_after("Sunday, 06-Nov-94 08:49:47 GMT", now), 10s);
  EXPECT_EQ(parse_retry_after("Sun Nov  6 08:49:57 1994", now), 20s);
  // In the past: go now. Far ahead: at most an hour.
  EXPECT_EQ(parse_retry_after("Sat, 05 Nov 1994 08:49:37 GMT", now), 0ms);
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 2094 08:49:37 GMT", now), 1h);
}

TEST(RetryAfter, Garbage) {
  for (const char* value :
       {"soon", "-5", "5s", "1.5", "Sun, 06 Nov 1994 25:00:00 GMT", "Sun, 31 Feb 1994 08:00:00 GMT",
        "Sun, 06 Nov 1994 08:49:37 PST", "Foo, 06 Nov 1994 08:49:37 GMT", ""}) {
    EXPECT_FALSE(parse_retry_after(value, now).has_value()) << value;
  }
  auto answer = classify_response(429, "whenever", error_body, now);
  EXPECT_EQ(answer.kind, AnswerKind::throttled);
  EXPECT_FALSE(answer.retry_after.has_value());
}

TEST(ServerDate, TheDateHeaderIsKeptOnEveryHttpAnswer) {
  auto ok = classify_response(200, "", seed_body, now, model::Api::app_v1,
                              "Sun, 06 Nov 1994 09:49:37 GMT");
  ASSERT_EQ(ok.kind, AnswerKind::ok);
  ASSERT_TRUE(ok.server_date);
  EXPECT_EQ(*ok.server_date, now + 1h);
  auto error = classify_response(500, "", error_body, now, model::Api::app_v1,
                                 "Sun, 06 Nov 1994 08:49:36 GMT");
  ASSERT_TRUE(error.server_date);
  EXPECT_EQ(*error.server_date, now - 1s);
  EXPECT_FALSE(classify_response(200, "", seed_body, now).server_date);
  EXPECT_FALSE(
      classify_response(200, "", seed_body, now, model::Api::app_v1, "yesterday").server_date);
  EXPECT_FALSE(transport_failure(AnswerKind::timeout, "slow").server_date);
}

// Both dates are the server's clock: a host clock an hour behind must not
// turn "in 30 s" into "in an hour and 30 s".
TEST(ServerDate, ARetryAfterDateIsResolvedAgainstIt) {
  auto answer = classify_response(503, "Sun, 06 Nov 1994 09:50:07 GMT", error_body, now,
                                  model::Api::app_v1, "Sun, 06 Nov 1994 09:49:37 GMT");
  ASSERT_TRUE(answer.retry_after);
  EXPECT_EQ(*answer.retry_after, 30s);
}

TEST(HttpDate, ParsesToTheSameInstant) {
  auto a = parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT");
  auto b = parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT");
  auto c = parse_http_date("Sun Nov  6 08:49:37 1994");
  ASSERT_TRUE(a && b && c);
  EXPECT_EQ(*a, now);
  EXPECT_EQ(*b, now);
  EXPECT_EQ(*c, now);
}

}  // namespace
}  // namespace jobwatch::upstream
