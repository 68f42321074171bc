#include "jobwatch/sinks/retry.hpp"

#include <gtest/gtest.h>

#include "jobwatch/sinks/webhook_sink.hpp"

namespace jobwatch::sinks {
namespace {

using namespace std::chrono_literals;
using Kind = DeliveryResult::Kind;

RetryPolicy policy(std::chrono::milliseconds base, std::chrono::milliseconds cap) {
  RetryPolicy p;
  p.base = base;
  p.cap = cap;
  return p;
}

TEST(RetryDelay, FullJitterSpansZeroToTheExponentialCeiling) {
  const auto p = policy(1s, 5min);
  EXPECT_EQ(retry_delay(p, 1, 0.0, std::nullopt), 0ms);
  EXPECT_EQ(retry_delay(p, 1, 1.0, std::nullopt), 1s);
  EXPECT_EQ(retry_delay(p, 2, 1.0, std::nullopt), 2s);
  EXPECT_EQ(retry_delay(p, 4, 1.0, std::nullopt), 8s);
  EXPECT_EQ(retry_delay(p, 4, 0.5, std::nullopt), 4s);
}

TEST(RetryDelay, StopsGrowingAtTheCap) {
  const auto p = policy(1s, 5min);
  EXPECT_EQ(retry_delay(p, 9, 1.0, std::nullopt), 256s);
  EXPECT_EQ(retry_delay(p, 10, 1.0, std::nullopt), 5min);
  EXPECT_EQ(retry_delay(p, 1000, 1.0, std::nullopt), 5min);  // no overflow
  EXPECT_EQ(retry_delay(p, 1000, 0.1, std::nullopt), 30s);
}

TEST(RetryDelay, RetryAfterIsAFloor) {
  const auto p = policy(1s, 5min);
  EXPECT_EQ(retry_delay(p, 1, 0.0, 30s), 30s);
  EXPECT_EQ(retry_delay(p, 12, 1.0, 30s), 5min);    // backoff already longer
  EXPECT_EQ(retry_delay(p, 1, 1.0, 10min), 10min);  // above the cap: honoured
}

const auto t0 = std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000));

TEST(WebhookClassify, TwoHundredsAreDelivered) {
  EXPECT_EQ(classify_webhook_response(200, "", "", t0).kind, Kind::delivered);
  EXPECT_EQ(classify_webhook_response(204, "", "", t0).kind, Kind::delivered);
  EXPECT_EQ(classify_webhook_response(299, "", "", t0).kind, Kind::delivered);
}

TEST(WebhookClassify, ClientErrorsArePermanentExceptTimeoutAndThrottle) {
  for (unsigned status : {400u, 401u, 403u, 404u, 410u, 413u, 422u}) {
    const auto r = classify_webhook_response(status, "", "nope", t0);
    EXPECT_EQ(r.kind, Kind::permanent) << status;
    EXPECT_NE(r.error.find(std::to_string(status)), std::string::npos);
  }
  EXPECT_EQ(classify_webhook_response(408, "", "", t0).kind, Kind::retry);
  EXPECT_EQ(classify_webhook_response(429, "", "", t0).kind, Kind::retry);
}

TEST(WebhookClassify, ServerErrorsRetryHonouringRetryAfter) {
  for (unsigned status : {500u, 502u, 503u, 504u}) {
    EXPECT_EQ(classify_webhook_response(status, "", "", t0).kind, Kind::retry) << status;
  }
  const auto delta = classify_webhook_response(429, "7", "", t0);
  ASSERT_TRUE(delta.retry_after);
  EXPECT_EQ(*delta.retry_after, 7s);
  const auto date = classify_webhook_response(503, "Tue, 14 Nov 2023 22:14:20 GMT", "", t0);
  ASSERT_TRUE(date.retry_after);  // t0 is 22:13:20 that day
  EXPECT_EQ(*date.retry_after, 60s);
  EXPECT_FALSE(classify_webhook_response(503, "", "", t0).retry_after);
}

TEST(WebhookClassify, TransportErrorsRetry) {
  upstream::HttpResult timeout =
      upstream::TransportError{upstream::TransportErrorKind::timeout, "timeout after 1s"};
  const auto r = classify_webhook_result(timeout, t0);
  EXPECT_EQ(r.kind, Kind::retry);
  EXPECT_EQ(r.error, "timeout after 1s");
  upstream::HttpResult refused =
      upstream::TransportError{upstream::TransportErrorKind::connect, "connection refused"};
  EXPECT_EQ(classify_webhook_result(refused, t0).kind, Kind::retry);
}

TEST(WebhookClassify, ReadsRetryAfterFromResponseHeaders) {
  upstream::HttpResponse response;
  response.status = 429;
  response.headers.set(boost::beast::http::field::retry_after, "3");
  const auto r = classify_webhook_result(upstream::HttpResult(response), t0);
  EXPECT_EQ(r.kind, Kind::retry);
  ASSERT_TRUE(r.retry_after);
  EXPECT_EQ(*r.retry_after, 3s);
}

}  // namespace
}  // namespace jobwatch::sinks
