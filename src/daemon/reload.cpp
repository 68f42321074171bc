// SIGHUP. A new config is put to work only as a whole: it must load, and its
// upstream client and sinks must build (secret files readable, URLs valid),
// before anything of the running one is replaced. Watches are never touched;
// events owed to sinks come back from the outbox, so none is lost when the
// sinks are rebuilt.
#include <spdlog/spdlog.h>

#include "daemon_impl.hpp"
#include "jobwatch/config/loader.hpp"
#include "jobwatch/daemon/logging.hpp"
#include "jobwatch/daemon/notify.hpp"

namespace jobwatch::daemon {
namespace {

using namespace std::chrono_literals;

// How long the old sinks may finish deliveries in flight before the new ones
// take over; one still out then is delivered again by the new sinks.
constexpr auto sink_swap_wait = 5s;

}  // namespace

void Daemon::reload() {
  if (stopping_) return;
  if (outbox_->replacing()) {
    // The next reload starts from the config this one is putting in place.
    spdlog::info("reload: the previous reload is still handing over to new sinks; again after it");
    reload_again_ = true;
    return;
  }
  notify_reloading();
  config::LoadResult loaded = config::load_file(config_path_);
  if (!loaded.ok()) {
    spdlog::error("reload: {} has {} problem(s); keeping the running configuration", config_path_,
                  loaded.errors.size());
    for (const auto& d : loaded.errors) spdlog::error("reload: {}", d.to_string());
    notify_ready();
    return;
  }
  config::Config next = std::move(*loaded.config);
  auto api = make_api(next.api);
  auto sinks = sinks::build_sinks(io_.get_executor(), next.sinks);
  if (auto* error = std::get_if<std::string>(&sinks)) spdlog::error("sinks: {}", *error);
  // A new address is bound before anything changes; the same one is kept.
  std::optional<std::unique_ptr<metrics::MetricsServer>> metrics_server;
  if (next.metrics.listen != config_.metrics.listen)
    metrics_server = make_metrics_server(next.metrics.listen);
  const bool metrics_ok = next.metrics.listen == config_.metrics.listen || metrics_server;
  if (!api || std::holds_alternative<std::string>(sinks) || !metrics_ok) {
    spdlog::error("reload: {} cannot be put to work (see above); keeping the running configuration",
                  config_path_);
    notify_ready();
    return;
  }
  apply(std::move(next), std::move(api), std::move(std::get<0>(sinks)), std::move(metrics_server));
}

void Daemon::apply(config::Config next, std::unique_ptr<upstream::HttpJobApi> api,
                   std::vector<sinks::SinkSpec> sinks,
                   std::optional<std::unique_ptr<metrics::MetricsServer>> metrics_server) {
  warn_restart_only_changes(next);
  next.control = config_.control;
  next.state.dir = config_.state.dir;
  config_ = std::move(next);
  set_log_level(config_.log.level);
  engine_->reconfigure(config_);
  service_->reconfigure(config_);
  api_->replace(std::move(api));
  if (metrics_server) {
    if (metrics_server_) metrics_server_->stop();
    metrics_server_ = std::move(*metrics_server);
    if (!metrics_server_) spdlog::info("metrics: off");
  }
  spdlog::info("reload: poll settings, rate limit and upstream {} ({}) in force",
               upstream::endpoint_for(config_.api), api_->current().auth_description());

  // The old sinks start nothing new and get a moment for what is in flight.
  outbox_->replace_sinks(std::move(sinks), sink_swap_wait, [this](bool ok) { sinks_replaced(ok); });
}

void Daemon::sinks_replaced(bool ok) {
  if (ok) {
    spdlog::info("reload: {} sink(s) in force, {} event deliveries owed; applied {}",
                 config_.sinks.size(), outbox_->pending(), config_path_);
  } else {
    spdlog::error("reload: the outbox could not be read; keeping the running sinks");
  }
  notify_ready();
  if (reload_again_) {
    reload_again_ = false;
    reload();
  }
}

// What only a restart changes: the socket is bound and the store open.
void Daemon::warn_restart_only_changes(const config::Config& next) const {
  const auto& now = config_;
  if (next.control.socket != now.control.socket ||
      next.control.socket_mode != now.control.socket_mode ||
      next.control.max_message != now.control.max_message ||
      next.control.idle_timeout != now.control.idle_timeout ||
      next.control.max_watches != now.control.max_watches)
    spdlog::warn("reload: control settings changed; they take effect at the next restart");
  if (next.state.dir != now.state.dir)
    spdlog::warn("reload: state.dir changed; it takes effect at the next restart");
}

}  // namespace jobwatch::daemon
