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
  void fetch(const std::string& project_id, const std::string& job_id, Callback done) override;

  const HttpPool& pool() const { return pool_; }
  HttpPool& pool() { return pool_; }  // close() at shutdown
  void set_request_observer(RequestObserver observer) { observer_ = std::move(observer); }
  std::string auth_description() const { return auth_->describe(); }
  boost::json::object auth_stats() const { return auth_->stats(); }

  HttpJobApi(boost::asio::any_io_executor executor, ParsedUrl endpoint, PoolOptions options,
             std::unique_ptr<Authenticator> auth);

 private:
  struct Fetch;
  void attempt(const std::shared_ptr<Fetch>& fetch);
  void on_result(const std::shared_ptr<Fetch>& fetch, HttpResult result);

  boost::asio::any_io_executor executor_;
  Origin origin_;
  std::string base_path_;  // from an endpoint with a path: "/prefix", else empty
  RequestObserver observer_;
  HttpPool pool_;
  // Declared after the pool so it goes first: its pending work refers to it.
  std::unique_ptr<Authenticator> auth_;
};

}  // namespace jobwatch::upstream
