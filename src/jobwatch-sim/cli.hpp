// jobwatch-sim's command line, parsed without side effects so it can be
// unit-tested; main.cpp acts on the result.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace jobwatch::sim {

struct CliOptions {
  boost::asio::ip::tcp::endpoint listen{boost::asio::ip::make_address_v4("127.0.0.1"), 18080};
  std::optional<std::string> port_file;
  std::optional<std::string> token;
  std::optional<std::string> token_file;
  std::optional<std::uint64_t> seed;
  // HTTPS on the listen port: both or neither (PEM files).
  std::optional<std::string> tls_cert;
  std::optional<std::string> tls_key;
  // AK/SK gateway: both or neither; the skew sets the gateway's clock off.
  std::optional<std::string> aksk_access_key;
  std::optional<std::string> aksk_secret_key_file;
  std::int64_t clock_skew_s = 0;
  std::optional<double> rate_limit;  // ShowJob requests/s, beyond it 429
  // Fake IAM: all three or none.
  std::optional<std::string> iam_user;
  std::optional<std::string> iam_domain;
  std::optional<std::string> iam_password_file;
  std::uint64_t iam_token_ttl_s = 3600;
  bool demo = false;
  std::uint64_t random_jobs = 0;
  std::chrono::seconds idle_timeout{60};
  bool quiet = false;
  bool verbose = false;
  bool help = false;
  bool version = false;
};

struct CliError {
  std::string message;
};

std::variant<CliOptions, CliError> parse_cli(const std::vector<std::string>& args);
// "127.0.0.1:18080", "[::1]:0", "localhost:8080".
std::optional<boost::asio::ip::tcp::endpoint> parse_listen(const std::string& text);

extern const char* const usage_text;
// The admin API's job spec and counters, shown after usage_text by --help.
extern const char* const admin_text;

}  // namespace jobwatch::sim
