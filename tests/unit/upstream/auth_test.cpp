#include "jobwatch/upstream/auth.hpp"

#include <gtest/gtest.h>

#include "jobwatch/config/config.hpp"
#include "upstream/test_support.hpp"

namespace jobwatch::upstream {
namespace {

using jobwatch::testing::TempFile;

std::unique_ptr<Authenticator> make_ok(const config::ApiConfig& api) {
  auto made = make_authenticator(api);
  if (auto* error = std::get_if<std::string>(&made)) {
    ADD_FAILURE() << *error;
    return nullptr;
  }
  return std::move(std::get<std::unique_ptr<Authenticator>>(made));
}

std::string make_error(const config::ApiConfig& api) {
  auto made = make_authenticator(api);
  if (auto* error = std::get_if<std::string>(&made)) return *error;
  ADD_FAILURE() << "expected an error";
  return {};
}

// Runs prepare() and returns the headers it added (auth types none and
// token answer inline).
std::vector<std::pair<std::string, std::string>> prepared_headers(Authenticator& auth) {
  HttpRequest request;
  request.target = "/v1/p/job/j";
  bool ready = false;
  auth.prepare(request, Origin{true, "example.test", 443}, [&](std::optional<std::string> error) {
    EXPECT_FALSE(error.has_value());
    ready = true;
  });
  EXPECT_TRUE(ready);
  return request.headers;
}

TEST(Auth, NoneAddsNothing) {
  config::ApiConfig api;
  api.auth.type = config::AuthType::none;
  auto auth = make_ok(api);
  ASSERT_TRUE(auth);
  EXPECT_TRUE(prepared_headers(*auth).empty());
  EXPECT_EQ(auth->describe(), "none");
  EXPECT_FALSE(auth->invalidate());
}

TEST(Auth, InlineToken) {
  config::ApiConfig api;
  api.auth.type = config::AuthType::token;
  api.auth.token.inline_value = "tok-123";
  auto auth = make_ok(api);
  ASSERT_TRUE(auth);
  using Headers = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(prepared_headers(*auth), (Headers{{"X-Auth-Token", "tok-123"}}));
  EXPECT_EQ(auth->describe(), "token");
  EXPECT_FALSE(auth->invalidate());  // a static token cannot be refreshed
}

TEST(Auth, TokenFromFile) {
  TempFile file("file-token-456\n");
  config::ApiConfig api;
  api.auth.type = config::AuthType::token;
  api.auth.token.file = file.path();
  auto auth = make_ok(api);
  ASSERT_TRUE(auth);
  using Headers = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(prepared_headers(*auth), (Headers{{"X-Auth-Token", "file-token-456"}}));
}

TEST(Auth, MissingTokenFileNamesTheFile) {
  config::ApiConfig api;
  api.auth.type = config::AuthType::token;
  api.auth.token.file = "/nonexistent/jobwatch/token";
  auto error = make_error(api);
  EXPECT_NE(error.find("/nonexistent/jobwatch/token"), std::string::npos) << error;
  EXPECT_NE(error.find("api.auth.token"), std::string::npos) << error;
}

TEST(Auth, TokenWithControlCharactersIsRefusedWithoutEchoingIt) {
  config::ApiConfig api;
  api.auth.type = config::AuthType::token;
  api.auth.token.inline_value = "sekrit\r\nX-Evil: 1";
  auto error = make_error(api);
  EXPECT_NE(error.find("api.auth.token"), std::string::npos) << error;
  EXPECT_EQ(error.find("sekrit"), std::string::npos) << error;
}

TEST(Auth, IamPasswordNeedsTheEventLoop) {
  config::ApiConfig api;
  api.auth.type = config::AuthType::iam_password;
  EXPECT_EQ(make_error(api), "api.auth: iam-password needs the daemon's event loop");
}

}  // namespace
}  // namespace jobwatch::upstream
