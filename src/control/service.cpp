#include "jobwatch/control/service.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "jobwatch/control/validation.hpp"

#ifndef JOBWATCH_VERSION
#define JOBWATCH_VERSION "0.0.0"
#endif
#ifndef JOBWATCH_URL
#define JOBWATCH_URL ""  // no public home page yet
#endif

namespace jobwatch::control {

namespace json = boost::json;

namespace {

constexpr std::array known_methods = {
    std::string_view("io.jobwatch.Watch"),
    std::string_view("io.jobwatch.Cancel"),
    std::string_view("io.jobwatch.List"),
    std::string_view("io.jobwatch.Show"),
    std::string_view("io.jobwatch.Wait"),
    std::string_view("io.jobwatch.Follow"),
    std::string_view("io.jobwatch.Stats"),
    std::string_view("io.jobwatch.Timing"),
    std::string_view("org.varlink.service.GetInfo"),
    std::string_view("org.varlink.service.GetInterfaceDescription"),
};

json::object job_ref_json(const watch::JobRef& job) {
  return json::object{{"job_id", job.job_id}, {"project_id", job.project_id}};
}

// List's reply, rendered a piece at a time as the connection writes it:
// the handles are 8 bytes a watch, and only the watches of the piece being
// rendered exist as WatchInfo and JSON, so a List of 100k watches neither
// stalls the loop for its whole length nor leaves the heap grown by the
// size of a DOM of all of them.
class WatchListPieces final : public ReplyPieces {
 public:
  // About 600 watches a piece.
  static constexpr std::size_t piece_bytes = 128 * 1024;

  WatchListPieces(const watch::Engine& engine, std::vector<watch::WatchHandle> handles)
      : engine_(engine), handles_(std::move(handles)) {}

  bool next(std::string& out) override {
    if (!started_) {
      out += R"({"parameters":{"watches":[)";
      started_ = true;
    }
    const std::size_t limit = out.size() + piece_bytes;
    while (next_ < handles_.size() && out.size() < limit) {
      // Gone since the List began (cancelled, retention over): skipped.
      auto info = engine_.info(handles_[next_++]);
      if (!info) continue;
      if (any_written_) out.push_back(',');
      any_written_ = true;
      out += json::serialize(watch::to_json(*info));
    }
    if (next_ < handles_.size()) return true;
    out += "]}}";
    out.push_back('\0');
    return false;
  }

 private:
  const watch::Engine& engine_;
  std::vector<watch::WatchHandle> handles_;
  std::size_t next_ = 0;
  bool started_ = false;
  bool any_written_ = false;
};

template <class T>
Reply* error_of(std::variant<T, Reply>& checked) {
  return std::get_if<Reply>(&checked);
}

}  // namespace

Service::Service(boost::asio::any_io_executor executor, watch::Engine& engine,
                 const config::Config& config, StatsProvider stats, metrics::Registry* registry)
    : executor_(std::move(executor)),
      engine_(engine),
      default_project_(config.api.project_id),
      default_api_(config.api.default_api),
      stats_(std::move(stats)),
      registry_(registry),
      connections_open_(registry_->gauge("jobwatch_control_connections_open",
                                         "Control socket connections open now.")),
      connections_total_(registry_->single_counter("jobwatch_control_connections_total",
                                                   "Control socket connections accepted.")),
      connections_rejected_(registry_->single_counter(
          "jobwatch_control_connections_rejected_total",
          "Control socket connections refused: over control.max_connections.")),
      streams_open_(registry_->gauge("jobwatch_control_streams_open",
                                     "Wait and Follow calls streaming replies now.")),
      requests_(registry_->counter("jobwatch_control_requests_total",
                                   "Control calls by method (unknown for any other name).",
                                   {"method"})),
      errors_(registry_->counter("jobwatch_control_errors_total",
                                 "Control error replies by error name.", {"error"})) {}

Service::~Service() = default;

Reply Service::engine_error(watch::EngineError error) {
  if (error == watch::EngineError::limit_reached) {
    return error_reply(std::string(errors::limit_reached),
                       json::object{{"reason",
                                     "the daemon watches as many jobs as it may "
                                     "(control.max_watches)"}});
  }
  if (error == watch::EngineError::store_failed) {
    return error_reply(std::string(errors::unavailable),
                       json::object{{"reason",
                                     "the state store could not record the watch; "
                                     "see the daemon's log"}});
  }
  return error_reply(std::string(errors::shutting_down));
}

void Service::reconfigure(const config::Config& config) {
  default_project_ = config.api.project_id;
  default_api_ = config.api.default_api;
}

void Service::connection_opened() {
  connections_open_.add(1);
  connections_total_.add();
}
void Service::connection_closed() {
  if (connections_open_.value() > 0) connections_open_.add(-1);
}
void Service::connection_rejected() {
  connections_rejected_.add();
}
void Service::protocol_error(std::string_view error_name) {
  errors_.add({std::string(error_name)});
}

json::object Service::control_stats() const {
  using metrics::as_count;
  json::object requests;
  for (const auto& [method, n] : requests_.values()) requests[method[0]] = as_count(n);
  json::object errs;
  for (const auto& [name, n] : errors_.values()) errs[name[0]] = as_count(n);
  return json::object{{"connections_open", as_count(connections_open_.value())},
                      {"connections_total", as_count(connections_total_.value())},
                      {"connections_rejected", as_count(connections_rejected_.value())},
                      {"streams_open", as_count(streams_open_.value())},
                      {"requests", std::move(requests)},
                      {"errors", std::move(errs)}};
}

void Service::count_reply(const Reply& reply) {
  if (!reply.error.empty()) errors_.add({reply.error});
}

std::unique_ptr<ActiveCall> Service::call(const Call& call, const Peer& peer, ReplyFn reply) {
  const bool known =
      std::find(known_methods.begin(), known_methods.end(), call.method) != known_methods.end();
  requests_.add({known ? call.method : std::string("unknown")});
  if (call.method == "io.jobwatch.Wait") return wait_call(call, peer, reply);
  if (call.method == "io.jobwatch.Follow") return follow_call(call, reply);
  Reply out = dispatch(call, peer);
  count_reply(out);
  reply(std::move(out));
  return nullptr;
}

Reply Service::dispatch(const Call& call, const Peer& peer) {
  const auto& params = call.parameters;
  if (call.method == "io.jobwatch.Watch") return watch_call(params, peer);
  if (call.method == "io.jobwatch.Cancel") return cancel_call(params, peer);
  if (call.method == "io.jobwatch.List") return list_call(params);
  if (call.method == "io.jobwatch.Show") return show_call(params);
  if (call.method == "io.jobwatch.Stats") return stats_call(params);
  if (call.method == "io.jobwatch.Timing") return timing_call(params);
  if (call.method == "org.varlink.service.GetInfo") return get_info_call(params);
  if (call.method == "org.varlink.service.GetInterfaceDescription") return describe_call(params);
  return error_reply(std::string(errors::method_not_found),
                     json::object{{"method", escape_for_display(call.method, 128)}});
}

Reply Service::watch_call(const json::object& params, const Peer& peer) {
  if (auto bad = check_known(params, {"jobs", "labels", "deadline_s"})) return *bad;
  auto jobs = parse_jobs(params, default_project_);
  if (auto* e = error_of(jobs)) return std::move(*e);
  auto labels = parse_labels(params);
  if (auto* e = error_of(labels)) return std::move(*e);
  auto deadline = parse_seconds(params, "deadline_s");
  if (auto* e = error_of(deadline)) return std::move(*e);

  auto targets = resolve_apis(std::get<0>(jobs));
  if (auto* e = error_of(targets)) return std::move(*e);

  watch::WatchRequest request;
  request.jobs = std::move(std::get<0>(targets));
  request.labels = std::move(std::get<0>(labels));
  request.deadline = std::get<0>(deadline);
  request.submitter = peer.uid;
  auto result = engine_.watch(request);
  if (auto* error = std::get_if<watch::EngineError>(&result)) return engine_error(*error);
  json::array watches;
  for (const auto& info : std::get<0>(result)) {
    auto object = watch::to_json(info);
    object["created"] = info.created;
    watches.push_back(std::move(object));
  }
  return Reply{{}, json::object{{"watches", std::move(watches)}}, false};
}

Reply Service::cancel_call(const json::object& params, const Peer& peer) {
  if (auto bad = check_known(params, {"jobs"})) return *bad;
  auto jobs = parse_jobs(params, default_project_);
  if (auto* e = error_of(jobs)) return std::move(*e);
  // Only to check a named API against the watch; the engine cancels by job.
  auto targets = resolve_apis(std::get<0>(jobs));
  if (auto* e = error_of(targets)) return std::move(*e);
  std::vector<watch::JobRef> refs;
  refs.reserve(std::get<0>(jobs).size());
  for (const auto& selector : std::get<0>(jobs)) refs.push_back(selector.job);
  auto result = engine_.cancel(refs, peer.uid);
  if (auto* failure = std::get_if<watch::CancelFailure>(&result)) {
    const bool denied = failure->kind == watch::CancelFailure::Kind::permission_denied;
    return error_reply(std::string(denied ? errors::permission_denied : errors::not_watched),
                       job_ref_json(failure->job));
  }
  json::array cancelled;
  for (const auto& job : std::get<0>(result)) cancelled.push_back(job_ref_json(job));
  return Reply{{}, json::object{{"cancelled", std::move(cancelled)}}, false};
}

Reply Service::list_call(const json::object& params) {
  if (auto bad = check_known(params, {})) return *bad;
  Reply reply;
  reply.pieces = std::make_shared<WatchListPieces>(engine_, engine_.handles());
  return reply;
}

Reply Service::show_call(const json::object& params) {
  if (auto bad = check_known(params, {"job_id", "project_id", "api"})) return *bad;
  auto ref = parse_job_ref(params, default_project_);
  if (auto* e = error_of(ref)) return std::move(*e);
  auto api = parse_api(params);
  if (auto* e = error_of(api)) return std::move(*e);
  const auto& job = std::get<0>(ref);
  auto shown = engine_.show(job);
  if (!shown) return error_reply(std::string(errors::not_watched), job_ref_json(job));
  if (const auto& asked = std::get<0>(api); asked && *asked != shown->info.record->api)
    return api_mismatch(job, shown->info.record->api, *asked);
  json::object out{{"watch", watch::to_json(shown->info)}};
  if (!shown->job_json.empty()) {
    boost::system::error_code ec;
    json::parse_options options;
    options.max_depth = 256;
    auto detail = json::parse(shown->job_json, ec, json::storage_ptr(), options);
    if (!ec) {
      out["job"] = std::move(detail);
    } else {
      spdlog::warn("control: stored job answer of {}/{} is not JSON: {}", job.project_id,
                   job.job_id, ec.message());
    }
  }
  return Reply{{}, std::move(out), false};
}

std::variant<std::vector<watch::WatchTarget>, Reply> Service::resolve_apis(
    const std::vector<JobSelector>& selectors) const {
  std::vector<watch::WatchTarget> targets;
  targets.reserve(selectors.size());
  for (const JobSelector& selector : selectors) {
    model::Api api = selector.api.value_or(default_api_);
    if (auto info = engine_.info(selector.job)) {
      if (selector.api && *selector.api != info->record->api)
        return api_mismatch(selector.job, info->record->api, *selector.api);
      api = info->record->api;
    }
    targets.push_back({selector.job, api});
  }
  return targets;
}

Reply Service::stats_call(const json::object& params) {
  if (auto bad = check_known(params, {})) return *bad;
  json::object out = stats_ ? stats_() : json::object{{"engine", engine_.stats()}};
  out["control"] = control_stats();
  return Reply{{}, std::move(out), false};
}

Reply Service::timing_call(const json::object& params) {
  if (auto bad = check_known(params, {"trace"})) return *bad;
  const json::value* trace = params.if_contains("trace");
  if (trace != nullptr && !trace->is_bool() && !trace->is_null())
    return invalid_parameter("trace", "must be a boolean");
  json::object out{{"models", engine_.timing()}};
  // Only when asked: the jobs of a week of retention can be many.
  if (trace != nullptr && trace->is_bool() && trace->get_bool())
    out["jobs"] = watch::trace_json(engine_.finished_jobs());
  return Reply{{}, std::move(out), false};
}

Reply Service::get_info_call(const json::object& params) {
  if (auto bad = check_known(params, {})) return *bad;
  return Reply{{},
               json::object{{"vendor", "jobwatch"},
                            {"product", "jobwatchd"},
                            {"version", JOBWATCH_VERSION},
                            {"url", JOBWATCH_URL},
                            {"interfaces", json::array{"org.varlink.service", "io.jobwatch"}}},
               false};
}

Reply Service::describe_call(const json::object& params) {
  if (auto bad = check_known(params, {"interface"})) return *bad;
  const auto* name = params.if_contains("interface");
  if (name == nullptr || !name->is_string()) {
    return invalid_parameter("interface", name ? "must be a string" : "required");
  }
  const char* idl = interface_description(name->get_string());
  if (idl == nullptr) {
    return error_reply(std::string(errors::interface_not_found),
                       json::object{{"interface", escape_for_display(name->get_string(), 128)}});
  }
  return Reply{{}, json::object{{"description", idl}}, false};
}

}  // namespace jobwatch::control
