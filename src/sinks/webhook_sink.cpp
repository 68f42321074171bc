#include "jobwatch/sinks/webhook_sink.hpp"

#include <boost/beast/http/field.hpp>

#include "jobwatch/config/secrets.hpp"
#include "jobwatch/sinks/webhook_signature.hpp"
#include "jobwatch/upstream/answer.hpp"

namespace jobwatch::sinks {

namespace {

// A receiver's error body, shortened and kept to printable ASCII for logs.
std::string snippet(std::string_view body) {
  constexpr std::size_t max = 120;
  std::string out;
  for (char c : body.substr(0, max)) out.push_back(c >= 0x20 && c < 0x7f ? c : ' ');
  if (body.size() > max) out.append("…");
  return out;
}

std::string describe_status(unsigned status, std::string_view body) {
  std::string text = "HTTP " + std::to_string(status);
  if (auto s = snippet(body); !s.empty()) text.append(": ").append(s);
  return text;
}

}  // namespace

DeliveryResult classify_webhook_response(unsigned status, std::string_view retry_after,
                                         std::string_view body,
                                         std::chrono::system_clock::time_point now) {
  if (status >= 200 && status < 300) return DeliveryResult::ok();
  if (status >= 400 && status < 500 && status != 408 && status != 429) {
    return DeliveryResult::permanent(describe_status(status, body));
  }
  std::optional<std::chrono::milliseconds> after;
  if (!retry_after.empty()) after = upstream::parse_retry_after(retry_after, now);
  return DeliveryResult::retry(describe_status(status, body), after);
}

DeliveryResult classify_webhook_result(const upstream::HttpResult& result,
                                       std::chrono::system_clock::time_point now) {
  if (const auto* error = std::get_if<upstream::TransportError>(&result)) {
    return DeliveryResult::retry(error->message.empty() ? "transport error" : error->message);
  }
  const auto& response = std::get<upstream::HttpResponse>(result);
  std::string_view retry_after;
  if (auto it = response.headers.find(boost::beast::http::field::retry_after);
      it != response.headers.end()) {
    retry_after = std::string_view(it->value().data(), it->value().size());
  }
  return classify_webhook_response(response.status, retry_after, response.body, now);
}

std::variant<std::unique_ptr<WebhookSink>, std::string> WebhookSink::create(
    boost::asio::any_io_executor executor, const config::SinkConfig& config) {
  const std::string where = "sinks[" + config.name + "]";
  auto parsed = upstream::parse_url(config.url);
  if (auto* error = std::get_if<std::string>(&parsed)) return where + ".url: " + *error;

  std::optional<std::string> key;
  if (!config.secret.empty()) {
    auto secret = config::read_secret(config.secret, where + ".secret");
    if (auto* error = std::get_if<config::SecretError>(&secret)) return error->message;
    key = decode_webhook_secret(std::get<std::string>(secret));
    if (!key) return where + ".secret: a whsec_ secret must be base64 after the prefix";
  }
  return std::unique_ptr<WebhookSink>(new WebhookSink(
      std::move(executor), config.name, std::move(std::get<upstream::ParsedUrl>(parsed)),
      std::move(key), config.timeout));
}

WebhookSink::WebhookSink(boost::asio::any_io_executor executor, std::string name,
                         upstream::ParsedUrl url, std::optional<std::string> key,
                         std::chrono::milliseconds timeout)
    : Sink(std::move(executor), std::move(name), config::SinkType::webhook),
      target_(std::move(url.target)),
      key_(std::move(key)),
      pool_(this->executor(), std::move(url.origin),
            upstream::PoolOptions{.max_connections = parallel_jobs,
                                  .request_timeout = timeout,
                                  .verify_tls = true,
                                  .ca_file = {},
                                  .user_agent = "jobwatch/" JOBWATCH_VERSION}) {}

std::vector<std::pair<std::string, std::string>> WebhookSink::headers_for(
    const watch::Event& event, std::int64_t unix_seconds) const {
  std::vector<std::pair<std::string, std::string>> headers;
  headers.reserve(4);
  headers.emplace_back("Content-Type", "application/json");
  headers.emplace_back("webhook-id", event.id);
  headers.emplace_back("webhook-timestamp", std::to_string(unix_seconds));
  if (key_) {
    headers.emplace_back("webhook-signature",
                         sign_standard_webhook(*key_, event.id, unix_seconds, event.document));
  }
  return headers;
}

void WebhookSink::deliver(const watch::Event& event, Done done) {
  const auto now = std::chrono::system_clock::now();
  const auto unix_seconds =
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  upstream::HttpRequest request;
  request.method = boost::beast::http::verb::post;
  request.target = target_;
  request.headers = headers_for(event, unix_seconds);
  request.body = event.document;
  // The pool completes on the executor, never inside send(); the handler
  // holds nothing of this sink, so it is safe after the sink is gone.
  pool_.send(std::move(request), [done = std::move(done)](const upstream::HttpResult& result) {
    done(classify_webhook_result(result, std::chrono::system_clock::now()));
  });
}

void WebhookSink::deliver_batch(std::span<const watch::Event* const> events, BatchDone done) {
  deliver_by_job(events, parallel_jobs, std::move(done));
}

void WebhookSink::stop() {
  pool_.close();
}

}  // namespace jobwatch::sinks
