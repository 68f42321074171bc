// jobwatch-sim's HTTPS flags: --tls-cert and --tls-key only together.
#include <gtest/gtest.h>

#include "cli.hpp"

namespace jobwatch::sim {
namespace {

TEST(SimTlsCli, CertAndKeyGoTogether) {
  auto both = parse_cli({"--tls-cert", "c.pem", "--tls-key=k.pem"});
  ASSERT_TRUE(std::holds_alternative<CliOptions>(both));
  EXPECT_EQ(std::get<CliOptions>(both).tls_cert, "c.pem");
  EXPECT_EQ(std::get<CliOptions>(both).tls_key, "k.pem");
  EXPECT_FALSE(std::get<CliOptions>(parse_cli({})).tls_cert.has_value());
  auto alone = parse_cli({"--tls-cert", "c.pem"});
  ASSERT_TRUE(std::holds_alternative<CliError>(alone));
  EXPECT_EQ(std::get<CliError>(alone).message, "--tls-cert and --tls-key go together");
  EXPECT_TRUE(std::holds_alternative<CliError>(parse_cli({"--tls-key"})));
}

}  // namespace
}  // namespace jobwatch::sim
