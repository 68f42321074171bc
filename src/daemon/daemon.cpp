#include "jobwatch/daemon/daemon.hpp"

#include "jobwatch/config/loader.hpp"
#include "jobwatch/control/server.hpp"
#include "jobwatch/control/service.hpp"
#include "jobwatch/daemon/logging.hpp"
#include "jobwatch/daemon/notify.hpp"
#include "jobwatch/sinks/dispatcher.hpp"
#include "jobwatch/upstream/http_job_api.hpp"
#include "jobwatch/watch/engine.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/spdlog.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <system_error>

namespace jobwatch::daemon {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

// How long SIGTERM waits for deliveries in flight before exiting anyway.
constexpr auto shutdown_drain = 5s;

void print_diagnostics(const config::LoadResult& loaded) {
  for (const config::Diagnostic& d : loaded.errors) std::fprintf(stderr, "%s\n", d.to_string().c_str());
}

// Everything that lives for one run of the daemon, in construction order
// (destroyed in reverse: the server before the engine it drives).
class Daemon {
 public:
  Daemon(std::string config_path, config::Config config)
      : config_path_(std::move(config_path)), config_(std::move(config)), signals_(io_), drain_timer_(io_) {}

  int start() {
    auto api = upstream::HttpJobApi::create(io_.get_executor(), config_.api);
    if (auto* error = std::get_if<std::string>(&api)) {
      spdlog::error("upstream: {}", *error);
      return exit_unavailable;
    }
    api_ = std::move(std::get<0>(api));

    auto dispatcher = sinks::Dispatcher::create(io_.get_executor(), config_.sinks);
    if (auto* error = std::get_if<std::string>(&dispatcher)) {
      spdlog::error("sinks: {}", *error);
      return exit_unavailable;
    }
    dispatcher_ = std::move(std::get<0>(dispatcher));

    engine_ = std::make_unique<watch::Engine>(io_.get_executor(), config_, *api_);
    engine_->subscribe_events([this](const watch::Event& event) { dispatcher_->submit(event); });

    service_ = std::make_unique<control::Service>(io_.get_executor(), *engine_, config_,
                                                  [this] { return stats(); });
    server_ = std::make_unique<control::ControlServer>(io_.get_executor(), config_.control, *service_);
    const int inherited = inherited_control_socket();
    if (inherited < 0) make_socket_dir();
    if (auto error = server_->listen(inherited)) {
      spdlog::error("control socket: {}", *error);
      return exit_unavailable;
    }

    signals_.add(SIGTERM);
    signals_.add(SIGINT);
    signals_.add(SIGHUP);
    wait_for_signal();

    spdlog::info("jobwatchd {} ready: upstream {} ({}), control socket {}, {} sink(s)", JOBWATCH_VERSION,
                 upstream::endpoint_for(config_.api), api_->auth_description(),
                 inherited >= 0 ? std::string("(from systemd)") : config_.control.socket,
                 config_.sinks.size());
    notify_ready();
    notify_status("watching 0 jobs");
    io_.run();
    return exit_code_;
  }

 private:
  void make_socket_dir() {
    const auto dir = std::filesystem::path(config_.control.socket).parent_path();
    std::error_code ec;
    if (!dir.empty()) std::filesystem::create_directories(dir, ec);
  }

  boost::json::object stats() const {
    boost::json::object sinks;
    sinks["pending"] = dispatcher_->pending();
    sinks["dead_letters"] = dispatcher_->dead_letters().size();
    sinks["by_sink"] = dispatcher_->stats();
    boost::json::object out;
    out["engine"] = engine_->stats();
    out["sinks"] = std::move(sinks);
    return out;  // the service adds its own "control" group
  }

  void wait_for_signal() {
    signals_.async_wait([this](boost::system::error_code ec, int signal) {
      if (ec) return;
      if (signal == SIGHUP) {
        reload();
        wait_for_signal();
      } else {
        shut_down(signal);
      }
    });
  }

  // SIGHUP: a new config takes effect only when it is valid as a whole.
  void reload() {
    notify_reloading();
    config::LoadResult loaded = config::load_file(config_path_);
    if (!loaded.ok()) {
      spdlog::error("reload: {} has {} problem(s); keeping the running configuration", config_path_,
                    loaded.errors.size());
      for (const auto& d : loaded.errors) spdlog::error("reload: {}", d.to_string());
    } else {
      config_ = std::move(*loaded.config);
      set_log_level(config_.log.level);
      engine_->reconfigure(config_);
      service_->reconfigure(config_);
      spdlog::info("reload: poll settings and rate limit applied from {}", config_path_);
    }
    dispatcher_->reopen();
    notify_ready();
  }

  void shut_down(int signal) {
    spdlog::info("{}: stopping", signal == SIGTERM ? "SIGTERM" : "SIGINT");
    notify_stopping();
    server_->stop();
    engine_->stop();
    drain_deadline_ = std::chrono::steady_clock::now() + shutdown_drain;
    drain();
  }

  // Gives deliveries in flight a moment, then stops the loop.
  void drain() {
    if (dispatcher_->pending() == 0 || std::chrono::steady_clock::now() >= drain_deadline_) {
      if (dispatcher_->pending() > 0)
        spdlog::warn("stopping with {} event deliveries pending", dispatcher_->pending());
      dispatcher_->stop();
      signals_.cancel();
      io_.stop();
      return;
    }
    drain_timer_.expires_after(100ms);
    drain_timer_.async_wait([this](boost::system::error_code ec) {
      if (!ec) drain();
    });
  }

  std::string config_path_;
  config::Config config_;
  asio::io_context io_{1};
  asio::signal_set signals_;
  asio::steady_timer drain_timer_;
  std::chrono::steady_clock::time_point drain_deadline_{};
  std::unique_ptr<upstream::HttpJobApi> api_;
  std::unique_ptr<sinks::Dispatcher> dispatcher_;
  std::unique_ptr<watch::Engine> engine_;
  std::unique_ptr<control::Service> service_;
  std::unique_ptr<control::ControlServer> server_;
  int exit_code_ = exit_ok;
};

}  // namespace

int check_config(const std::string& config_path) {
  config::LoadResult loaded = config::load_file(config_path);
  if (!loaded.ok()) {
    print_diagnostics(loaded);
    return exit_config;
  }
  std::printf("%s: ok\n", config_path.c_str());
  return exit_ok;
}

int run(const std::string& config_path) {
  config::LoadResult loaded = config::load_file(config_path);
  if (!loaded.ok()) {
    print_diagnostics(loaded);
    return exit_config;
  }
  setup_logging(loaded.config->log.level);
  std::signal(SIGPIPE, SIG_IGN);
  try {
    Daemon daemon(config_path, std::move(*loaded.config));
    return daemon.start();
  } catch (const std::exception& e) {
    // Expected failures are values; this is a component that cannot go on.
    spdlog::critical("jobwatchd: {}", e.what());
    return exit_failure;
  }
}

}  // namespace jobwatch::daemon
