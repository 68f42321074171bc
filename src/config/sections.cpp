// The sections besides api: polling, the control socket, state, sinks, log
// and metrics.
#include "sections.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <limits>
#include <variant>

#include "jobwatch/config/duration.hpp"
#include "syntax.hpp"

namespace jobwatch::config::detail {
namespace {

// sockaddr_un::sun_path holds 108 bytes including the terminating NUL.
constexpr std::size_t max_socket_path = 107;

bool is_sink_name(std::string_view name) {
  if (name.empty() || name.size() > 63) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

// "0660", "660", "0o660" (YAML 1.2) or an unquoted 0660: octal permission bits.
std::optional<unsigned> parse_mode(std::string_view text) {
  if (text.starts_with("0o")) text.remove_prefix(2);
  if (text.empty() || text.size() > 4) return std::nullopt;
  unsigned mode = 0;
  for (char c : text) {
    if (c < '0' || c > '7') return std::nullopt;
    mode = mode * 8 + static_cast<unsigned>(c - '0');
  }
  if (mode > 0777) return std::nullopt;
  return mode;
}

// The host of a host:port (already checked by is_host_port) is loopback:
// 127.0.0.0/8, [::1] or localhost. Names other than localhost are refused:
// what they resolve to can change under us.
bool is_loopback_host_port(std::string_view host_port) {
  std::string host(host_port.substr(0, host_port.rfind(':')));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    in6_addr v6{};
    return ::inet_pton(AF_INET6, host.substr(1, host.size() - 2).c_str(), &v6) == 1 &&
           IN6_IS_ADDR_LOOPBACK(&v6);
  }
  std::transform(host.begin(), host.end(), host.begin(), [](char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  });
  if (host == "localhost") return true;
  in_addr v4{};
  return ::inet_pton(AF_INET, host.c_str(), &v4) == 1 && (ntohl(v4.s_addr) >> 24) == 127;
}

void read_sink(const MapReader& map, SinkConfig& sink) {
  if (auto v = map.nonempty_string("name")) {
    if (is_sink_name(*v)) {
      sink.name = *v;
    } else {
      map.error("name", "must be 1-63 characters of A-Z a-z 0-9 . _ -");
    }
  } else if (!map.has("name")) {
    map.error_here("name is required");
  }
  auto type = map.choice("type", {"log", "file", "webhook"});
  if (!map.has("type")) map.error_here("type is required (log, file or webhook)");
  if (type == "log") sink.type = SinkType::log;
  if (type == "file") sink.type = SinkType::file;
  if (type == "webhook") sink.type = SinkType::webhook;

  // Keys that only one type uses would be silently ignored by the others.
  if (type) {
    auto only_for = [&](std::string_view key, std::string_view owner) {
      if (*type != owner && map.has(key)) {
        map.error_at_key(key, "not used by sink type '" + *type + "'");
      }
    };
    only_for("path", "file");
    only_for("url", "webhook");
    only_for("secret", "webhook");
    only_for("secret_file", "webhook");
    only_for("timeout", "webhook");
  }

  if (auto v = map.nonempty_string("path")) sink.path = *v;
  if (type == "file" && !map.has("path")) map.error_here("type 'file' needs path");

  if (auto v = map.nonempty_string("url")) {
    auto url = parse_url(*v, {.allow_path = true});
    if (auto* error = std::get_if<UrlError>(&url)) {
      map.error("url", error->reason);  // the URL itself may hold a token: never quoted
    } else {
      sink.url = *v;
    }
  }
  if (type == "webhook" && !map.has("url")) map.error_here("type 'webhook' needs url");
  sink.secret = map.secret("secret", "secret_file");

  if (const YAML::Node* events = map.find("events")) {
    if (!events->IsSequence()) {
      map.error("events", "expected a list of event types");
    } else if (events->size() == 0) {
      map.error("events", "must not be empty (leave it out to receive every event type)");
    }
    if (events->IsSequence()) {
      const Names event_types = {"job.succeeded", "job.failed", "subjob.succeeded", "subjob.failed",
                                 "watch.abandoned"};
      for (std::size_t i = 0; i < events->size(); ++i) {
        const YAML::Node item = (*events)[i];
        std::string where = map.path("events") + "[" + std::to_string(i) + "]";
        if (!item.IsScalar()) {
          map.diagnostics().add(item.Mark(), where + ": expected an event type");
          continue;
        }
        const std::string& name = item.Scalar();
        if (std::find(event_types.begin(), event_types.end(), name) == event_types.end()) {
          auto hint = closest(name, event_types);
          map.diagnostics().add(item.Mark(),
                                where + ": unknown event type '" + name + "'" +
                                    (hint ? "; did you mean '" + std::string(*hint) + "'?" : ""));
          continue;
        }
        if (std::find(sink.events.begin(), sink.events.end(), name) == sink.events.end()) {
          sink.events.push_back(name);
        }
      }
    }
  }
  if (auto v = map.duration("max_age")) sink.max_age = *v;
  if (auto v = map.duration("timeout")) sink.timeout = *v;
}

}  // namespace

void read_poll(const MapReader& root, PollConfig& poll) {
  MapReader map = root.section("poll", {"target_delay", "min_interval", "max_interval",
                                        "default_deadline", "not_found_grace"});
  if (auto v = map.duration("target_delay")) poll.target_delay = *v;
  auto min = map.duration("min_interval");
  auto max = map.duration("max_interval");
  if (min) poll.min_interval = *min;
  if (max) poll.max_interval = *max;
  if ((min || max) && poll.min_interval > poll.max_interval) {
    // Blame the key the user wrote (the later one when both are given).
    std::string_view key = !max   ? "min_interval"
                           : !min ? "max_interval"
                           : map.key_mark("min_interval").pos > map.key_mark("max_interval").pos
                               ? "min_interval"
                               : "max_interval";
    map.error(key, "min_interval (" + format_duration(poll.min_interval) +
                       ") must not be longer than max_interval (" +
                       format_duration(poll.max_interval) + ")");
  }
  if (auto v = map.duration("default_deadline")) poll.default_deadline = *v;
  if (auto v = map.duration("not_found_grace")) poll.not_found_grace = *v;
}

void read_control(const MapReader& root, ControlConfig& control) {
  MapReader map = root.section(
      "control", {"socket", "socket_mode", "max_message", "idle_timeout", "max_watches"});
  if (auto v = map.nonempty_string("socket")) {
    if (v->size() > max_socket_path) {
      map.error("socket", "longer than 107 bytes, the limit of a Unix socket path");
    } else {
      control.socket = *v;
    }
  }
  if (auto v = map.string("socket_mode")) {
    if (auto mode = parse_mode(*v)) {
      control.socket_mode = *mode;
    } else {
      map.error("socket_mode", "expected octal permission bits up to 0777, like \"0660\"");
    }
  }
  if (auto v = map.integer("max_message", 1024, std::numeric_limits<long long>::max())) {
    control.max_message = static_cast<std::size_t>(*v);
  }
  if (auto v = map.duration("idle_timeout")) control.idle_timeout = *v;
  if (auto v = map.integer("max_watches", 1, std::numeric_limits<long long>::max())) {
    control.max_watches = static_cast<std::size_t>(*v);
  }
}

void read_state(const MapReader& root, StateConfig& state) {
  MapReader map = root.section("state", {"dir", "retention"});
  if (auto v = map.nonempty_string("dir")) state.dir = *v;
  if (auto v = map.duration("retention")) state.retention = *v;
}

void read_sinks(const MapReader& root, std::vector<SinkConfig>& sinks) {
  const YAML::Node* list = root.find("sinks");
  if (list == nullptr) {
    // Without a sinks section events still go somewhere a user will look.
    sinks.push_back(SinkConfig{.name = "log", .type = SinkType::log});
    return;
  }
  if (list->IsNull()) return;  // `sinks:` with every entry commented out: none
  if (!list->IsSequence()) {
    root.error("sinks", "expected a list of sinks");
    return;
  }
  for (std::size_t i = 0; i < list->size(); ++i) {
    const YAML::Node item = (*list)[i];
    std::string path = "sinks[" + std::to_string(i) + "]";
    MapReader map(
        root.diagnostics(), item, path, item.Mark(),
        {"name", "type", "path", "url", "secret", "secret_file", "events", "max_age", "timeout"});
    if (!map.present()) {
      if (item.IsNull()) root.diagnostics().add(item.Mark(), path + ": expected a sink");
      continue;
    }
    SinkConfig sink;
    read_sink(map, sink);
    auto same_name = std::find_if(sinks.begin(), sinks.end(), [&](const SinkConfig& other) {
      return !sink.name.empty() && other.name == sink.name;
    });
    if (same_name != sinks.end()) {
      map.error("name", "another sink is already named '" + sink.name + "'");
    }
    sinks.push_back(std::move(sink));
  }
}

void read_log(const MapReader& root, LogConfig& log) {
  MapReader map = root.section("log", {"level"});
  if (auto v = map.choice("level", {"trace", "debug", "info", "warn", "error"})) log.level = *v;
}

void read_metrics(const MapReader& root, MetricsConfig& metrics) {
  MapReader map = root.section("metrics", {"listen"});
  if (auto v = map.string("listen")) {
    if (v->empty() || (is_host_port(*v) && is_loopback_host_port(*v))) {
      metrics.listen = *v;
    } else if (!is_host_port(*v)) {
      map.error("listen", "expected host:port, like 127.0.0.1:9464");
    } else {
      map.error("listen",
                "must be a loopback address (127.0.0.1, [::1] or localhost): the endpoint "
                "has no authentication");
    }
  }
}

}  // namespace jobwatch::config::detail
