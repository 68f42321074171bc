// jobwatch-sim: the job API simulator for the demo, the integration tests
// and the benchmarks. Thin: flags, initial jobs, the server, signals.
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>

#include "cli.hpp"
#include "http_server.hpp"
#include "scenarios.hpp"
#include "simulator.hpp"

namespace {

namespace asio = boost::asio;
namespace sim = jobwatch::sim;

constexpr int exit_usage = 64;
constexpr int exit_no_input = 66;
constexpr int exit_unavailable = 69;
constexpr int exit_cant_create = 73;

std::optional<std::string> read_token_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream content;
  content << in.rdbuf();
  std::string token = content.str();
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r' || token.back() == ' ' ||
                            token.back() == '\t')) {
    token.pop_back();
  }
  if (token.empty()) return std::nullopt;
  return token;
}

// Readers poll for the file; the rename means they never see it half written.
bool write_port_file(const std::string& path, unsigned short port) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out) return false;
    out << port << '\n';
    out.flush();
    if (!out) return false;
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return false;
  }
  return true;
}

sim::SimTime wall_now() {
  return std::chrono::time_point_cast<sim::Millis>(std::chrono::system_clock::now());
}

int run(const sim::CliOptions& cli) {
  std::optional<std::string> token = cli.token;
  if (cli.token_file) {
    token = read_token_file(*cli.token_file);
    if (!token) {
      std::cerr << "jobwatch-sim: cannot read a token from " << *cli.token_file << '\n';
      return exit_no_input;
    }
  }

  sim::SimOptions options;
  options.token = std::move(token);
  if (cli.iam_user) {
    auto password = read_token_file(*cli.iam_password_file);
    if (!password) {
      std::cerr << "jobwatch-sim: cannot read a password from " << *cli.iam_password_file << '\n';
      return exit_no_input;
    }
    options.iam = sim::IamOptions{*cli.iam_user, *cli.iam_domain, std::move(*password),
                                  std::chrono::seconds(cli.iam_token_ttl_s)};
  }
  if (cli.aksk_access_key) {
    auto secret_key = read_token_file(*cli.aksk_secret_key_file);
    if (!secret_key) {
      std::cerr << "jobwatch-sim: cannot read a secret key from " << *cli.aksk_secret_key_file
                << '\n';
      return exit_no_input;
    }
    options.aksk = sim::AkskOptions{*cli.aksk_access_key, std::move(*secret_key),
                                    std::chrono::seconds(cli.clock_skew_s)};
  }
  options.seed = cli.seed ? *cli.seed : std::random_device{}();
  options.rate_limit = cli.rate_limit;
  if (!cli.quiet)
    options.log = [](const std::string& line) { std::cerr << "jobwatch-sim: " << line << '\n'; };
  sim::Simulator simulator(std::move(options));

  if (cli.demo) {
    auto created = simulator.create_jobs(sim::demo_specs(), wall_now());
    for (const sim::Job* job : std::get<std::vector<const sim::Job*>>(created)) {
      std::cout << job->job_id << '\n';
    }
    std::cout.flush();
    if (!cli.quiet) std::cerr << "jobwatch-sim: demo scenario: 8 jobs created\n";
  }
  if (cli.random_jobs > 0) {
    sim::RandomParams params;
    params.count = cli.random_jobs;
    params.seed = simulator.seed();
    simulator.create_jobs(sim::random_specs(params), wall_now());
    if (!cli.quiet) {
      std::cerr << "jobwatch-sim: " << cli.random_jobs << " random jobs created (seed "
                << simulator.seed() << "); GET /admin/jobs lists them\n";
    }
  }

  asio::io_context ioc(1);
  sim::ServerOptions server_options;
  server_options.idle_timeout = cli.idle_timeout;
  server_options.verbose = cli.verbose;
  if (cli.tls_cert) {
    auto tls = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
    boost::system::error_code ec;
    tls->use_certificate_chain_file(*cli.tls_cert, ec);
    if (!ec) tls->use_private_key_file(*cli.tls_key, asio::ssl::context::pem, ec);
    if (ec) {
      std::cerr << "jobwatch-sim: cannot load --tls-cert/--tls-key: " << ec.message() << '\n';
      return exit_no_input;
    }
    server_options.tls = std::move(tls);
  }
  sim::HttpServer server(ioc, simulator, server_options);
  if (auto ec = server.listen(cli.listen)) {
    std::cerr << "jobwatch-sim: cannot listen on " << cli.listen << ": " << ec.message() << '\n';
    return exit_unavailable;
  }
  if (cli.port_file && !write_port_file(*cli.port_file, server.port())) {
    std::cerr << "jobwatch-sim: cannot write the port file " << *cli.port_file << '\n';
    return exit_cant_create;
  }
  if (!cli.quiet) {
    std::cerr << "jobwatch-sim: listening on " << cli.listen.address() << ':' << server.port()
              << (cli.token || cli.token_file ? " (token required)" : "")
              << (cli.tls_cert ? " (HTTPS)" : "")
              << (cli.iam_user ? " (fake IAM on /v3/auth/tokens)" : "") << '\n';
  }

  asio::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (ec) return;
    server.stop();
    ioc.stop();
  });
  server.start();
  ioc.run();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  auto parsed = sim::parse_cli(args);
  if (auto* err = std::get_if<sim::CliError>(&parsed)) {
    std::cerr << "jobwatch-sim: " << err->message << "\n\n" << sim::usage_text;
    return exit_usage;
  }
  const auto& cli = std::get<sim::CliOptions>(parsed);
  if (cli.help) {
    std::cout << sim::usage_text << sim::admin_text;
    return 0;
  }
  if (cli.version) {
    std::cout << "jobwatch-sim " << JOBWATCH_VERSION << '\n';
    return 0;
  }
  std::signal(SIGPIPE, SIG_IGN);
  try {
    return run(cli);
  } catch (const std::exception& e) {
    std::cerr << "jobwatch-sim: " << e.what() << '\n';
    return 1;
  }
}
