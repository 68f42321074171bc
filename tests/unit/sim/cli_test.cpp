#include "cli.hpp"

#include <gtest/gtest.h>

namespace jobwatch::sim {
namespace {

CliOptions parsed(std::vector<std::string> args) {
  auto r = parse_cli(args);
  if (auto* err = std::get_if<CliError>(&r)) {
    ADD_FAILURE() << err->message;
    return {};
  }
  return std::get<CliOptions>(r);
}

bool rejected(std::vector<std::string> args) {
  return std::holds_alternative<CliError>(parse_cli(args));
}

TEST(SimCli, ListenAddresses) {
  EXPECT_EQ(parse_listen("127.0.0.1:18080")->port(), 18080);
  EXPECT_EQ(parse_listen("127.0.0.1:0")->port(), 0);
  EXPECT_TRUE(parse_listen("[::1]:8080")->address().is_v6());
  EXPECT_EQ(parse_listen("localhost:1")->address().to_string(), "127.0.0.1");
  EXPECT_FALSE(parse_listen("127.0.0.1").has_value());
  EXPECT_FALSE(parse_listen("127.0.0.1:70000").has_value());
  EXPECT_FALSE(parse_listen("nohost:80").has_value());
  EXPECT_FALSE(parse_listen("[::1]8080").has_value());
}

TEST(SimCli, Options) {
  const CliOptions o =
      parsed({"--listen", "127.0.0.1:0", "--port-file=/tmp/p", "--token", "t", "--seed", "9",
              "--scenario", "demo", "--random-jobs", "100", "--quiet"});
  EXPECT_EQ(o.listen.port(), 0);
  EXPECT_EQ(o.port_file, "/tmp/p");
  EXPECT_EQ(o.token, "t");
  EXPECT_EQ(o.seed, 9u);
  EXPECT_TRUE(o.demo);
  EXPECT_EQ(o.random_jobs, 100u);
  EXPECT_TRUE(o.quiet);
  EXPECT_FALSE(o.seed == std::nullopt);

  const CliOptions defaults = parsed({});
  EXPECT_EQ(defaults.listen.port(), 18080);
  EXPECT_FALSE(defaults.seed.has_value());
  EXPECT_TRUE(parsed({"--help"}).help);
  EXPECT_TRUE(parsed({"--version"}).version);
}

TEST(SimCli, Rejections) {
  EXPECT_TRUE(rejected({"--listen"}));
  EXPECT_TRUE(rejected({"--listen", "x"}));
  EXPECT_TRUE(rejected({"--seed", "-1"}));
  EXPECT_TRUE(rejected({"--scenario", "other"}));
  EXPECT_TRUE(rejected({"--token", "a", "--token-file", "f"}));
  EXPECT_TRUE(rejected({"--frobnicate"}));
  EXPECT_TRUE(rejected({"--idle-timeout", "0"}));
}

}  // namespace
}  // namespace jobwatch::sim
