#include "jobwatch/daemon/daemon.hpp"

#include <spdlog/spdlog.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <system_error>

#include "daemon_impl.hpp"
#include "jobwatch/config/loader.hpp"
#include "jobwatch/config/secrets.hpp"
#include "jobwatch/daemon/logging.hpp"
#include "jobwatch/daemon/notify.hpp"
#include "jobwatch/store/rows.hpp"

namespace jobwatch::daemon {
namespace {

using namespace std::chrono_literals;

// How long SIGTERM waits for deliveries in flight before exiting anyway.
constexpr auto shutdown_drain = 5s;
// How often the STATUS= summary is recomputed (sent only when it changed).
constexpr auto status_refresh = 5s;

void print_diagnostics(const config::LoadResult& loaded) {
  for (const config::Diagnostic& d : loaded.errors)
    std::fprintf(stderr, "%s\n", d.to_string().c_str());
}

}  // namespace

Daemon::Daemon(std::string config_path, config::Config config)
    : config_path_(std::move(config_path)),
      config_(std::move(config)),
      signals_(io_),
      watchdog_timer_(io_),
      status_timer_(io_) {}

Daemon::~Daemon() = default;

int Daemon::start() {
  const auto started = Clock::now();
  auto opened = store::Store::open(config_.state.dir);
  if (auto* error = std::get_if<store::StoreError>(&opened)) {
    spdlog::error("state: {}", error->message);
    return exit_unavailable;
  }
  store_ = std::move(std::get<0>(opened));

  auto api = make_api(config_.api);
  if (!api) return exit_unavailable;
  api_ = std::make_unique<SwappableJobApi>(io_.get_executor(), std::move(api));

  auto sinks = sinks::build_sinks(io_.get_executor(), config_.sinks);
  if (auto* error = std::get_if<std::string>(&sinks)) {
    spdlog::error("sinks: {}", *error);
    return exit_unavailable;
  }
  outbox_ = std::make_unique<outbox::Outbox>(io_.get_executor(), *store_,
                                             std::move(std::get<0>(sinks)), registry_);
  metrics_ = std::make_unique<DaemonMetrics>(registry_);
  engine_ = std::make_unique<watch::Engine>(io_.get_executor(), config_, *api_, outbox_.get(),
                                            &registry_);
  engine_->subscribe_events([this](const watch::Event& event) { metrics_->event_detected(event); });
  if (!restore_state()) return exit_unavailable;

  service_ = std::make_unique<control::Service>(
      io_.get_executor(), *engine_, config_, [this] { return stats(); }, &registry_);
  server_ =
      std::make_unique<control::ControlServer>(io_.get_executor(), config_.control, *service_);
  const int inherited = inherited_control_socket();
  if (inherited < 0) make_socket_dir();
  if (auto error = server_->listen(inherited)) {
    spdlog::error("control socket: {}", *error);
    return exit_unavailable;
  }
  auto metrics_server = make_metrics_server(config_.metrics.listen);
  if (!metrics_server) return exit_unavailable;
  metrics_server_ = std::move(*metrics_server);

  signals_.add(SIGTERM);
  signals_.add(SIGINT);
  signals_.add(SIGHUP);
  wait_for_signal();

  const auto ready_after =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
  spdlog::info(
      "jobwatchd {} ready in {} ms: upstream {} ({}), control socket {}, state {}, {} sink(s)",
      JOBWATCH_VERSION, ready_after.count(), upstream::endpoint_for(config_.api),
      api_->current().auth_description(),
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

// The upstream client for `api`, or nullptr when it cannot be built (logged).
// Start-up and reload share it, so both warn about the same things.
std::unique_ptr<upstream::HttpJobApi> Daemon::make_api(const config::ApiConfig& api) {
  auto made = upstream::HttpJobApi::create(io_.get_executor(), api);
  if (auto* error = std::get_if<std::string>(&made)) {
    spdlog::error("upstream: {}", *error);
    return nullptr;
  }
  std::get<0>(made)->set_request_observer(
      [this](std::string_view code, std::chrono::steady_clock::duration took) {
        if (metrics_) metrics_->upstream_request(code, took);
      });
  if (!api.tls.verify) {
    spdlog::warn(
        "api.tls.verify is false: the upstream's certificate is NOT checked; anyone on "
        "the path can read and forge API traffic");
  }
  if (!api.proxy.empty()) {
    // The authority only: a proxy URL may carry credentials.
    auto parsed = upstream::parse_proxy_url(api.proxy);
    if (auto* proxy = std::get_if<upstream::ProxyUrl>(&parsed)) {
      spdlog::info("upstream: through HTTP proxy {} (CONNECT)", upstream::authority(proxy->origin));
    }
  }
  return std::move(std::get<0>(made));
}

// Watches and undelivered events of the previous run; finished watches past
// their retention are dropped first.
bool Daemon::restore_state() {
  const auto cutoff =
      std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now()) -
      config_.state.retention;
  auto purged = store_->purge_finished_before(cutoff);
  if (auto* error = std::get_if<store::StoreError>(&purged)) return fail_state(*error);

  auto watches = store_->load_watches();
  if (auto* error = std::get_if<store::StoreError>(&watches)) return fail_state(*error);
  std::vector<watch::Watch> restored;
  restored.reserve(std::get<0>(watches).size());
  for (store::StoredWatch& stored : std::get<0>(watches))
    restored.push_back(store::to_watch(std::move(stored)));
  const std::size_t watch_count = restored.size();
  if (!restore_timing_models(restored)) return false;
  engine_->restore(std::move(restored));

  if (!outbox_->restore()) return false;
  if (watch_count > 0 || outbox_->pending() > 0)
    spdlog::info("state: resumed {} watch(es) and {} undelivered event(s) from {}", watch_count,
                 outbox_->pending(), store_->path());
  return true;
}

// The learned timing (SPEC §7). The first start after the upgrade finds no
// model but maybe finished watches: their last answers seed the models once,
// and the seed is stored so the next start loads it like any other.
bool Daemon::restore_timing_models(const std::vector<watch::Watch>& watches) {
  auto rows = store_->load_timing_models();
  if (auto* error = std::get_if<store::StoreError>(&rows)) return fail_state(*error);
  schedule::TimingModels models;
  for (store::TimingModelRow& row : std::get<0>(rows)) {
    auto model = schedule::TimingModel::deserialize(row.model);
    if (!model) {
      // Relearned from the next jobs; nothing else depends on it.
      spdlog::warn("state: timing model {}/{}/{} does not parse; starting it afresh", row.api,
                   row.project_id, row.job_type);
      continue;
    }
    models.put({std::move(row.api), std::move(row.project_id), std::move(row.job_type)},
               std::move(*model));
  }
  if (std::get<0>(rows).empty()) {
    // Read one at a time from the store: the load leaves answers out.
    models = watch::seed_timing_models(watches, [this](const watch::JobRef& job) {
      auto answer = store_->load_answer(job);
      if (auto* text = std::get_if<std::string>(&answer)) return std::move(*text);
      return std::string();  // that job teaches nothing; the next ones will
    });
    if (models.size() > 0) {
      const model::WallTime now =
          std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
      auto error = store_->write([&](store::Batch& batch) {
        for (const auto& [key, model] : models)
          batch.upsert_timing_model(
              {key.api, key.project_id, key.job_type, model.serialize(), now});
      });
      if (error) return fail_state(*error);
      spdlog::info("state: timing models of {} job type(s) seeded from finished watches",
                   models.size());
    }
  }
  engine_->load_timing_models(std::move(models));
  return true;
}

bool Daemon::fail_state(const store::StoreError& error) {
  spdlog::error("state: {}", error.message);
  return false;
}

std::optional<std::unique_ptr<metrics::MetricsServer>> Daemon::make_metrics_server(
    const std::string& listen) {
  if (listen.empty()) return std::unique_ptr<metrics::MetricsServer>();
  auto server = std::make_unique<metrics::MetricsServer>(io_.get_executor(),
                                                         [this] { return render_metrics(); });
  if (auto error = server->listen(listen)) {
    spdlog::error("metrics: {}", *error);
    return std::nullopt;
  }
  // The bound port, not the configured one: port 0 picks a free port.
  spdlog::info("metrics: Prometheus text at http://{}:{}/metrics",
               listen.substr(0, listen.rfind(':')), server->port());
  return server;
}

void Daemon::make_socket_dir() {
  const auto dir = std::filesystem::path(config_.control.socket).parent_path();
  std::error_code ec;
  if (!dir.empty()) std::filesystem::create_directories(dir, ec);
}

std::string Daemon::status_line() const {
  return "watching " + std::to_string(engine_->active_watches()) + " jobs, " +
         std::to_string(outbox_->pending()) + " events pending";
}

// Sends STATUS= when the summary changed, then again every status_refresh.
void Daemon::refresh_status() {
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
void Daemon::ping_watchdog(std::chrono::microseconds interval) {
  notify_watchdog();
  watchdog_timer_.expires_after(interval);
  watchdog_timer_.async_wait([this, interval](boost::system::error_code ec) {
    if (!ec) ping_watchdog(interval);
  });
}

boost::json::object Daemon::stats() const {
  boost::json::object out;
  out["engine"] = engine_->stats();
  out["auth"] = api_->current().auth_stats();
  out["sinks"] = outbox_->stats();
  out["store"] = outbox_->store_stats();
  return out;  // the service adds its own "control" group
}

std::string Daemon::render_metrics() const {
  return metrics_->render(engine_->active_watches(), *outbox_);
}

void Daemon::wait_for_signal() {
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

void Daemon::shut_down(int signal) {
  spdlog::info("{}: stopping", signal == SIGTERM ? "SIGTERM" : "SIGINT");
  stopping_ = true;
  notify_stopping();
  server_->stop();
  if (metrics_server_) metrics_server_->stop();
  engine_->stop();
  // Deliveries in flight get a moment to be confirmed (a reload still
  // swapping sinks is abandoned); whatever is not delivered stays owed.
  outbox_->drain(shutdown_drain, [this] {
    engine_->checkpoint();
    outbox_->flush();
    if (outbox_->pending() > 0)
      spdlog::info("stopping: {} event deliveries stay in the outbox for the next start",
                   outbox_->pending());
    signals_.cancel();
    watchdog_timer_.cancel();
    status_timer_.cancel();
    io_.stop();
  });
}

int check_config(const std::string& config_path) {
  config::LoadResult loaded = config::load_file(config_path);
  if (!loaded.ok()) {
    print_diagnostics(loaded);
    return exit_config;
  }
  // Secret files too, so that ExecStartPre= stops a start that could only
  // fail (78 is not restarted; 69 at start would be, in a loop).
  const bool have_credentials = std::getenv("CREDENTIALS_DIRECTORY") != nullptr;
  std::size_t skipped = 0;
  const auto secret_errors = config::check_secrets(*loaded.config, have_credentials, &skipped);
  for (const auto& error : secret_errors) std::fprintf(stderr, "%s\n", error.message.c_str());
  if (!secret_errors.empty()) return exit_config;
  if (skipped > 0)
    std::printf(
        "%s: %zu relative secret file(s) not checked: they are read from "
        "$CREDENTIALS_DIRECTORY, which is not set here\n",
        config_path.c_str(), skipped);
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
