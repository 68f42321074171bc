// ShowJob over HTTP: build the request, let the authenticator prepare it,
// send it through the pool, classify what comes back.
#include "jobwatch/upstream/http_job_api.hpp"

#include <spdlog/spdlog.h>

#include <array>
#include <boost/asio/post.hpp>
#include <chrono>
#include <utility>

#include "jobwatch/config/config.hpp"

namespace jobwatch::upstream {
namespace http = boost::beast::http;

namespace {

// An endpoint URL without a query; `key` names it in the error.
std::variant<ParsedUrl, std::string> parse_endpoint(const std::string& endpoint,
                                                    std::string_view key) {
  if (endpoint.empty()) return std::string("api: set api.endpoint or api.region");
  auto parsed = parse_url(endpoint);
  if (auto* error = std::get_if<std::string>(&parsed)) return std::string(key) + ": " + *error;
  if (std::get<ParsedUrl>(parsed).target.find('?') != std::string::npos)
    return std::string(key) + ": must not have a query";
  return parsed;
}

// Where Application Streaming answers under its own service name.
constexpr std::array<std::string_view, 5> appstream_regions = {
    "cn-north-4", "cn-north-9", "cn-east-3", "cn-south-1", "cn-southwest-2"};

}  // namespace

std::string endpoint_for(const config::ApiConfig& api) {
  if (!api.endpoint.empty()) {
    std::string endpoint = api.endpoint;
    while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
    return endpoint;
  }
  if (api.region.empty()) return {};
  bool appstream = false;
  for (auto region : appstream_regions) appstream = appstream || region == api.region;
  return std::string("https://") + (appstream ? "appstream." : "workspace.") + api.region +
         ".myhuaweicloud.com";
}

std::string desktop_endpoint_for(const config::ApiConfig& api) {
  std::string endpoint = !api.desktop_endpoint.empty() ? api.desktop_endpoint : api.endpoint;
  if (!endpoint.empty()) {
    while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
    return endpoint;
  }
  if (api.region.empty()) return {};
  return "https://workspace." + api.region + ".myhuaweicloud.com";
}

PoolOptions pool_options_for(const config::ApiConfig& api) {
  PoolOptions options;
  options.max_connections = api.max_connections;
  options.request_timeout = api.request_timeout;
  options.verify_tls = api.tls.verify;
  options.ca_file = api.tls.ca_file;
  options.proxy = api.proxy;
  options.user_agent = "jobwatch/" JOBWATCH_VERSION;
  return options;
}

Answer transport_failure(const TransportError& error) {
  return transport_failure(
      error.kind == TransportErrorKind::timeout ? AnswerKind::timeout : AnswerKind::reset,
      error.message);
}

struct HttpJobApi::Fetch {
  Route* route = nullptr;
  model::Api api = model::Api::app_v1;
  std::string target;
  Callback done;
  HttpRequest request;  // must outlive the authenticator's prepare()
  std::chrono::steady_clock::time_point sent_at;
  bool retried = false;
};

std::variant<std::unique_ptr<HttpJobApi>, std::string> HttpJobApi::create(
    boost::asio::any_io_executor executor, const config::ApiConfig& api) {
  auto auth = make_authenticator(executor, api);
  if (auto* error = std::get_if<std::string>(&auth)) return std::move(*error);
  return create(std::move(executor), api, std::move(std::get<0>(auth)));
}

std::variant<std::unique_ptr<HttpJobApi>, std::string> HttpJobApi::create(
    boost::asio::any_io_executor executor, const config::ApiConfig& api,
    std::unique_ptr<Authenticator> auth) {
  auto endpoint = parse_endpoint(endpoint_for(api), "api.endpoint");
  if (auto* error = std::get_if<std::string>(&endpoint)) return std::move(*error);
  auto desktop =
      parse_endpoint(desktop_endpoint_for(api),
                     !api.desktop_endpoint.empty() ? "api.desktop_endpoint" : "api.endpoint");
  if (auto* error = std::get_if<std::string>(&desktop)) return std::move(*error);
  if (!api.proxy.empty()) {
    auto proxy = parse_proxy_url(api.proxy);
    if (auto* error = std::get_if<std::string>(&proxy)) return "api.proxy: " + *error;
  }
  if (!auth) return std::string("api.auth: no authenticator");
  auto job_api = std::make_unique<HttpJobApi>(
      std::move(executor), std::get<ParsedUrl>(std::move(endpoint)),
      std::get<ParsedUrl>(std::move(desktop)), pool_options_for(api), std::move(auth));
  for (const Route& route : job_api->routes_)
    if (!route.pool->setup_error().empty()) return "api.tls: " + route.pool->setup_error();
  return job_api;
}

HttpJobApi::HttpJobApi(boost::asio::any_io_executor executor, ParsedUrl endpoint, ParsedUrl desktop,
                       PoolOptions options, std::unique_ptr<Authenticator> auth)
    : executor_(executor), auth_(std::move(auth)) {
  auto add_route = [&](ParsedUrl url) {
    Route route;
    route.origin = std::move(url.origin);
    route.base_path = url.target == "/" ? std::string() : std::move(url.target);
    while (!route.base_path.empty() && route.base_path.back() == '/') route.base_path.pop_back();
    for (const Route& other : routes_)
      if (other.origin.tls == route.origin.tls &&
          authority(other.origin) == authority(route.origin))
        route.pool = other.pool;
    if (!route.pool) route.pool = std::make_shared<HttpPool>(executor_, route.origin, options);
    routes_.push_back(std::move(route));
  };
  add_route(std::move(endpoint));
  add_route(std::move(desktop));
}

HttpJobApi::Route& HttpJobApi::route_for(model::Api api) {
  if (model::mapping(api).service == model::Service::desktop) return routes_.back();
  return routes_.front();
}

void HttpJobApi::fetch(model::Api api, const std::string& project_id, const std::string& job_id,
                       Callback done) {
  auto fetch = std::make_shared<Fetch>();
  fetch->route = &route_for(api);
  fetch->api = api;
  // IDs are validated before they get here; encoding anyway keeps a bad one
  // from ever walking the URL path.
  fetch->target = fetch->route->base_path +
                  model::mapping(api).path(percent_encode(project_id), percent_encode(job_id));
  fetch->done = std::move(done);
  attempt(fetch);
}

void HttpJobApi::attempt(const std::shared_ptr<Fetch>& fetch) {
  fetch->request = HttpRequest{};
  fetch->request.method = http::verb::get;
  fetch->request.target = fetch->target;
  fetch->request.headers.emplace_back("Accept", "application/json");
  HttpRequest& request = fetch->request;
  auth_->prepare(request, fetch->route->origin, [this, fetch](std::optional<std::string> error) {
    if (error) {
      // prepare() may answer inline, inside fetch(): post to keep the promise.
      boost::asio::post(executor_, [fetch, message = std::move(*error)]() mutable {
        fetch->done(transport_failure(AnswerKind::unauthorized, "credentials: " + message));
      });
      return;
    }
    fetch->sent_at = std::chrono::steady_clock::now();
    fetch->route->pool->send(std::move(fetch->request), [this, fetch](HttpResult result) {
      on_result(fetch, std::move(result));
    });
  });
}

void HttpJobApi::on_result(const std::shared_ptr<Fetch>& fetch, HttpResult result) {
  const auto took = std::chrono::steady_clock::now() - fetch->sent_at;
  if (auto* error = std::get_if<TransportError>(&result)) {
    Answer answer = transport_failure(*error);
    if (observer_) observer_(kind_name(answer.kind), took);
    fetch->done(std::move(answer));
    return;
  }
  auto& response = std::get<HttpResponse>(result);
  if (observer_) observer_(std::to_string(response.status), took);
  if (response.status == 401 && !fetch->retried && auth_->on_unauthorized(response)) {
    spdlog::debug("upstream {}: 401 for {}; retrying with fresh credentials",
                  authority(fetch->route->origin), fetch->target);
    fetch->retried = true;
    attempt(fetch);
    return;
  }
  auto retry_after = response.headers[http::field::retry_after];
  auto date = response.headers[http::field::date];
  fetch->done(classify_response(
      response.status, std::string_view(retry_after.data(), retry_after.size()), response.body,
      std::chrono::system_clock::now(), fetch->api, std::string_view(date.data(), date.size())));
}

}  // namespace jobwatch::upstream
