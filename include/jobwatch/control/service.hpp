// The io.jobwatch varlink service (SPEC §3): validates calls, drives the
// engine through its public methods and produces replies. Transport-free:
// the server hands it parsed calls and writes whatever replies come back.
#pragma once

#include <sys/types.h>

#include <boost/asio/any_io_executor.hpp>
#include <boost/json/object.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "jobwatch/config/config.hpp"
#include "jobwatch/control/validation.hpp"
#include "jobwatch/control/varlink.hpp"
#include "jobwatch/metrics/registry.hpp"
#include "jobwatch/watch/engine.hpp"

namespace jobwatch::control {

// Who is calling: read with SO_PEERCRED when the connection is accepted.
struct Peer {
  uid_t uid = 0;
};

// A call that keeps replying after call() returned (Wait, Follow).
// Destroying it cancels the call: listeners and timers are released and the
// reply function is never called again.
class ActiveCall {
 public:
  virtual ~ActiveCall() = default;
};

class Service {
 public:
  using ReplyFn = std::function<void(Reply)>;
  // The daemon's counters (engine, sinks, store, …), grouped in objects.
  using StatsProvider = std::function<boost::json::object()>;

  // How often a Wait sends progress at most.
  static constexpr std::chrono::milliseconds progress_interval{200};

  // Control counters go to `registry` (the daemon's, which must outlive
  // the service), or to one the service keeps for itself.
  Service(boost::asio::any_io_executor executor, watch::Engine& engine,
          const config::Config& config, StatsProvider stats = {},
          metrics::Registry* registry = nullptr);
  ~Service();
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  // Runs one call. Every reply goes to `reply`; the last one has
  // continues == false, and exactly one such final reply is sent unless the
  // returned handle is destroyed first. The handle is null when the call has
  // already finished; otherwise keep it while the call streams. `reply` may
  // run inside call() and later on the executor, never after the handle died.
  std::unique_ptr<ActiveCall> call(const Call& call, const Peer& peer, ReplyFn reply);

  // Picks up a new default project and API (SIGHUP).
  void reconfigure(const config::Config& config);

  // Control counters, kept by the server through these hooks.
  void connection_opened();
  void connection_closed();
  void connection_rejected();                        // over the connection limit
  void protocol_error(std::string_view error_name);  // error replies sent by the server itself
  boost::json::object control_stats() const;

 private:
  Reply dispatch(const Call& call, const Peer& peer);
  Reply watch_call(const boost::json::object& params, const Peer& peer);
  Reply cancel_call(const boost::json::object& params, const Peer& peer);
  Reply list_call(const boost::json::object& params);
  Reply show_call(const boost::json::object& params);
  Reply stats_call(const boost::json::object& params);
  Reply timing_call(const boost::json::object& params);
  Reply get_info_call(const boost::json::object& params);
  Reply describe_call(const boost::json::object& params);
  std::unique_ptr<ActiveCall> wait_call(const Call& call, const Peer& peer, ReplyFn& reply);
  std::unique_ptr<ActiveCall> follow_call(const Call& call, ReplyFn& reply);
  void count_reply(const Reply& reply);
  // The API each job is (or will be) watched in: a watched job keeps its own
  // and naming another is InvalidParameter `api`; a new one takes the named
  // API or api.default_api.
  std::variant<std::vector<watch::WatchTarget>, Reply> resolve_apis(
      const std::vector<JobSelector>& selectors) const;
  static Reply engine_error(watch::EngineError error);

  boost::asio::any_io_executor executor_;
  watch::Engine& engine_;
  std::string default_project_;
  model::Api default_api_ = model::Api::app_v1;
  StatsProvider stats_;
  metrics::SharedOrOwnRegistry registry_;
  metrics::Gauge& connections_open_;
  metrics::Counter connections_total_;
  metrics::Counter connections_rejected_;
  metrics::Gauge& streams_open_;   // Wait/Follow calls streaming
  metrics::CounterVec& requests_;  // {method}: known methods, or "unknown"
  metrics::CounterVec& errors_;    // {error}: error replies by name

  friend class WaitCall;
  friend class FollowCall;
};

// The IDL of io.jobwatch / org.varlink.service as GetInterfaceDescription
// returns it; nullptr for an unknown interface.
const char* interface_description(std::string_view interface_name);

}  // namespace jobwatch::control
