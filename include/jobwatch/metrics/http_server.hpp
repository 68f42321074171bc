// The /metrics endpoint: a small HTTP/1.1 server (Boost.Beast, keep-alive,
// one event-loop thread) that answers GET and HEAD /metrics with the text a
// render function returns. It only moves bytes; the text is built elsewhere.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace jobwatch::metrics {

struct MetricsServerLimits {
  // A request (or the wait for the next one on a kept-alive connection) must
  // arrive within this, so that a slow client cannot pin a connection.
  std::chrono::milliseconds read_timeout{10'000};
  std::chrono::milliseconds write_timeout{10'000};
  std::size_t max_connections = 32;     // further connections are closed at once
  std::size_t header_limit = 8 * 1024;  // larger request headers: 431, then close
  std::size_t body_limit = 1024;        // larger request bodies: 413, then close
};

// GET /metrics (any query string) -> 200, Content-Type
// "text/plain; version=0.0.4; charset=utf-8", body = render(), called once
// per request; HEAD the same without the body. Other paths -> 404; other
// methods on /metrics -> 405 with "Allow: GET, HEAD". Unparsable requests
// get 400 and the connection is closed.
class MetricsServer {
 public:
  using RenderFn = std::function<std::string()>;

  MetricsServer(boost::asio::any_io_executor executor, RenderFn render,
                MetricsServerLimits limits = {});
  // Stops. Destroy before the io_context; whether it still runs does not matter.
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // Binds "127.0.0.1:9464", "[::1]:9464" or "localhost:9464" (127.0.0.1;
  // other host names are not resolved) and starts accepting. Port 0 picks a
  // free port: see port(). Returns an error message naming the address when
  // it is malformed or cannot be bound.
  std::optional<std::string> listen(const std::string& host_port);
  // The bound port; 0 when not listening.
  std::uint16_t port() const;
  // Closes the listening socket and every open connection; render is not
  // called again. listen() may be called again afterwards.
  void stop();

  std::size_t connection_count() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace jobwatch::metrics
