// The daemon object behind daemon::run(): everything that lives for one run,
// split over daemon.cpp (start-up, status, shutdown) and reload.cpp (SIGHUP).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/object.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "jobwatch/config/config.hpp"
#include "jobwatch/control/server.hpp"
#include "jobwatch/control/service.hpp"
#include "jobwatch/daemon/daemon.hpp"
#include "jobwatch/daemon/daemon_metrics.hpp"
#include "jobwatch/daemon/swappable_api.hpp"
#include "jobwatch/metrics/http_server.hpp"
#include "jobwatch/outbox/outbox.hpp"
#include "jobwatch/store/store.hpp"
#include "jobwatch/watch/engine.hpp"

namespace jobwatch::daemon {

// Members in construction order (destroyed in reverse: the server before the
// engine it drives, the engine before the API it polls through).
class Daemon {
 public:
  Daemon(std::string config_path, config::Config config);
  ~Daemon();

  int start();  // runs the loop; returns the exit status

 private:
  using Clock = std::chrono::steady_clock;

  // start-up (daemon.cpp)
  std::unique_ptr<upstream::HttpJobApi> make_api(const config::ApiConfig& api);
  bool restore_state();
  bool fail_state(const store::StoreError& error);
  bool restore_timing_models(const std::vector<watch::Watch>& watches);
  void make_socket_dir();
  // A server for metrics.listen (nullptr when off); nullopt when it cannot
  // bind (logged).
  std::optional<std::unique_ptr<metrics::MetricsServer>> make_metrics_server(
      const std::string& listen);

  // running (daemon.cpp)
  std::string status_line() const;
  void refresh_status();
  void ping_watchdog(std::chrono::microseconds interval);
  boost::json::object stats() const;
  std::string render_metrics() const;
  void wait_for_signal();
  void shut_down(int signal);

  // SIGHUP (reload.cpp)
  void reload();
  void apply(config::Config next, std::unique_ptr<upstream::HttpJobApi> api,
             std::vector<sinks::SinkSpec> sinks,
             std::optional<std::unique_ptr<metrics::MetricsServer>> metrics_server);
  void sinks_replaced(bool ok);
  void warn_restart_only_changes(const config::Config& next) const;

  std::string config_path_;
  config::Config config_;
  boost::asio::io_context io_{1};
  boost::asio::signal_set signals_;
  boost::asio::steady_timer watchdog_timer_;
  boost::asio::steady_timer status_timer_;
  std::string last_status_;
  // Every counter; declared before what counts into it, so it goes last.
  metrics::Registry registry_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<SwappableJobApi> api_;
  std::unique_ptr<outbox::Outbox> outbox_;
  std::unique_ptr<DaemonMetrics> metrics_;
  std::unique_ptr<watch::Engine> engine_;
  std::unique_ptr<control::Service> service_;
  std::unique_ptr<control::ControlServer> server_;
  std::unique_ptr<metrics::MetricsServer> metrics_server_;  // renders from all of the above

  bool reload_again_ = false;  // SIGHUP while a reload was still swapping sinks
  bool stopping_ = false;

  int exit_code_ = exit_ok;
};

}  // namespace jobwatch::daemon
