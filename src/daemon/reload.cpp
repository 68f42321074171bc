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
  if (incoming_dispatcher_) {
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
  auto dispatcher = sinks::Dispatcher::create(io_.get_executor(), next.sinks, {}, &registry_);
  if (auto* error = std::get_if<std::string>(&dispatcher)) spdlog::error("sinks: {}", *error);
  // A new address is bound before anything changes; the same one is kept.
  std::optional<std::unique_ptr<metrics::MetricsServer>> metrics_server;
  if (next.metrics.listen != config_.metrics.listen)
    metrics_server = make_metrics_server(next.metrics.listen);
  const bool metrics_ok = next.metrics.listen == config_.metrics.listen || metrics_server;
  if (!api || std::holds_alternative<std::string>(dispatcher) || !metrics_ok) {
    spdlog::error("reload: {} cannot be put to work (see above); keeping the running configuration",
                  config_path_);
    notify_ready();
    return;
  }
  apply(std::move(next), std::move(api), std::move(std::get<0>(dispatcher)),
        std::move(metrics_server));
}

void Daemon::apply(config::Config next, std::unique_ptr<upstream::HttpJobApi> api,
                   std::unique_ptr<sinks::Dispatcher> dispatcher,
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
  incoming_dispatcher_ = std::move(dispatcher);
  dispatcher_->pause();
  swap_deadline_ = Clock::now() + sink_swap_wait;
  finish_sink_swap();
}

void Daemon::finish_sink_swap() {
  if (dispatcher_->in_flight() > 0 && Clock::now() < swap_deadline_) {
    swap_timer_.expires_after(50ms);
    swap_timer_.async_wait([this](boost::system::error_code ec) {
      if (!ec) finish_sink_swap();
    });
    return;
  }
  // After this commit the outbox holds exactly what is still owed, events
  // queued on the old sinks included; the new sinks start from it.
  persistence_->flush();
  if (!load_owed_deliveries(*incoming_dispatcher_)) {
    spdlog::error("reload: the outbox could not be read; keeping the running sinks");
    incoming_dispatcher_.reset();
    dispatcher_->resume();
  } else {
    dispatcher_->set_observer(nullptr);
    dispatcher_->stop();
    // Dead letters since start are in the registry, which both share.
    incoming_dispatcher_->add_dead_lettered_count(dispatcher_->dead_lettered_before_start());
    incoming_dispatcher_->set_observer(persistence_.get());
    persistence_->set_dispatcher(*incoming_dispatcher_);
    dispatcher_ = std::move(incoming_dispatcher_);
    spdlog::info("reload: {} sink(s) in force, {} event deliveries owed; applied {}",
                 config_.sinks.size(), dispatcher_->pending(), config_path_);
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
