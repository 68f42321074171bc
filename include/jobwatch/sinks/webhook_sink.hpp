// The `webhook` sink: POSTs each event's JSON to a URL with Standard Webhooks
// headers, through its own keep-alive HttpPool, and maps the answer to
// delivered / retry / permanent (SPEC §5).
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "jobwatch/sinks/sink.hpp"
#include "jobwatch/upstream/http_pool.hpp"

namespace jobwatch::sinks {

// Pure: 2xx delivered; 408 and 429 retry; 410 and other 4xx permanent;
// everything else (5xx, 3xx: redirects are not followed) retry. Retry-After
// (raw header value, may be empty) is resolved against `now`.
DeliveryResult classify_webhook_response(unsigned status, std::string_view retry_after,
                                         std::string_view body,
                                         std::chrono::system_clock::time_point now);
DeliveryResult classify_webhook_result(const upstream::HttpResult& result,
                                       std::chrono::system_clock::time_point now);

class WebhookSink final : public Sink {
 public:
  // Errors: a bad URL, an unreadable secret, a "whsec_" secret that is not
  // base64. The message names the sink and never contains the secret.
  static std::variant<std::unique_ptr<WebhookSink>, std::string> create(
      boost::asio::any_io_executor executor, const config::SinkConfig& config);

  void deliver(const watch::Event& event, Done done) override;
  // Several jobs' events in flight at once, one connection each; a job's
  // own events one after the other (SPEC §5's per-job order), so that one
  // round trip per event no longer bounds the sink's rate.
  void deliver_batch(std::span<const watch::Event* const> events, BatchDone done) override;
  std::size_t max_batch() const override { return 256; }
  void stop() override;

  static constexpr std::size_t parallel_jobs = 4;

 private:
  // Standard Webhooks headers for one send (webhook-signature only with a key).
  std::vector<std::pair<std::string, std::string>> headers_for(const watch::Event& event,
                                                               std::int64_t unix_seconds) const;
  WebhookSink(boost::asio::any_io_executor executor, std::string name, upstream::ParsedUrl url,
              std::optional<std::string> key, std::chrono::milliseconds timeout);

  std::string target_;
  std::optional<std::string> key_;  // HMAC key bytes; nullopt: unsigned
  upstream::HttpPool pool_;
};

}  // namespace jobwatch::sinks
