// The JobApi over HTTP: ShowJob requests through one keep-alive pool, with
// credentials from the configured Authenticator, answers classified.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "jobwatch/upstream/auth.hpp"
#include "jobwatch/upstream/http_pool.hpp"
#include "jobwatch/upstream/job_api.hpp"

namespace jobwatch::config {
struct ApiConfig;
}

namespace jobwatch::upstream {

// api.endpoint when set (without trailing '/'); else https://appstream.{region}
// .myhuaweicloud.com for the regions that host Application Streaming under
// that name, https://workspace.{region}.myhuaweicloud.com elsewhere; empty
// when neither is configured.
std::string endpoint_for(const config::ApiConfig& api);
// Where desktop-v2 goes (SPEC §1): api.desktop_endpoint; else api.endpoint;
// else https://workspace.{region}.myhuaweicloud.com; empty when none is set.
std::string desktop_endpoint_for(const config::ApiConfig& api);

// api.max_connections, request_timeout and tls; User-Agent jobwatch/<version>.
PoolOptions pool_options_for(const config::ApiConfig& api);

// A failure below HTTP as an Answer: timeout stays timeout, everything else
// (refused, reset, TLS, garbage) is reset.
Answer transport_failure(const TransportError& error);

class HttpJobApi final : public JobApi {
 public:
  // Told of every HTTP exchange with the gateway (a 401 retried with fresh
  // credentials is two): `code` is the HTTP status ("200"), or "timeout" or
  // "reset" when no answer came; `took` runs from sending to the answer.
  using RequestObserver =
      std::function<void(std::string_view code, std::chrono::steady_clock::duration took)>;

  // Errors (bad endpoint, unreadable secret or CA file, unsupported auth
  // type) come back as text for the config diagnostics; never a secret.
  static std::variant<std::unique_ptr<HttpJobApi>, std::string> create(
      boost::asio::any_io_executor executor, const config::ApiConfig& api);
  // The same with the caller's Authenticator instead of the one api.auth names.
  static std::variant<std::unique_ptr<HttpJobApi>, std::string> create(
      boost::asio::any_io_executor executor, const config::ApiConfig& api,
      std::unique_ptr<Authenticator> auth);

  // On 401 the authenticator may refresh (invalidate() == true): the
  // request is then prepared and sent once more before it counts as
  // unauthorized. Credentials that cannot be had answer unauthorized with
  // http_status 0.
  void fetch(model::Api api, const std::string& project_id, const std::string& job_id,
             Callback done) override;

  // The pool of the Application Streaming endpoint (the desktop one, when it
  // is another host, has its own).
  const HttpPool& pool() const { return *routes_.front().pool; }
  void set_request_observer(RequestObserver observer) { observer_ = std::move(observer); }
  std::string auth_description() const { return auth_->describe(); }
  boost::json::object auth_stats() const { return auth_->stats(); }

  // `desktop` is the desktop-v2 endpoint; the same origin as `endpoint`
  // shares its pool.
  HttpJobApi(boost::asio::any_io_executor executor, ParsedUrl endpoint, ParsedUrl desktop,
             PoolOptions options, std::unique_ptr<Authenticator> auth);

 private:
  struct Fetch;
  // One upstream host and the path prefix its endpoint carried.
  struct Route {
    Origin origin;
    std::string base_path;           // from an endpoint with a path: "/prefix", else empty
    std::shared_ptr<HttpPool> pool;  // shared by routes to the same host
  };
  void attempt(const std::shared_ptr<Fetch>& fetch);
  void on_result(const std::shared_ptr<Fetch>& fetch, HttpResult result);
  Route& route_for(model::Api api);

  boost::asio::any_io_executor executor_;
  RequestObserver observer_;
  std::vector<Route> routes_;  // [0] Application Streaming, [1] desktop
  // Declared after the pools so it goes first: its pending work refers to it.
  std::unique_ptr<Authenticator> auth_;
};

}  // namespace jobwatch::upstream
