// Every class of config problem, each with the exact place it is reported.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "load_helpers.hpp"

namespace jobwatch::config {
namespace {

using ::testing::ElementsAre;
using testing::errors_of;
using testing::with_api;

TEST(Diagnostic, FormatsAsFileLineColumnMessage) {
  Diagnostic d{"/etc/jobwatch/jobwatch.yaml", 3, 7, "api.rate_limit: expected a number"};
  EXPECT_EQ(d.to_string(), "/etc/jobwatch/jobwatch.yaml:3:7: api.rate_limit: expected a number");
}

TEST(LoadString, EmptyDocumentNeedsOnlyEndpointOrRegion) {
  EXPECT_THAT(errors_of(""), ElementsAre("t.yaml:1:1: api.endpoint or api.region is required"));
  EXPECT_THAT(errors_of("# nothing but a comment\n\n"),
              ElementsAre("t.yaml:1:1: api.endpoint or api.region is required"));
  EXPECT_THAT(errors_of("log: {level: debug}\n"),
              ElementsAre("t.yaml:1:1: api.endpoint or api.region is required"));
  EXPECT_THAT(errors_of("log: {level: debug}\napi:\n  project_id: p1\n"),
              ElementsAre("t.yaml:2:1: api.endpoint or api.region is required"));
}

TEST(LoadString, EndpointAndRegionAreExclusive) {
  EXPECT_THAT(errors_of("api:\n  region: cn-north-4\n  endpoint: https://a.example.com\n"),
              ElementsAre("t.yaml:3:3: api.endpoint: give either api.endpoint or api.region, "
                          "not both"));
}

TEST(LoadString, YamlSyntaxErrorsBecomeDiagnostics) {
  EXPECT_THAT(errors_of("api: [\n"), ElementsAre("t.yaml:2:1: end of sequence flow not found"));
  EXPECT_THAT(errors_of("api:\n  endpoint: http://h\n region: x\n"),
              ElementsAre("t.yaml:3:2: end of map not found"));
  EXPECT_THAT(errors_of("api:\n\tendpoint: x\n"), ::testing::SizeIs(1));
}

TEST(LoadString, OnlyOneDocument) {
  EXPECT_THAT(errors_of(with_api("---\nlog: {level: info}\n")),
              ElementsAre("t.yaml:4:1: the file must hold one YAML document, not several"));
}

TEST(LoadString, TopLevelMustBeAMapping) {
  EXPECT_THAT(errors_of("- a\n- b\n"),
              ElementsAre("t.yaml:1:1: the document: expected a mapping of keys to values"));
}

TEST(LoadString, UnknownKeysAtEveryLevel) {
  EXPECT_THAT(errors_of(with_api("  foo: 1\n"
                                 "  auth: {type: none, bar: 2}\n"
                                 "  tls: {verify: true, baz: 3}\n"
                                 "poll: {qux: 1}\n"
                                 "sinks:\n"
                                 "  - {name: a, type: log, quux: 1}\n"
                                 "extra: 1\n")),
              ElementsAre("t.yaml:3:3: unknown key 'foo' in api",
                          "t.yaml:4:22: unknown key 'bar' in api.auth",
                          "t.yaml:5:23: unknown key 'baz' in api.tls",
                          "t.yaml:6:8: unknown key 'qux' in poll",
                          "t.yaml:8:26: unknown key 'quux' in sinks[0]",
                          "t.yaml:9:1: unknown key 'extra' at the top level"));
}

TEST(LoadString, UnknownKeysSuggestTheClosestKnownKey) {
  EXPECT_THAT(errors_of("api:\n  endpont: https://a.example.com\n  region: eu-west-101\n"),
              ElementsAre("t.yaml:2:3: unknown key 'endpont' in api; did you mean 'endpoint'?"));
  EXPECT_THAT(errors_of(with_api("  max_conections: 3\npoll:\n  min_intreval: 1s\nlgo: {}\n")),
              ElementsAre("t.yaml:3:3: unknown key 'max_conections' in api; did you mean "
                          "'max_connections'?",
                          "t.yaml:5:3: unknown key 'min_intreval' in poll; did you mean "
                          "'min_interval'?",
                          "t.yaml:6:1: unknown key 'lgo' at the top level; did you mean 'log'?"));
}

TEST(LoadString, DuplicateKeys) {
  EXPECT_THAT(errors_of(with_api("log:\n  level: info\n  level: debug\n")),
              ElementsAre("t.yaml:5:3: duplicate key 'level' in log (first at line 4)"));
}

TEST(LoadString, WrongTypes) {
  EXPECT_THAT(
      errors_of(with_api("  max_connections: many\n"
                         "  rate_limit: [1]\n"
                         "  request_timeout: {a: 1}\n"
                         "  tls: {verify: sometimes}\n"
                         "  project_id:\n"
                         "poll: 5\n"
                         "sinks: {name: a}\n")),
      ElementsAre("t.yaml:3:20: api.max_connections: expected an integer",
                  "t.yaml:4:15: api.rate_limit: expected a number, but got a list",
                  "t.yaml:5:20: api.request_timeout: expected a duration, but got a mapping",
                  "t.yaml:6:17: api.tls.verify: expected true or false",
                  "t.yaml:7:3: api.project_id: expected a string, but the value is empty",
                  "t.yaml:8:7: poll: expected a mapping of keys to values",
                  "t.yaml:9:8: sinks: expected a list of sinks"));
}

TEST(LoadString, BadNumbers) {
  EXPECT_THAT(errors_of(with_api("  max_connections: 0\n"
                                 "  rate_limit: 0\n"
                                 "control:\n"
                                 "  max_message: 1023\n"
                                 "  max_watches: 0\n")),
              ElementsAre("t.yaml:3:20: api.max_connections: must be between 1 and 1024",
                          "t.yaml:4:15: api.rate_limit: must be greater than zero (requests per "
                          "second)",
                          "t.yaml:6:16: control.max_message: must be at least 1024",
                          "t.yaml:7:16: control.max_watches: must be at least 1"));
  EXPECT_THAT(errors_of(with_api("  max_connections: 1025\n")),
              ElementsAre("t.yaml:3:20: api.max_connections: must be between 1 and 1024"));
  EXPECT_THAT(errors_of(with_api("  max_connections: 1.5\n")),
              ElementsAre("t.yaml:3:20: api.max_connections: expected an integer"));
  EXPECT_THAT(errors_of(with_api("  rate_limit: .nan\n")),
              ElementsAre("t.yaml:3:15: api.rate_limit: expected a number"));
}

TEST(LoadString, TargetDelayMustBePositive) {
  EXPECT_THAT(errors_of(with_api("poll: {target_delay: 0s}\n")),
              ElementsAre("t.yaml:3:22: poll.target_delay: must be longer than zero"));
  EXPECT_THAT(errors_of(with_api("poll: {target_delay: soon}\n")),
              ElementsAre("t.yaml:3:22: poll.target_delay: 'soon' is not a duration (write e.g. "
                          "500ms, 30s, 5m, 2h, 1d)"));
}

TEST(LoadString, BadDurations) {
  EXPECT_THAT(errors_of(with_api("  request_timeout: 10 seconds\n"
                                 "poll: {min_interval: -1s, not_found_grace: 0s}\n"
                                 "state: {retention: 1w}\n")),
              ElementsAre("t.yaml:3:20: api.request_timeout: '10 seconds' is not a duration "
                          "(write e.g. 500ms, 30s, 5m, 2h, 1d)",
                          "t.yaml:4:22: poll.min_interval: '-1s' is not a duration (write e.g. "
                          "500ms, 30s, 5m, 2h, 1d)",
                          "t.yaml:4:44: poll.not_found_grace: must be longer than zero",
                          "t.yaml:5:20: state.retention: '1w' is not a duration (write e.g. "
                          "500ms, 30s, 5m, 2h, 1d)"));
}

TEST(LoadString, MinIntervalMustNotExceedMaxInterval) {
  EXPECT_THAT(errors_of(with_api("poll:\n  max_interval: 1m\n  min_interval: 90s\n")),
              ElementsAre("t.yaml:5:17: poll.min_interval: min_interval (1m30s) must not be "
                          "longer than max_interval (1m)"));
  // Against the default max_interval (2m).
  EXPECT_THAT(errors_of(with_api("poll:\n  min_interval: 3m\n")),
              ElementsAre("t.yaml:4:17: poll.min_interval: min_interval (3m) must not be longer "
                          "than max_interval (2m)"));
}

TEST(LoadString, SocketMode) {
  EXPECT_THAT(errors_of(with_api("control: {socket_mode: \"0989\"}\n")),
              ElementsAre("t.yaml:3:24: control.socket_mode: expected octal permission bits up "
                          "to 0777, like \"0660\""));
  EXPECT_THAT(errors_of(with_api("control: {socket_mode: 01777}\n")), ::testing::SizeIs(1));
  EXPECT_THAT(errors_of(with_api("control: {socket: \"\"}\n")),
              ElementsAre("t.yaml:3:19: control.socket: must not be empty"));
  EXPECT_THAT(errors_of(with_api("control: {socket: /" + std::string(107, 'x') + "}\n")),
              ElementsAre("t.yaml:3:19: control.socket: longer than 107 bytes, the limit of a "
                          "Unix socket path"));
}

TEST(LoadString, Endpoints) {
  auto endpoint = [](std::string value) { return errors_of("api:\n  endpoint: " + value + "\n"); };
  EXPECT_THAT(endpoint("ftp://a.example.com"),
              ElementsAre("t.yaml:2:13: api.endpoint: expected an http:// or https:// URL"));
  EXPECT_THAT(endpoint("a.example.com"),
              ElementsAre("t.yaml:2:13: api.endpoint: expected an http:// or https:// URL"));
  EXPECT_THAT(endpoint("https://"), ElementsAre("t.yaml:2:13: api.endpoint: the URL has no host"));
  EXPECT_THAT(endpoint("https://a.example.com/v1"),
              ElementsAre("t.yaml:2:13: api.endpoint: the URL must not have a path or query "
                          "(only scheme, host and port)"));
  EXPECT_THAT(endpoint("https://a.example.com:99999"),
              ElementsAre("t.yaml:2:13: api.endpoint: the URL's port must be 1-65535"));
  EXPECT_THAT(endpoint("https://a_b.example.com"),
              ElementsAre("t.yaml:2:13: api.endpoint: the URL's host is not a valid host name "
                          "or address"));
  EXPECT_THAT(endpoint("https://a.example.com/"), ::testing::IsEmpty());
  EXPECT_THAT(endpoint("http://[::1]:8080"), ::testing::IsEmpty());
  EXPECT_THAT(errors_of(with_api("  proxy: https://proxy:3128\n")),
              ElementsAre("t.yaml:3:10: api.proxy: expected an http:// URL"));
  EXPECT_THAT(errors_of("api: {region: AP_1}\n"),
              ElementsAre("t.yaml:1:15: api.region: 'AP_1' is not a region name (like "
                          "ap-southeast-3)"));
  EXPECT_THAT(errors_of(with_api("  project_id: ../x\n")),
              ElementsAre("t.yaml:3:15: api.project_id: must be 1-64 characters of A-Z a-z 0-9 "
                          "- _"));
}

TEST(LoadString, UrlsWithCredentialsAreNotQuoted) {
  auto errors = errors_of("api:\n  endpoint: https://user:pa55word@a.example.com\n");
  ASSERT_THAT(errors, ElementsAre("t.yaml:2:13: api.endpoint: user credentials in the URL are "
                                  "not supported"));
}

TEST(LoadString, EnumerationsSuggestTheClosestValue) {
  EXPECT_THAT(errors_of(with_api("log: {level: wran}\n")),
              ElementsAre("t.yaml:3:14: log.level: 'wran' is not one of trace, debug, info, "
                          "warn, error; did you mean 'warn'?"));
  EXPECT_THAT(errors_of(with_api("log: {level: verbose}\n")),
              ElementsAre("t.yaml:3:14: log.level: 'verbose' is not one of trace, debug, info, "
                          "warn, error"));
}

TEST(LoadString, MetricsListen) {
  EXPECT_THAT(errors_of(with_api("metrics: {listen: localhost}\n")),
              ElementsAre("t.yaml:3:19: metrics.listen: expected host:port, like "
                          "127.0.0.1:9464"));
  EXPECT_THAT(errors_of(with_api("metrics: {listen: \"127.0.0.1:70000\"}\n")),
              ::testing::SizeIs(1));
  EXPECT_THAT(errors_of(with_api("metrics: {listen: \"[::1]:0\"}\n")), ::testing::IsEmpty());
  EXPECT_THAT(errors_of(with_api("metrics: {listen: \"\"}\n")), ::testing::IsEmpty());
}

TEST(LoadString, MetricsListenIsLoopbackOnly) {
  for (const char* ok : {"127.0.0.1:9464", "127.1.2.3:9464", "[::1]:9464", "[0:0:0:0:0:0:0:1]:1",
                         "localhost:9464", "LocalHost:0"}) {
    EXPECT_THAT(errors_of(with_api("metrics: {listen: \"" + std::string(ok) + "\"}\n")),
                ::testing::IsEmpty())
        << ok;
  }
  EXPECT_THAT(errors_of(with_api("metrics: {listen: \"0.0.0.0:9464\"}\n")),
              ElementsAre("t.yaml:3:19: metrics.listen: must be a loopback address (127.0.0.1, "
                          "[::1] or localhost): the endpoint has no authentication"));
  for (const char* bad :
       {"[::]:9464", "10.0.0.1:9464", "128.0.0.1:9464", "127.1:9464", "[::ffff:127.0.0.1]:9464",
        "example.com:9464", "localhost.:9464", "my-localhost:9464", "[fe80::1]:9464"}) {
    auto errors = errors_of(with_api("metrics: {listen: \"" + std::string(bad) + "\"}\n"));
    ASSERT_THAT(errors, ::testing::SizeIs(1)) << bad;
    EXPECT_THAT(errors[0], ::testing::HasSubstr("must be a loopback address")) << bad;
  }
}

TEST(LoadString, CollectsEveryProblemInFileOrder) {
  auto errors = errors_of(
      "log: {level: loud}\n"
      "api:\n"
      "  endpoint: https://a.example.com\n"
      "  max_connections: 0\n"
      "poll: {max_interval: forever}\n"
      "bogus: true\n");
  EXPECT_THAT(errors, ElementsAre("t.yaml:1:14: log.level: 'loud' is not one of trace, debug, "
                                  "info, warn, error",
                                  "t.yaml:4:20: api.max_connections: must be between 1 and 1024",
                                  "t.yaml:5:22: poll.max_interval: 'forever' is not a duration "
                                  "(write e.g. 500ms, 30s, 5m, 2h, 1d)",
                                  "t.yaml:6:1: unknown key 'bogus' at the top level"));
  EXPECT_FALSE(load_string("bogus: 1\n", "t.yaml").config.has_value());
}

}  // namespace
}  // namespace jobwatch::config
