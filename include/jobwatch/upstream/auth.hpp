// How requests get their credentials. Each auth type is one Authenticator;
// the HTTP job API asks it to prepare every request, so AK/SK signing
// (per-request) and IAM tokens (fetched, cached, refreshed) slot in without
// touching the pool or the engine.
#pragma once

#include <boost/json/object.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>

#include "jobwatch/upstream/http_pool.hpp"

namespace jobwatch::config {
struct ApiConfig;
}

namespace jobwatch::upstream {

class Authenticator {
 public:
  // nullopt: the request is ready; otherwise why credentials could not be
  // had (no secret in it). Runs on the event loop, possibly later.
  using Ready = std::function<void(std::optional<std::string> error)>;
  virtual ~Authenticator() = default;
  // Adds credentials to `request` (headers, signature). `request` must stay
  // alive until `ready` runs.
  virtual void prepare(HttpRequest& request, const Origin& origin, Ready ready) = 0;
  // The upstream answered 401: drop cached credentials so the next prepare()
  // refreshes them. Returns true when a retry can help (a refreshable token).
  virtual bool invalidate() { return false; }
  // The upstream answered 401 with `response`: what HttpJobApi calls. AK/SK
  // looks at it for clock skew (and corrects X-Sdk-Date); the others
  // invalidate(). Returns true when one retry can help.
  virtual bool on_unauthorized(const HttpResponse& /*response*/) { return invalidate(); }
  // Shown in Stats/Show: "token", "none", "iam-password (token valid 41m)".
  virtual std::string describe() const = 0;
  // Counters and state for Stats (e.g. IAM refreshes and failures); empty
  // for auth types with nothing to report. Never a secret.
  virtual boost::json::object stats() const { return {}; }
};

// Builds the authenticator for api.auth. Reads secrets (inline or *_file) at
// construction; on failure returns the reason (naming the file, never the
// secret).
std::variant<std::unique_ptr<Authenticator>, std::string> make_authenticator(
    const config::ApiConfig& api);
// The same, for authenticators that do I/O of their own (iam-password
// fetches tokens from IAM) on `executor`. HttpJobApi uses this one.
std::variant<std::unique_ptr<Authenticator>, std::string> make_authenticator(
    const boost::asio::any_io_executor& executor, const config::ApiConfig& api);

}  // namespace jobwatch::upstream
