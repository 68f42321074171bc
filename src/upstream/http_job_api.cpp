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
  std::string endpoint = endpoint_for(api);
  if (endpoint.empty()) return std::string("api: set api.endpoint or api.region");
  auto parsed = parse_url(endpoint);
  if (auto* error = std::get_if<std::string>(&parsed)) return "api.endpoint: " + *error;
  auto& url = std::get<ParsedUrl>(parsed);
  if (url.target.find('?') != std::string::npos) {
    return std::string("api.endpoint: must not have a query");
  }
  if (!api.proxy.empty()) {
    auto proxy = parse_proxy_url(api.proxy);
    if (auto* error = std::get_if<std::string>(&proxy)) return "api.proxy: " + *error;
  }
  if (!auth) return std::string("api.auth: no authenticator");
  auto job_api = std::make_unique<HttpJobApi>(std::move(executor), std::move(url),
                                              pool_options_for(api), std::move(auth));
  if (!job_api->pool_.setup_error().empty()) return "api.tls: " + job_api->pool_.setup_error();
  return job_api;
}

HttpJobApi::HttpJobApi(boost::asio::any_io_executor executor, ParsedUrl endpoint,
                       PoolOptions options, std::unique_ptr<Authenticator> auth)
    : executor_(executor),
      origin_(std::move(endpoint.origin)),
      base_path_(endpoint.target == "/" ? std::string() : std::move(endpoint.target)),
      pool_(std::move(executor), origin_, std::move(options)),
      auth_(std::move(auth)) {
  while (!base_path_.empty() && base_path_.back() == '/') base_path_.pop_back();
}

void HttpJobApi::fetch(const std::string& project_id, const std::string& job_id, Callback done) {
  auto fetch = std::make_shared<Fetch>();
  // IDs are validated before they get here; encoding anyway keeps a bad one
  // from ever walking the URL path.
  fetch->target =
      base_path_ + "/v1/" + percent_encode(project_id) + "/job/" + percent_encode(job_id);
  fetch->done = std::move(done);
  attempt(fetch);
}

void HttpJobApi::attempt(const std::shared_ptr<Fetch>& fetch) {
  fetch->request = HttpRequest{};
  fetch->request.method = http::verb::get;
  fetch->request.target = fetch->target;
  fetch->request.headers.emplace_back("Accept", "application/json");
  HttpRequest& request = fetch->request;
  auth_->prepare(request, origin_, [this, fetch](std::optional<std::string> error) {
    if (error) {
      // prepare() may answer inline, inside fetch(): post to keep the promise.
      boost::asio::post(executor_, [fetch, message = std::move(*error)]() mutable {
        fetch->done(transport_failure(AnswerKind::unauthorized, "credentials: " + message));
      });
      return;
    }
    fetch->sent_at = std::chrono::steady_clock::now();
    pool_.send(std::move(fetch->request),
               [this, fetch](HttpResult result) { on_result(fetch, std::move(result)); });
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
    spdlog::debug("upstream {}: 401 for {}; retrying with fresh credentials", authority(origin_),
                  fetch->target);
    fetch->retried = true;
    attempt(fetch);
    return;
  }
  auto retry_after = response.headers[http::field::retry_after];
  fetch->done(classify_response(response.status,
                                std::string_view(retry_after.data(), retry_after.size()),
                                response.body, std::chrono::system_clock::now()));
}

}  // namespace jobwatch::upstream
