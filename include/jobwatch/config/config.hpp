// The daemon's configuration (SPEC §4) as plain data. Loading, validation
// and FILE:LINE:COL diagnostics live in config/loader.hpp.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "jobwatch/model/api.hpp"

namespace jobwatch::config {

using Duration = std::chrono::milliseconds;
using namespace std::chrono_literals;

// A secret as configured: inline or a file to read it from. Read with
// config/secrets.hpp; the value never goes through a formatter, so it cannot
// end up in a log line or an error message by accident.
struct SecretRef {
  std::string inline_value;  // `token: "…"` — empty when not given
  std::string file;  // `token_file: …` — relative paths resolve in $CREDENTIALS_DIRECTORY
  bool empty() const { return inline_value.empty() && file.empty(); }
};

enum class AuthType { none, token, iam_password, aksk };

struct AuthConfig {
  AuthType type = AuthType::none;
  SecretRef token;  // type: token
  // type: iam-password
  std::string iam_endpoint;  // default derived from api.region
  std::string domain;
  std::string user;
  SecretRef password;
  // type: aksk
  std::string access_key;
  SecretRef secret_key;
  SecretRef security_token;
};

struct TlsConfig {
  bool verify = true;
  std::string ca_file;  // empty: the system store
};

struct ApiConfig {
  std::string endpoint;  // "https://host[:port]"; empty when region is used
  std::string region;
  std::string project_id;  // default for watches that name none
  AuthConfig auth;
  Duration request_timeout = 10s;
  int max_connections = 16;  // per upstream host
  double rate_limit = 20;    // requests per second, shared by all watches
  TlsConfig tls;
  std::string proxy;                            // optional "http://host:port" (HTTP CONNECT)
  model::Api default_api = model::Api::app_v1;  // for watches that name none
  std::string desktop_endpoint;  // desktop-v2 only; empty: api.endpoint or the region's
};

struct PollConfig {
  // How late a job's end may be seen where the timing model says it is
  // likely (SPEC §7); clamped into [min_interval, max_interval] when used.
  Duration target_delay = 10s;
  Duration min_interval = 2s;
  Duration max_interval = 2min;
  Duration default_deadline = 24h;
  Duration not_found_grace = 2min;
};

struct ControlConfig {
  std::string socket = "/run/jobwatch/control.sock";
  unsigned socket_mode = 0660;
  std::size_t max_message = 64 * 1024;
  Duration idle_timeout = 60s;
  std::size_t max_watches = 1'000'000;  // beyond this Watch answers LimitReached
};

struct StateConfig {
  std::string dir = "/var/lib/jobwatch";
  Duration retention = 7 * 24h;  // how long finished watches stay visible
};

enum class SinkType { log, file, webhook };

struct SinkConfig {
  std::string name;
  SinkType type = SinkType::log;
  std::string path;                 // file
  std::string url;                  // webhook
  SecretRef secret;                 // webhook: "whsec_…" (Standard Webhooks)
  std::vector<std::string> events;  // empty = all event types
  Duration max_age = 72h;           // webhook: give up (dead letter) after this
  Duration timeout = 10s;           // webhook: per POST
};

struct LogConfig {
  std::string level = "info";  // trace | debug | info | warn | error
};

struct MetricsConfig {
  std::string listen;  // "127.0.0.1:9464"; empty = off
};

struct Config {
  ApiConfig api;
  PollConfig poll;
  ControlConfig control;
  StateConfig state;
  std::vector<SinkConfig> sinks;
  LogConfig log;
  MetricsConfig metrics;
};

}  // namespace jobwatch::config
