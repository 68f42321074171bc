// Internals of HttpPool shared by the pool (queue, idle stack) and its
// connections (one request at a time each). Private to src/upstream.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "jobwatch/upstream/http_pool.hpp"

namespace jobwatch::upstream::detail {

struct PendingRequest {
  HttpRequest request;
  HttpPool::Callback done;
};

// The client TLS context for PoolOptions, or why it cannot be had.
std::variant<boost::asio::ssl::context, std::string> make_tls_context(const PoolOptions& options);

// "10s" / "250ms", for timeout messages.
std::string format_duration(std::chrono::milliseconds d);

class Connection;

struct PoolState : std::enable_shared_from_this<PoolState> {
  PoolState(boost::asio::any_io_executor executor, Origin origin, PoolOptions options);

  // Hands queued requests to idle connections (newest first), or to new
  // ones while fewer than max_connections are open.
  void pump();
  // `connection` finished a request: back on the idle stack, or closed.
  void release(Connection& connection, bool reusable);
  void forget(Connection& connection);

  boost::asio::any_io_executor executor;
  Origin origin;
  PoolOptions options;
  std::string authority;    // "host:port", for messages
  std::string host_header;  // the port only when not the scheme's default
  bool host_is_address = false;
  // With a proxy, connections dial it and tunnel to `origin` through it.
  std::optional<ProxyUrl> proxy;
  std::string proxy_authority;  // "host:port" of the proxy, for messages
  bool proxy_is_address = false;
  std::optional<boost::asio::ssl::context> tls_context;
  std::string setup_error;

  std::vector<std::shared_ptr<Connection>> connections;  // open or opening
  std::vector<Connection*> idle;                         // a stack: LIFO
  std::deque<PendingRequest> queue;                      // FIFO
  std::size_t busy = 0;
  bool closed = false;
};

// One keep-alive connection. It resolves and connects lazily for its first
// request, then serves one request after another; its handlers hold it (and
// through it the pool state) alive, so destroying the pool is always safe.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  explicit Connection(std::shared_ptr<PoolState> pool);

  void start(PendingRequest pending);
  // For an idle connection: false when the peer closed it or sent something
  // unasked while it sat idle, so it must not carry a request. One idle for
  // less than `recently` is taken as quiet without asking the kernel (a
  // syscall per poll, a third of them): a peer's keep-alive timeout is
  // seconds, and a peer that closed anyway costs the one transparent retry
  // on a fresh connection.
  bool quiet(std::chrono::steady_clock::time_point now);
  void went_idle(std::chrono::steady_clock::time_point now) { idle_since_ = now; }
  static constexpr std::chrono::milliseconds recently{10};
  // Closes the socket; pending operations complete with errors.
  void close();
  // The pool is gone: drop the callback uncalled and stop everything.
  void abandon();

 private:
  // The step a request failed in, for the error's words.
  enum class Phase { resolve, connect, tunnel, handshake, write, read };
  // Where the connection is in its life. Only `open` carries requests;
  // `abandoned` is final (the pool is gone) and every handler returns.
  enum class Stage : std::uint8_t {
    unconnected,  // no socket yet, or closed
    resolving,    // the name lookup is out (its timer may cut it short)
    connecting,   // TCP, then the proxy tunnel and the TLS handshake
    open,         // TCP (and TLS) up: a request can be written
    abandoned,
  };
  // The one place the stage changes; `abandoned` is never left.
  void enter(Stage next);
  using TlsStream = boost::beast::ssl_stream<boost::beast::tcp_stream>;

  boost::beast::tcp_stream& lowest();
  template <class Fn>
  void with_stream(Fn&& fn) {
    if (tls_) {
      fn(*tls_);
    } else {
      fn(*tcp_);
    }
  }

  void connect();
  void on_resolved(const boost::system::error_code& ec,
                   const boost::asio::ip::tcp::resolver::results_type& results);
  void on_connected(const boost::system::error_code& ec);
  void open_tunnel();
  void on_tunnel_written(const boost::system::error_code& ec);
  void on_tunnel_answer(const boost::system::error_code& ec);
  void on_tunnel_ready();
  void on_handshake(const boost::system::error_code& ec);
  void write();
  void on_written(const boost::system::error_code& ec);
  void on_read(const boost::system::error_code& ec);

  bool may_retry(const boost::system::error_code& ec) const;
  void retry_on_fresh_connection();
  void fail(const boost::system::error_code& ec, Phase phase);
  TransportError describe_failure(const boost::system::error_code& ec, Phase phase);
  void finish(HttpResult result, bool reusable);

  std::shared_ptr<PoolState> pool_;
  boost::asio::ip::tcp::resolver resolver_;
  boost::asio::steady_timer resolve_timer_;
  std::optional<boost::beast::tcp_stream> tcp_;
  std::optional<TlsStream> tls_;
  boost::beast::flat_buffer buffer_;
  // The request in hand as written (render_request); its capacity is kept
  // for the next one.
  std::string request_text_;
  std::chrono::steady_clock::time_point idle_since_{};
  bool head_request_ = false;  // the answer has no body to read
  std::optional<boost::beast::http::response_parser<boost::beast::http::string_body>> parser_;
  // The CONNECT exchange; the request may hold proxy credentials, so it is
  // wiped once written.
  std::string tunnel_request_;
  std::optional<boost::beast::http::response_parser<boost::beast::http::empty_body>> tunnel_parser_;
  HttpPool::Callback done_;
  std::chrono::steady_clock::time_point deadline_;
  Stage stage_ = Stage::unconnected;
  // Facts about the request in hand, not stages.
  bool reused_ = false;             // it runs on a connection that served one before
  bool retried_ = false;            // already moved to a fresh connection once
  bool resolve_timed_out_ = false;  // the resolver was cancelled by its timer
  bool host_mismatch_ = false;      // the certificate named another host
};

}  // namespace jobwatch::upstream::detail
