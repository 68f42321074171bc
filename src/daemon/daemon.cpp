#include "jobwatch/daemon/daemon.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <system_error>

#include "jobwatch/config/loader.hpp"
#include "jobwatch/control/server.hpp"
#include "jobwatch/control/service.hpp"
#include "jobwatch/daemon/logging.hpp"
#include "jobwatch/daemon/notify.hpp"
#include "jobwatch/daemon/persistence.hpp"
#include "jobwatch/sinks/dispatcher.hpp"
#include "jobwatch/store/rows.hpp"
#include "jobwatch/store/store.hpp"
#include "jobwatch/upstream/http_job_api.hpp"
#include "jobwatch/watch/engine.hpp"

namespace jobwatch::daemon {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

// How long SIGTERM waits for deliveries in flight before exiting anyway.
constexpr auto shutdown_drain = 5s;
// How often the STATUS= summary is recomputed (sent only when it changed).
constexpr auto status_refresh = 5s;

void print_diagnostics(const config::LoadResult& loaded) {
  for (const config::Diagnostic& d : loaded.errors)
    std::fprintf(stderr, "%s\n", d.to_string().c_str());
}

// Everything that lives for one run of the daemon, in construction order
// (destroyed in reverse: the server before the engine it drives).
class Daemon {
 public:
  Daemon(std::string config_path, config::Config config)
      : config_path_(std::move(config_path)),
        config_(std::move(config)),
        signals_(io_),
        drain_timer_(io_),
        watchdog_timer_(io_),
        status_timer_(io_) {}

  ~Daemon() {
    if (dispatcher_) dispatcher_->set_observer(nullptr);
  }

  int start() {
    const auto started = std::chrono::steady_clock::now();
    auto opened = store::Store::open(config_.state.dir);
    if (auto* error = std::get_if<store::StoreError>(&opened)) {
      spdlog::error("state: {}", error->message);
      return exit_unavailable;
    }
    store_ = std::move(std::get<0>(opened));

    auto api = upstream::HttpJobApi::create(io_.get_executor(), config_.api);
    if (auto* error = std::get_if<std::string>(&api)) {
      spdlog::error("upstream: {}", *error);
      return exit_unavailable;
    }
    api_ = std::move(std::get<0>(api));
    if (!config_.api.tls.verify) {
      spdlog::warn(
          "api.tls.verify is false: the upstream's certificate is NOT checked; anyone on "
          "the path can read and forge API traffic");
    }
    if (!config_.api.proxy.empty()) {
      // The authority only: a proxy URL may carry credentials.
      auto parsed = upstream::parse_proxy_url(config_.api.proxy);
      if (auto* proxy = std::get_if<upstream::ProxyUrl>(&parsed)) {
        spdlog::info("upstream: through HTTP proxy {} (CONNECT)",
                     upstream::authority(proxy->origin));
      }
    }

    auto dispatcher = sinks::Dispatcher::create(io_.get_executor(), config_.sinks);
    if (auto* error = std::get_if<std::string>(&dispatcher)) {
      spdlog::error("sinks: {}", *error);
      return exit_unavailable;
    }
    dispatcher_ = std::move(std::get<0>(dispatcher));

    persistence_ = std::make_unique<Persistence>(io_.get_executor(), *store_, *dispatcher_);
    dispatcher_->set_observer(persistence_.get());
    engine_ =
        std::make_unique<watch::Engine>(io_.get_executor(), config_, *api_, persistence_.get());
    if (!restore_state()) return exit_unavailable;

    service_ = std::make_unique<control::Service>(io_.get_executor(), *engine_, config_,
                                                  [this] { return stats(); });
    server_ =
        std::make_unique<control::ControlServer>(io_.get_executor(), config_.control, *service_);
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

    const auto ready_after = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - started);
    spdlog::info(
        "jobwatchd {} ready in {} ms: upstream {} ({}), control socket {}, state {}, {} sink(s)",
        JOBWATCH_VERSION, ready_after.count(), upstream::endpoint_for(config_.api),
        api_->auth_description(),
        inherited >= 0 ? std::string("(from systemd)") : config_.control.socket, store_->path(),
        config_.sinks.size());
    notify_ready();
    refresh_status();
    if (auto interval = watchdog_interval()) {
      spdlog::info("systemd watchdog: pinging every {} ms", interval->count() / 1000);
      ping_watchdog(*interval);
    }
    io_.run();
    return exit_code_;
  }

 private:
  // Watches and undelivered events of the previous run; finished watches
  // past their retention are dropped first.
  bool restore_state() {
    const auto cutoff =
        std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now()) -
        config_.state.retention;
    auto purged = store_->purge_finished_before(cutoff);
    if (auto* error = std::get_if<store::StoreError>(&purged)) return fail_state(*error);

    auto watches = store_->load_watches();
    if (auto* error = std::get_if<store::StoreError>(&watches)) return fail_state(*error);
    std::vector<watch::Watch> restored;
    restored.reserve(std::get<0>(watches).size());
    for (const store::StoredWatch& stored : std::get<0>(watches))
      restored.push_back(store::to_watch(stored));
    const std::size_t watch_count = restored.size();
    engine_->restore(std::move(restored));

    auto outbox = store_->load_outbox();
    if (auto* error = std::get_if<store::StoreError>(&outbox)) return fail_state(*error);
    std::vector<sinks::OwedDelivery> owed;
    for (store::OutboxRow& row : std::get<0>(outbox)) {
      auto event = sinks::Dispatcher::event_from_document(row.document);
      if (!event) {
        spdlog::warn("state: outbox row {} for sink {} does not parse; left in the store",
                     row.event_id, row.sink);
        continue;
      }
      owed.push_back({std::make_shared<const watch::Event>(std::move(*event)), row.sink,
                      std::chrono::system_clock::time_point(row.created_at.time_since_epoch()),
                      row.attempts});
    }
    const std::size_t owed_count = owed.size();
    const auto orphans = dispatcher_->restore(std::move(owed));
    if (!orphans.empty())
      spdlog::warn(
          "state: {} undelivered event(s) are owed to sinks no longer configured; they stay "
          "in the store until such a sink is configured again",
          orphans.size());

    auto dead = store_->count_dead_letters();
    if (auto* error = std::get_if<store::StoreError>(&dead)) return fail_state(*error);
    dispatcher_->add_dead_lettered_count(static_cast<std::uint64_t>(std::get<0>(dead)));
    if (watch_count > 0 || owed_count > 0)
      spdlog::info("state: resumed {} watch(es) and {} undelivered event(s) from {}", watch_count,
                   owed_count - orphans.size(), store_->path());
    return true;
  }

  bool fail_state(const store::StoreError& error) {
    spdlog::error("state: {}", error.message);
    return false;
  }

  std::string status_line() const {
    return "watching " + std::to_string(engine_->active_watches()) + " jobs, " +
           std::to_string(dispatcher_->pending()) + " events pending";
  }

  // Sends STATUS= when the summary changed, then again every status_refresh.
  void refresh_status() {
    if (std::string line = status_line(); line != last_status_) {
      notify_status(line);
      last_status_ = std::move(line);
    }
    status_timer_.expires_after(status_refresh);
    status_timer_.async_wait([this](boost::system::error_code ec) {
      if (!ec) refresh_status();
    });
  }

  // Pinged from the event loop itself, so a loop that stops turning misses
  // pings and systemd restarts the service.
  void ping_watchdog(std::chrono::microseconds interval) {
    notify_watchdog();
    watchdog_timer_.expires_after(interval);
    watchdog_timer_.async_wait([this, interval](boost::system::error_code ec) {
      if (!ec) ping_watchdog(interval);
    });
  }

  void make_socket_dir() {
    const auto dir = std::filesystem::path(config_.control.socket).parent_path();
    std::error_code ec;
    if (!dir.empty()) std::filesystem::create_directories(dir, ec);
  }

  boost::json::object stats() const {
    boost::json::object sinks;
    sinks["pending"] = dispatcher_->pending();
    sinks["dead_letters"] = dispatcher_->dead_lettered_total();
    sinks["by_sink"] = dispatcher_->stats();
    boost::json::object out;
    out["engine"] = engine_->stats();
    out["auth"] = api_->auth_stats();
    out["sinks"] = std::move(sinks);
    out["store"] = boost::json::object{{"path", store_->path()},
                                       {"commits", persistence_->commits()},
                                       {"commit_failures", persistence_->commit_failures()}};
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
    dispatcher_->pause();  // no new deliveries; those already out get a moment
    drain_deadline_ = std::chrono::steady_clock::now() + shutdown_drain;
    drain();
  }

  // Gives deliveries in flight a moment to be confirmed, then commits and
  // stops the loop. Whatever is not delivered stays in the outbox.
  void drain() {
    if (dispatcher_->in_flight() == 0 || std::chrono::steady_clock::now() >= drain_deadline_) {
      dispatcher_->stop();
      engine_->checkpoint();
      persistence_->flush();
      if (dispatcher_->pending() > 0)
        spdlog::info("stopping: {} event deliveries stay in the outbox for the next start",
                     dispatcher_->pending());
      signals_.cancel();
      watchdog_timer_.cancel();
      status_timer_.cancel();
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
  asio::steady_timer watchdog_timer_;
  asio::steady_timer status_timer_;
  std::string last_status_;
  std::chrono::steady_clock::time_point drain_deadline_{};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<upstream::HttpJobApi> api_;
  std::unique_ptr<sinks::Dispatcher> dispatcher_;
  std::unique_ptr<Persistence> persistence_;
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
