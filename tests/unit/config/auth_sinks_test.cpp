// The api.auth and sinks sections: required fields per type, exclusive
// pairs, and that secrets never reach a diagnostic.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "load_helpers.hpp"

namespace jobwatch::config {
namespace {

using ::testing::ElementsAre;
using testing::errors_of;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using testing::with_api;

TEST(Auth, TokenNeedsExactlyOneOfTokenAndTokenFile) {
  EXPECT_THAT(errors_of(with_api("  auth:\n    type: token\n")),
              ElementsAre("t.yaml:4:11: api.auth.type: type 'token' needs token or token_file"));
  EXPECT_THAT(errors_of(with_api("  auth:\n    type: token\n    token: abc\n    token_file: f\n")),
              ElementsAre("t.yaml:6:5: api.auth.token_file: give either token or token_file, "
                          "not both"));
  EXPECT_THAT(errors_of(with_api("  auth:\n    type: token\n    token: \"\"\n")),
              ElementsAre("t.yaml:5:12: api.auth.token: must not be empty"));
}

TEST(Auth, TypeIsRequiredAndChecked) {
  EXPECT_THAT(errors_of(with_api("  auth:\n    token: abc\n")),
              ElementsAre("t.yaml:3:3: api.auth: type is required (token, iam-password, aksk or "
                          "none)"));
  EXPECT_THAT(errors_of(with_api("  auth: {type: iam_password}\n")),
              ElementsAre("t.yaml:3:16: api.auth.type: 'iam_password' is not one of token, "
                          "iam-password, aksk, none; did you mean 'iam-password'?"));
}

TEST(Auth, IamPasswordNeedsDomainUserPasswordAndProject) {
  EXPECT_THAT(errors_of("api:\n  region: ap-southeast-3\n  auth:\n    type: iam-password\n"),
              ElementsAre("t.yaml:4:11: api.auth.type: type 'iam-password' needs domain",
                          "t.yaml:4:11: api.auth.type: type 'iam-password' needs user",
                          "t.yaml:4:11: api.auth.type: type 'iam-password' needs password or "
                          "password_file",
                          "t.yaml:4:11: api.auth.type: type 'iam-password' needs api.project_id "
                          "(the token is scoped to it)"));
}

TEST(Auth, IamEndpointDefaultsFromRegionOrHuaweiHost) {
  std::string common =
      "  project_id: p1\n  auth:\n    type: iam-password\n    domain: d\n"
      "    user: u\n    password_file: pw\n";
  auto by_region = load_string("api:\n  region: cn-north-4\n" + common, "t.yaml");
  ASSERT_TRUE(by_region.ok());
  EXPECT_EQ(by_region.config->api.auth.iam_endpoint, "https://iam.cn-north-4.myhuaweicloud.com");
  EXPECT_EQ(by_region.config->api.auth.type, AuthType::iam_password);
  EXPECT_EQ(by_region.config->api.auth.password.file, "pw");

  auto by_host = load_string(
      "api:\n  endpoint: https://workspace.ap-southeast-3.myhuaweicloud.com\n" + common, "t.yaml");
  ASSERT_TRUE(by_host.ok());
  EXPECT_EQ(by_host.config->api.auth.iam_endpoint, "https://iam.ap-southeast-3.myhuaweicloud.com");

  EXPECT_THAT(errors_of(with_api(common)),
              ElementsAre("t.yaml:5:11: api.auth.type: type 'iam-password' needs iam_endpoint: it "
                          "cannot be derived from api.endpoint (only from api.region or a "
                          "*.myhuaweicloud.com host)"));
  auto explicit_iam = load_string(with_api(common + "    iam_endpoint: http://127.0.0.1:9/"), "t");
  ASSERT_TRUE(explicit_iam.ok());
  EXPECT_EQ(explicit_iam.config->api.auth.iam_endpoint, "http://127.0.0.1:9");
}

TEST(Auth, AkskNeedsAccessKeyAndSecretKey) {
  EXPECT_THAT(errors_of(with_api("  auth:\n    type: aksk\n")),
              ElementsAre("t.yaml:4:11: api.auth.type: type 'aksk' needs access_key",
                          "t.yaml:4:11: api.auth.type: type 'aksk' needs secret_key or "
                          "secret_key_file"));
  auto ok = load_string(with_api("  auth:\n    type: aksk\n    access_key: AK\n"
                                 "    secret_key_file: /run/sk\n    security_token: st\n"),
                        "t.yaml");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok.config->api.auth.access_key, "AK");
  EXPECT_EQ(ok.config->api.auth.secret_key.file, "/run/sk");
  EXPECT_EQ(ok.config->api.auth.security_token.inline_value, "st");
}

TEST(Auth, KeysOfAnotherTypeAreErrors) {
  EXPECT_THAT(errors_of(with_api("  auth:\n    type: none\n    password: hunter2\n")),
              ElementsAre("t.yaml:5:5: api.auth.password: not used by auth type 'none'"));
}

TEST(Sinks, NamesAreRequiredAndUnique) {
  EXPECT_THAT(errors_of(with_api("sinks:\n"
                                 "  - {name: a, type: log}\n"
                                 "  - {name: a, type: log}\n"
                                 "  - {type: log}\n"
                                 "  - {name: \"a b\", type: log}\n")),
              ElementsAre("t.yaml:5:12: sinks[1].name: another sink is already named 'a'",
                          "t.yaml:6:5: sinks[2]: name is required",
                          "t.yaml:7:12: sinks[3].name: must be 1-63 characters of A-Z a-z 0-9 . "
                          "_ -"));
}

TEST(Sinks, TypesAndTheirRequiredKeys) {
  EXPECT_THAT(errors_of(with_api("sinks:\n"
                                 "  - {name: a}\n"
                                 "  - {name: b, type: email}\n"
                                 "  - {name: c, type: file}\n"
                                 "  - {name: d, type: webhook}\n"
                                 "  - {name: e, type: log, url: \"http://h\"}\n"
                                 "  - just a string\n")),
              ElementsAre("t.yaml:4:5: sinks[0]: type is required (log, file or webhook)",
                          "t.yaml:5:21: sinks[1].type: 'email' is not one of log, file, webhook",
                          "t.yaml:6:5: sinks[2]: type 'file' needs path",
                          "t.yaml:7:5: sinks[3]: type 'webhook' needs url",
                          "t.yaml:8:26: sinks[4].url: not used by sink type 'log'",
                          "t.yaml:9:5: sinks[5]: expected a mapping of keys to values"));
}

TEST(Sinks, WebhookUrlSecretEventsAndDurations) {
  EXPECT_THAT(errors_of(with_api("sinks:\n"
                                 "  - name: w\n"
                                 "    type: webhook\n"
                                 "    url: ftp://h/x\n"
                                 "    secret: whsec_abc\n"
                                 "    secret_file: /etc/s\n"
                                 "    events: [job.failed, job.fail, subjob.lost, [x]]\n"
                                 "    max_age: 3 days\n"
                                 "    timeout: 0ms\n")),
              ElementsAre("t.yaml:6:10: sinks[0].url: expected an http:// or https:// URL",
                          "t.yaml:8:5: sinks[0].secret_file: give either secret or secret_file, "
                          "not both",
                          "t.yaml:9:26: sinks[0].events[1]: unknown event type 'job.fail'; did "
                          "you mean 'job.failed'?",
                          "t.yaml:9:36: sinks[0].events[2]: unknown event type 'subjob.lost'",
                          "t.yaml:9:49: sinks[0].events[3]: expected an event type",
                          "t.yaml:10:14: sinks[0].max_age: '3 days' is not a duration (write "
                          "e.g. 500ms, 30s, 5m, 2h, 1d)",
                          "t.yaml:11:14: sinks[0].timeout: must be longer than zero"));
  EXPECT_THAT(errors_of(with_api("sinks:\n  - {name: w, type: webhook, url: \"http://h\", "
                                 "events: []}\n")),
              ElementsAre("t.yaml:4:55: sinks[0].events: must not be empty (leave it out to "
                          "receive every event type)"));
}

TEST(Sinks, WebhookUrlIsNeverQuoted) {
  // Webhook URLs often carry their own token in the path.
  auto errors = errors_of(
      with_api("sinks:\n  - {name: w, type: webhook, url: \"https://h/T0K3N:x@y\", timeout: x}\n"
               "  - {name: v, type: webhook, url: \"gopher://h/T0K3N\"}\n"));
  ASSERT_THAT(errors, ::testing::SizeIs(2));
  for (const auto& line : errors) EXPECT_THAT(line, Not(HasSubstr("T0K3N")));
}

TEST(Secrets, NeverAppearInDiagnostics) {
  const std::string secret = "Sup3rS3cretValue";
  for (const char* shape : {"[%]", "{k: %}", "{%: x}", "[{a: %}]"}) {
    std::string value = shape;
    value.replace(value.find('%'), 1, secret);
    std::string yaml =
        with_api("  auth:\n    type: aksk\n    access_key: AK\n    secret_key: " + value +
                 "\n    security_token: " + value + "\n    password: " + value +
                 "\nsinks:\n  - {name: w, type: webhook, url: \"http://h\", "
                 "secret: " +
                 value + "}\n");
    auto errors = errors_of(yaml);
    EXPECT_THAT(errors, Not(IsEmpty())) << shape;
    for (const auto& line : errors) EXPECT_THAT(line, Not(HasSubstr(secret))) << shape;
  }
  auto token_errors =
      errors_of(with_api("  auth:\n    type: token\n    token: [" + secret + "]\n"));
  EXPECT_THAT(token_errors,
              ElementsAre("t.yaml:5:12: api.auth.token: expected a string, but got a list"));
}

TEST(Sinks, AbsentSectionMeansOneLogSink) {
  auto absent = load_string(with_api(""), "t.yaml");
  ASSERT_TRUE(absent.ok());
  ASSERT_EQ(absent.config->sinks.size(), 1u);
  EXPECT_EQ(absent.config->sinks[0].name, "log");
  EXPECT_EQ(absent.config->sinks[0].type, SinkType::log);

  auto none = load_string(with_api("sinks: []\n"), "t.yaml");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none.config->sinks.empty());
}

}  // namespace
}  // namespace jobwatch::config
