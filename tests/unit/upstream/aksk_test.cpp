#include <gtest/gtest.h>

#include "jobwatch/config/config.hpp"
#include "jobwatch/upstream/aksk_signer.hpp"
#include "jobwatch/upstream/auth.hpp"
#include "upstream/test_support.hpp"

namespace jobwatch::upstream {
namespace {

using namespace std::chrono_literals;
using std::chrono::system_clock;
using Names = std::vector<std::string>;

system_clock::time_point at(int y, unsigned mo, unsigned d, int h, int mi, int s) {
  return std::chrono::sys_days(std::chrono::year(y) / mo / d) + std::chrono::hours(h) +
         std::chrono::minutes(mi) + std::chrono::seconds(s);
}

std::string signature_of(const std::string& authorization) {
  auto at = authorization.find("Signature=");
  return at == std::string::npos ? "" : authorization.substr(at + 10);
}

// huaweicloud-sdk-go-v3 core/auth/signer's own test vectors.
TEST(AkskSigner, GoSdkVectorGet) {
  aksk::MessageView message;
  message.method = "GET";
  message.target = "/path?limit=1";
  message.headers = {{"X-Sdk-Date", "20060102T150405Z"}, {"Host", "example.huaweicloud.com"}};
  auto value = aksk::authorization("AccessKey", "SecretKey", message, {"x-sdk-date"});
  ASSERT_TRUE(value);
  EXPECT_EQ(*value,
            "SDK-HMAC-SHA256 Access=AccessKey, SignedHeaders=x-sdk-date, "
            "Signature=5a2ce64c865e0e6046321c6f3d5a77ba8413eeaf355c3166c03d58d02ac79624");
}

TEST(AkskSigner, GoSdkVectorPostWithBody) {
  aksk::MessageView message;
  message.method = "POST";
  message.target = "/path?key=value";
  message.headers = {{"X-Sdk-Date", "20060102T150405Z"}, {"Content-Type", "application/json"}};
  message.body = "{\"Name\":\"test\",\"Id\":1}\n";
  auto value = aksk::authorization("AccessKey", "SecretKey", message, {"x-sdk-date"});
  ASSERT_TRUE(value);
  EXPECT_EQ(signature_of(*value),
            "cecc2af119b18ab70b4d094c0750f3b42c02f254903179a0fc2cc72fc9db4f59");
}

TEST(AkskSigner, CanonicalRequestLayout) {
  aksk::MessageView message;
  message.method = "GET";
  message.target = "/path?limit=1";
  message.headers = {{"X-Sdk-Date", "20060102T150405Z"}};
  EXPECT_EQ(aksk::canonical_request(message, {"x-sdk-date"}),
            "GET\n/path/\nlimit=1\nx-sdk-date:20060102T150405Z\n\nx-sdk-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(aksk::string_to_sign("abc", "20060102T150405Z"),
            "SDK-HMAC-SHA256\n20060102T150405Z\n"
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(AkskSigner, SdkDateFormatAndParse) {
  auto t = at(2006, 1, 2, 15, 4, 5) + 999ms;
  EXPECT_EQ(aksk::format_sdk_date(t), "20060102T150405Z");
  EXPECT_EQ(aksk::parse_sdk_date("20060102T150405Z"), at(2006, 1, 2, 15, 4, 5));
  EXPECT_FALSE(aksk::parse_sdk_date("2006-01-02T15:04:05Z"));
  EXPECT_FALSE(aksk::parse_sdk_date("20061302T150405Z"));
  EXPECT_FALSE(aksk::parse_sdk_date("20060102T150405"));
}

TEST(AkskSigner, PathSegmentsAreEncodedWithTrailingSlash) {
  EXPECT_EQ(aksk::canonical_uri(""), "/");
  EXPECT_EQ(aksk::canonical_uri("/"), "/");
  EXPECT_EQ(aksk::canonical_uri("/v1/p/job/j"), "/v1/p/job/j/");
  EXPECT_EQ(aksk::canonical_uri("/a b/c:d/"), "/a%20b/c%3Ad/");
  // An already-encoded target canonicalizes like its plain form, uppercase hex.
  EXPECT_EQ(aksk::canonical_uri("/a%20b/c%3ad"), "/a%20b/c%3Ad/");
  EXPECT_EQ(aksk::canonical_uri("/-_.~AZaz09*"), "/-_.~AZaz09%2A/");
  EXPECT_EQ(aksk::encode("é"), "%C3%A9");
}

TEST(AkskSigner, QueryIsEncodedAndSorted) {
  EXPECT_EQ(aksk::canonical_query(""), "");
  EXPECT_EQ(aksk::canonical_query("b=2&a=1"), "a=1&b=2");
  EXPECT_EQ(aksk::canonical_query("a=2&a=1"), "a=1&a=2");
  EXPECT_EQ(aksk::canonical_query("flag&x=a b"), "flag=&x=a%20b");
  EXPECT_EQ(aksk::canonical_query("k%2Fey=v%2fal*"), "k%2Fey=v%2Fal%2A");
}

TEST(AkskSigner, HeadersAreLowercasedTrimmedAndSorted) {
  std::vector<aksk::HeaderView> headers = {{"X-Sdk-Date", " 20060102T150405Z "},
                                           {"HOST", "h.example\t"},
                                           {"X-Project-Id", "p1"},
                                           {"Accept", "not signed"}};
  auto names = aksk::normalize_signed_names({"X-Sdk-Date", "host", "x-project-id", "host"});
  EXPECT_EQ(names, (Names{"host", "x-project-id", "x-sdk-date"}));
  EXPECT_EQ(aksk::canonical_headers(headers, names),
            "host:h.example\nx-project-id:p1\nx-sdk-date:20060102T150405Z\n");
}

TEST(AkskSigner, VerifyAcceptsItsOwnSignatureAndRejectsTampering) {
  auto now = at(2024, 5, 1, 12, 0, 0);
  std::string date = aksk::format_sdk_date(now);
  aksk::MessageView message;
  message.method = "GET";
  message.target = "/v1/p/job/j";
  message.headers = {{"Host", "h:1"}, {"X-Sdk-Date", date}};
  auto value = aksk::authorization("AK", "SK", message, {"host", "x-sdk-date"});
  ASSERT_TRUE(value);
  message.headers.emplace_back("Authorization", *value);
  EXPECT_EQ(aksk::verify(message, "AK", "SK", now), aksk::VerifyResult::ok);
  EXPECT_EQ(aksk::verify(message, "AK", "SK2", now), aksk::VerifyResult::bad_signature);
  EXPECT_EQ(aksk::verify(message, "AK2", "SK", now), aksk::VerifyResult::unknown_key);
  EXPECT_EQ(aksk::verify(message, "AK", "SK", now + 16min), aksk::VerifyResult::skewed);
  EXPECT_EQ(aksk::verify(message, "AK", "SK", now - 14min), aksk::VerifyResult::ok);
  auto tampered = message;
  tampered.target = "/v1/p/job/other";
  EXPECT_EQ(aksk::verify(tampered, "AK", "SK", now), aksk::VerifyResult::bad_signature);
  tampered = message;
  tampered.headers[0].second = "evil:1";
  EXPECT_EQ(aksk::verify(tampered, "AK", "SK", now), aksk::VerifyResult::bad_signature);
  tampered = message;
  tampered.headers.pop_back();
  EXPECT_EQ(aksk::verify(tampered, "AK", "SK", now), aksk::VerifyResult::unsigned_request);
  tampered.headers.emplace_back("Authorization", "SDK-HMAC-SHA256 Access=AK");
  EXPECT_EQ(aksk::verify(tampered, "AK", "SK", now), aksk::VerifyResult::malformed);
}

TEST(AkskSigner, ClockOffsetFromASkew401) {
  auto local = at(2024, 5, 1, 12, 0, 0);
  const std::string skew_body =
      R"({"error_code":"APIGW.0303","error_msg":"Incorrect app authentication information: signature expired"})";
  // The gateway is 30 min ahead.
  auto offset =
      aksk::corrected_clock_offset(401, skew_body, "Wed, 01 May 2024 12:30:00 GMT", local, 0s);
  EXPECT_EQ(offset, std::optional<std::chrono::seconds>(1800s));
  // Already corrected (a concurrent request did it): keep, but retry.
  offset =
      aksk::corrected_clock_offset(401, skew_body, "Wed, 01 May 2024 12:30:01 GMT", local, 1800s);
  EXPECT_EQ(offset, std::optional<std::chrono::seconds>(1800s));
  // A Date far off is skew even when the message does not say so.
  offset = aksk::corrected_clock_offset(401, "{}", "Wed, 01 May 2024 11:00:00 GMT", local, 0s);
  EXPECT_EQ(offset, std::optional<std::chrono::seconds>(-3600s));
  // Not about time: a bad signature with an agreeing clock, no Date, not a 401.
  const std::string bad_sig =
      R"({"error_code":"APIGW.0301","error_msg":"Incorrect IAM authentication information: verify aksk signature fail"})";
  EXPECT_FALSE(
      aksk::corrected_clock_offset(401, bad_sig, "Wed, 01 May 2024 12:00:02 GMT", local, 0s));
  EXPECT_FALSE(aksk::corrected_clock_offset(401, skew_body, "", local, 0s));
  EXPECT_FALSE(
      aksk::corrected_clock_offset(403, skew_body, "Wed, 01 May 2024 12:30:00 GMT", local, 0s));
}

// --- the authenticator ---

config::ApiConfig aksk_api(const std::string& sk) {
  config::ApiConfig api;
  api.project_id = "default-project";
  api.auth.type = config::AuthType::aksk;
  api.auth.access_key = "HPUAEXAMPLEKEY123456";
  api.auth.secret_key.inline_value = sk;
  return api;
}

std::unique_ptr<Authenticator> make(const config::ApiConfig& api) {
  auto made = make_authenticator(api);
  if (auto* error = std::get_if<std::string>(&made)) {
    ADD_FAILURE() << *error;
    return nullptr;
  }
  return std::move(std::get<std::unique_ptr<Authenticator>>(made));
}

HttpRequest prepared(Authenticator& auth, const std::string& target, const Origin& origin) {
  HttpRequest request;
  request.target = target;
  request.headers.emplace_back("Accept", "application/json");
  bool ready = false;
  auth.prepare(request, origin, [&](std::optional<std::string> error) {
    EXPECT_FALSE(error.has_value());
    ready = true;
  });
  EXPECT_TRUE(ready);
  return request;
}

std::string header(const HttpRequest& request, std::string_view name) {
  for (const auto& [n, v] : request.headers)
    if (n == name) return v;
  return {};
}

aksk::MessageView view_of(const HttpRequest& request) {
  aksk::MessageView message;
  message.method = "GET";
  message.target = request.target;
  for (const auto& [n, v] : request.headers) message.headers.emplace_back(n, v);
  return message;
}

TEST(AkskAuth, SignsHostDateProjectAndVerifies) {
  auto auth = make(aksk_api("the-secret-key"));
  ASSERT_TRUE(auth);
  Origin origin{true, "gw.example", 8443};
  auto request = prepared(*auth, "/v1/proj-in-url/job/j1", origin);
  EXPECT_EQ(header(request, "Host"), "gw.example:8443");
  EXPECT_EQ(header(request, "X-Project-Id"), "proj-in-url");
  EXPECT_EQ(header(request, "X-Security-Token"), "");
  auto date = aksk::parse_sdk_date(header(request, "X-Sdk-Date"));
  ASSERT_TRUE(date);
  std::string authorization = header(request, "Authorization");
  EXPECT_NE(authorization.find("SignedHeaders=host;x-project-id;x-sdk-date,"), std::string::npos)
      << authorization;
  EXPECT_EQ(aksk::verify(view_of(request), "HPUAEXAMPLEKEY123456", "the-secret-key", *date),
            aksk::VerifyResult::ok);
  // A target without a project falls back to api.project_id.
  EXPECT_EQ(header(prepared(*auth, "/other", origin), "X-Project-Id"), "default-project");
}

TEST(AkskAuth, TemporaryCredentialsSendAndSignTheSecurityToken) {
  jobwatch::testing::TempFile token_file("temp-token-xyz\n");
  auto api = aksk_api("sk");
  api.auth.security_token.file = token_file.path();
  auto auth = make(api);
  ASSERT_TRUE(auth);
  auto request = prepared(*auth, "/v1/p/job/j", Origin{true, "gw.example", 443});
  EXPECT_EQ(header(request, "Host"), "gw.example");
  EXPECT_EQ(header(request, "X-Security-Token"), "temp-token-xyz");
  EXPECT_NE(header(request, "Authorization")
                .find("SignedHeaders=host;x-project-id;x-sdk-date;x-security-token,"),
            std::string::npos);
  auto date = aksk::parse_sdk_date(header(request, "X-Sdk-Date"));
  ASSERT_TRUE(date);
  EXPECT_EQ(aksk::verify(view_of(request), "HPUAEXAMPLEKEY123456", "sk", *date),
            aksk::VerifyResult::ok);
}

TEST(AkskAuth, DescribeShowsNoSecret) {
  jobwatch::testing::TempFile token_file("temp-token-xyz");
  auto api = aksk_api("super-secret-key");
  api.auth.security_token.file = token_file.path();
  auto auth = make(api);
  ASSERT_TRUE(auth);
  std::string text = auth->describe();
  EXPECT_EQ(text, "aksk (AccessKey HPUA…)");
  EXPECT_EQ(text.find("super-secret-key"), std::string::npos);
  EXPECT_EQ(text.find("temp-token"), std::string::npos);
  EXPECT_EQ(text.find("EXAMPLEKEY"), std::string::npos);
}

TEST(AkskAuth, MissingSecretFileIsAnErrorNamingTheSetting) {
  auto api = aksk_api("");
  api.auth.secret_key.file = "/nonexistent/jobwatch/sk";
  auto made = make_authenticator(api);
  ASSERT_TRUE(std::holds_alternative<std::string>(made));
  const auto& error = std::get<std::string>(made);
  EXPECT_NE(error.find("api.auth.secret_key"), std::string::npos) << error;
}

TEST(AkskAuth, SkewedGatewayDateMovesXSdkDate) {
  auto auth = make(aksk_api("sk"));
  ASSERT_TRUE(auth);
  HttpResponse response;
  response.status = 401;
  response.body =
      R"({"error_code":"APIGW.0303","error_msg":"Incorrect app authentication information: signature expired"})";
  auto gateway_now = system_clock::now() + 30min;
  std::time_t t = system_clock::to_time_t(gateway_now);
  std::tm utc{};
  gmtime_r(&t, &utc);
  char date[64];
  std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &utc);
  response.headers.set(boost::beast::http::field::date, date);
  EXPECT_TRUE(auth->on_unauthorized(response));  // one retry helps

  auto request = prepared(*auth, "/v1/p/job/j", Origin{true, "gw.example", 443});
  auto signed_at = aksk::parse_sdk_date(header(request, "X-Sdk-Date"));
  ASSERT_TRUE(signed_at);
  auto distance = *signed_at - gateway_now;
  EXPECT_LT(std::chrono::abs(distance), 2min) << header(request, "X-Sdk-Date");
  // The gateway, with its clock, accepts it now.
  EXPECT_EQ(aksk::verify(view_of(request), "HPUAEXAMPLEKEY123456", "sk", gateway_now),
            aksk::VerifyResult::ok);

  // A plain bad-signature 401 is no skew: nothing to retry.
  HttpResponse bad;
  bad.status = 401;
  bad.body = R"({"error_code":"APIGW.0301","error_msg":"verify aksk signature fail"})";
  EXPECT_FALSE(auth->on_unauthorized(bad));
}

}  // namespace
}  // namespace jobwatch::upstream
