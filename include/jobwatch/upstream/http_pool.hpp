// A keep-alive HTTP/1.1 client pool for one origin (scheme://host:port),
// over TCP or TLS. Used for the job API and for webhook sinks.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/verb.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace jobwatch::upstream {

// scheme, host and port of an "https://host[:port]" URL, plus its path.
struct Origin {
  bool tls = true;
  std::string host;
  unsigned short port = 443;
};
struct ParsedUrl {
  Origin origin;
  std::string target;  // path and query, "/" when empty
};
// Errors as values: nullopt-like failure carries a message.
std::variant<ParsedUrl, std::string> parse_url(std::string_view url);
// "host:port" ("[::1]:8443" for IPv6), for messages and logs.
std::string authority(const Origin& origin);
// The Host header the pool sends: the port only when not the scheme's
// default. Request signers (AK/SK) sign this exact value.
std::string host_header(const Origin& origin);
// A forward proxy to tunnel through with HTTP CONNECT, from
// "http://[user:password@]host[:port]" (percent-encoded user info becomes
// Basic proxy credentials). Errors never quote the URL.
struct ProxyUrl {
  Origin origin;              // the proxy itself; tls is false
  std::string authorization;  // "Basic …" or empty: a secret, never logged
};
std::variant<ProxyUrl, std::string> parse_proxy_url(std::string_view url);
// Percent-encodes everything but RFC 3986 unreserved characters, so the
// result is safe as one path segment.
std::string percent_encode(std::string_view segment);

struct HttpRequest {
  boost::beast::http::verb method = boost::beast::http::verb::get;
  std::string target;  // "/v1/…"
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

struct HttpResponse {
  unsigned status = 0;
  boost::beast::http::fields headers;
  std::string body;
};

enum class TransportErrorKind { timeout, reset, connect, tls, protocol };

struct TransportError {
  TransportErrorKind kind = TransportErrorKind::reset;
  std::string message;  // "connect 127.0.0.1:8443: connection refused"
};

using HttpResult = std::variant<HttpResponse, TransportError>;

struct PoolOptions {
  int max_connections = 16;
  std::chrono::milliseconds request_timeout{10'000};
  bool verify_tls = true;
  std::string ca_file;  // empty: system store
  // A proxy URL (see parse_proxy_url): every connection is a CONNECT tunnel
  // through it, TLS (and its checks) still end to end with the origin.
  // Empty: direct. request_timeout covers the proxy exchange too.
  std::string proxy;
  std::string user_agent;  // "jobwatch/<version>"
  // A larger response is a protocol error (and its connection is dropped).
  std::size_t max_response_body = 4 * 1024 * 1024;
};

// At most max_connections connections are open; requests beyond that wait
// in a FIFO. A request that finds its idle keep-alive connection closed by
// the peer is retried once on a fresh connection (that is not a failure).
class HttpPool {
 public:
  using Callback = std::function<void(HttpResult)>;
  HttpPool(boost::asio::any_io_executor executor, Origin origin, PoolOptions options);
  ~HttpPool();
  HttpPool(const HttpPool&) = delete;
  HttpPool& operator=(const HttpPool&) = delete;

  // Sets Host, User-Agent, Content-Length (and Connection: keep-alive) and
  // sends. `done` runs exactly once, on the executor, never inside send().
  // Exception: when the pool is destroyed first, outstanding callbacks are
  // destroyed without being called (their owner is usually going away too).
  void send(HttpRequest request, Callback done);

  std::size_t open_connections() const;
  std::size_t in_flight() const;
  std::size_t queued() const;
  // Closes idle connections and fails queued requests (shutdown). Requests
  // in flight finish; their connections close afterwards.
  void close();
  // Why the pool cannot send (e.g. an unreadable CA file); empty when fine.
  // Every send() fails with this message while it is set.
  const std::string& setup_error() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace jobwatch::upstream
