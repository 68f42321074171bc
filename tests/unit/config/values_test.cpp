// What a valid file turns into: every key lands in its Config field, and
// absent keys keep their defaults. Also the two example files.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "load_helpers.hpp"

namespace jobwatch::config {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using testing::errors_of;
using ::testing::IsEmpty;
using testing::with_api;

TEST(Values, DefaultsWhenOnlyTheEndpointIsGiven) {
  auto result = load_string("api: {endpoint: \"https://a.example.com/\"}\n", "t.yaml");
  ASSERT_TRUE(result.ok()) << result.errors.front().to_string();
  const Config& c = *result.config;
  const Config defaults;
  EXPECT_EQ(c.api.endpoint, "https://a.example.com");  // the trailing "/" is dropped
  EXPECT_EQ(c.api.auth.type, AuthType::none);
  EXPECT_EQ(c.api.request_timeout, defaults.api.request_timeout);
  EXPECT_EQ(c.api.max_connections, defaults.api.max_connections);
  EXPECT_EQ(c.poll.target_delay, 10s);
  EXPECT_EQ(c.poll.min_interval, defaults.poll.min_interval);
  EXPECT_EQ(c.poll.max_interval, defaults.poll.max_interval);
  EXPECT_EQ(c.control.socket, defaults.control.socket);
  EXPECT_EQ(c.control.socket_mode, 0660u);
  EXPECT_EQ(c.state.dir, defaults.state.dir);
  EXPECT_EQ(c.log.level, "info");
  EXPECT_EQ(c.metrics.listen, "");
}

TEST(Values, EveryKeyIsRead) {
  auto result = load_string(
      "api:\n"
      "  region: cn-north-4\n"
      "  project_id: proj_1\n"
      "  auth: {type: token, token_file: api-token}\n"
      "  request_timeout: 1.5s\n"
      "  max_connections: 4\n"
      "  rate_limit: 0.5\n"
      "  tls: {verify: false, ca_file: /etc/ca.pem}\n"
      "  proxy: http://proxy:3128\n"
      "poll: {target_delay: 1500ms, min_interval: 500ms, max_interval: 5s, default_deadline: 10m,"
      " not_found_grace: 20}\n"
      "control: {socket: /tmp/c.sock, socket_mode: 0600, max_message: 2048, idle_timeout: 1m,"
      " max_watches: 10}\n"
      "state: {dir: /tmp/state, retention: 1d}\n"
      "sinks:\n"
      "  - {name: f, type: file, path: /tmp/e.jsonl, max_age: 1h}\n"
      "  - {name: w, type: webhook, url: \"https://h.example.com/x?y=1\", secret: whsec_AAAA,"
      " events: [job.failed, watch.abandoned, job.failed], timeout: 2s}\n"
      "log: {level: debug}\n"
      "metrics: {listen: \"127.0.0.1:0\"}\n",
      "t.yaml");
  ASSERT_TRUE(result.ok()) << result.errors.front().to_string();
  const Config& c = *result.config;
  EXPECT_EQ(c.api.region, "cn-north-4");
  EXPECT_EQ(c.api.endpoint, "");
  EXPECT_EQ(c.api.project_id, "proj_1");
  EXPECT_EQ(c.api.auth.type, AuthType::token);
  EXPECT_EQ(c.api.auth.token.file, "api-token");
  EXPECT_EQ(c.api.auth.token.inline_value, "");
  EXPECT_EQ(c.api.request_timeout, 1500ms);
  EXPECT_EQ(c.api.max_connections, 4);
  EXPECT_DOUBLE_EQ(c.api.rate_limit, 0.5);
  EXPECT_FALSE(c.api.tls.verify);
  EXPECT_EQ(c.api.tls.ca_file, "/etc/ca.pem");
  EXPECT_EQ(c.api.proxy, "http://proxy:3128");
  EXPECT_EQ(c.poll.target_delay, 1500ms);
  EXPECT_EQ(c.poll.min_interval, 500ms);
  EXPECT_EQ(c.poll.max_interval, 5s);
  EXPECT_EQ(c.poll.default_deadline, 10min);
  EXPECT_EQ(c.poll.not_found_grace, 20s);
  EXPECT_EQ(c.control.socket, "/tmp/c.sock");
  EXPECT_EQ(c.control.socket_mode, 0600u);
  EXPECT_EQ(c.control.max_message, 2048u);
  EXPECT_EQ(c.control.idle_timeout, 1min);
  EXPECT_EQ(c.control.max_watches, 10u);
  EXPECT_EQ(c.state.dir, "/tmp/state");
  EXPECT_EQ(c.state.retention, 24h);
  ASSERT_EQ(c.sinks.size(), 2u);
  EXPECT_EQ(c.sinks[0].name, "f");
  EXPECT_EQ(c.sinks[0].type, SinkType::file);
  EXPECT_EQ(c.sinks[0].path, "/tmp/e.jsonl");
  EXPECT_EQ(c.sinks[0].max_age, 1h);
  EXPECT_THAT(c.sinks[0].events, IsEmpty());
  EXPECT_EQ(c.sinks[1].type, SinkType::webhook);
  EXPECT_EQ(c.sinks[1].url, "https://h.example.com/x?y=1");
  EXPECT_EQ(c.sinks[1].secret.inline_value, "whsec_AAAA");
  EXPECT_THAT(c.sinks[1].events, ElementsAre("job.failed", "watch.abandoned"));
  EXPECT_EQ(c.sinks[1].timeout, 2s);
  EXPECT_EQ(c.log.level, "debug");
  EXPECT_EQ(c.metrics.listen, "127.0.0.1:0");
}

TEST(Values, SocketModeAcceptsQuotedAndUnquotedOctal) {
  for (const char* mode : {"\"0660\"", "0660", "'660'", "0o660"}) {
    auto result = load_string(with_api("control: {socket_mode: " + std::string(mode) + "}\n"), "t");
    ASSERT_TRUE(result.ok()) << mode;
    EXPECT_EQ(result.config->control.socket_mode, 0660u) << mode;
  }
  auto all = load_string(with_api("control: {socket_mode: \"0777\"}\n"), "t");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all.config->control.socket_mode, 0777u);
}

TEST(Values, EmptySectionsKeepDefaults) {
  EXPECT_THAT(errors_of(with_api("poll:\ncontrol:\n  # socket: /x\nmetrics:\n")), IsEmpty());
}

TEST(LoadFile, ReadsTheFileAndNamesItInDiagnostics) {
  auto dir = std::filesystem::temp_directory_path() /
             ("jobwatch-config-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto path = (dir / "bad.yaml").string();
  std::ofstream(path) << "api:\n  endpoint: http://127.0.0.1:1\nlog: {level: loud}\n";
  auto result = load_file(path);
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_EQ(result.errors[0].to_string(),
            path + ":3:14: log.level: 'loud' is not one of trace, debug, info, warn, error");
  std::filesystem::remove_all(dir);
}

TEST(LoadFile, UnreadableFileIsOneDiagnosticAtZeroZero) {
  auto result = load_file("/nonexistent/jobwatch.yaml");
  EXPECT_FALSE(result.ok());
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_EQ(result.errors[0].to_string(),
            "/nonexistent/jobwatch.yaml:0:0: cannot read: No such file or directory");

  auto directory = load_file("/");
  ASSERT_EQ(directory.errors.size(), 1u);
  EXPECT_EQ(directory.errors[0].to_string(), "/:0:0: cannot read: Is a directory");
}

class ExampleFile : public ::testing::TestWithParam<const char*> {};

TEST_P(ExampleFile, LoadsWithoutErrors) {
  std::string path = std::string(JOBWATCH_SOURCE_DIR) + "/config/" + GetParam();
  auto result = load_file(path);
  std::string errors;
  for (const auto& d : result.errors) errors += d.to_string() + "\n";
  EXPECT_TRUE(result.ok()) << errors;
}

INSTANTIATE_TEST_SUITE_P(Config, ExampleFile, ::testing::Values("jobwatch.yaml", "demo.yaml"));

TEST(ExampleFiles, DemoSaysWhatTheDemoNeeds) {
  auto result = load_file(std::string(JOBWATCH_SOURCE_DIR) + "/config/demo.yaml");
  ASSERT_TRUE(result.ok());
  const Config& c = *result.config;
  EXPECT_EQ(c.api.endpoint, "http://127.0.0.1:18080");
  EXPECT_EQ(c.api.project_id, "demo0project0000000000000000001");
  EXPECT_EQ(c.api.auth.type, AuthType::none);
  EXPECT_EQ(c.poll.min_interval, 500ms);
  EXPECT_EQ(c.poll.max_interval, 5s);
  EXPECT_EQ(c.poll.default_deadline, 10min);
  EXPECT_EQ(c.poll.not_found_grace, 20s);
  EXPECT_DOUBLE_EQ(c.api.rate_limit, 50);
  EXPECT_EQ(c.control.socket, "/tmp/jobwatch-demo/control.sock");
  EXPECT_EQ(c.state.dir, "/tmp/jobwatch-demo/state");
  ASSERT_EQ(c.sinks.size(), 2u);
  EXPECT_EQ(c.sinks[0].type, SinkType::log);
  EXPECT_EQ(c.sinks[1].type, SinkType::file);
  EXPECT_EQ(c.sinks[1].path, "/tmp/jobwatch-demo/events.jsonl");
}

TEST(ExampleFiles, FullExampleMatchesTheDefaults) {
  // jobwatch.yaml documents every key "with its default": hold it to that.
  auto result = load_file(std::string(JOBWATCH_SOURCE_DIR) + "/config/jobwatch.yaml");
  ASSERT_TRUE(result.ok());
  const Config& c = *result.config;
  const Config d;
  EXPECT_EQ(c.api.request_timeout, d.api.request_timeout);
  EXPECT_EQ(c.api.max_connections, d.api.max_connections);
  EXPECT_DOUBLE_EQ(c.api.rate_limit, d.api.rate_limit);
  EXPECT_EQ(c.api.tls.verify, d.api.tls.verify);
  EXPECT_EQ(c.poll.target_delay, d.poll.target_delay);
  EXPECT_EQ(c.poll.min_interval, d.poll.min_interval);
  EXPECT_EQ(c.poll.max_interval, d.poll.max_interval);
  EXPECT_EQ(c.poll.default_deadline, d.poll.default_deadline);
  EXPECT_EQ(c.poll.not_found_grace, d.poll.not_found_grace);
  EXPECT_EQ(c.control.socket, d.control.socket);
  EXPECT_EQ(c.control.socket_mode, d.control.socket_mode);
  EXPECT_EQ(c.control.max_message, d.control.max_message);
  EXPECT_EQ(c.control.idle_timeout, d.control.idle_timeout);
  EXPECT_EQ(c.control.max_watches, d.control.max_watches);
  EXPECT_EQ(c.state.dir, d.state.dir);
  EXPECT_EQ(c.state.retention, d.state.retention);
  EXPECT_EQ(c.log.level, d.log.level);
  ASSERT_EQ(c.sinks.size(), 3u);
  const SinkConfig sink_defaults;
  EXPECT_EQ(c.sinks[2].max_age, sink_defaults.max_age);
  EXPECT_EQ(c.sinks[2].timeout, sink_defaults.timeout);
}

}  // namespace
}  // namespace jobwatch::config
