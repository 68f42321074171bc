// One pooled HTTP/1.1 connection: resolve, connect, TLS handshake, then
// request after request. The whole exchange of one request runs under one
// deadline (api.request_timeout) set on the tcp_stream.
#include <openssl/crypto.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <cerrno>

#include "jobwatch/upstream/request_text.hpp"
#include "pool_state.hpp"
#include "proxy.hpp"

namespace jobwatch::upstream::detail {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using boost::system::error_code;
using tcp = asio::ip::tcp;

namespace {

// A flat_buffer that once held a large answer keeps its capacity; with many
// connections that adds up, so give it back past this size.
constexpr std::size_t buffer_keep = std::size_t{64} * 1024;

bool is_http_error(const error_code& ec) {
  return ec.category() == http::make_error_code(http::error::end_of_stream).category();
}

bool is_ssl_error(const error_code& ec) {
  return ec.category() == asio::error::get_ssl_category() ||
         ec.category() == asio::ssl::error::get_stream_category();
}

// How a peer that closed an idle keep-alive connection shows up on the next
// request written to it.
bool is_peer_close(const error_code& ec) {
  return ec == http::error::end_of_stream || ec == asio::error::eof ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
         ec == asio::error::connection_aborted || ec == asio::ssl::error::stream_truncated;
}

const char* phase_words(int phase, bool proxied) {
  static constexpr const char* words[] = {"resolving the host",  "connecting",
                                          "opening the tunnel",  "in the TLS handshake",
                                          "sending the request", "waiting for the response"};
  static constexpr const char* proxy_words[] = {"resolving the proxy host",
                                                "connecting to the proxy"};
  return proxied && phase < 2 ? proxy_words[phase] : words[phase];
}

}  // namespace

Connection::Connection(std::shared_ptr<PoolState> pool)
    : pool_(std::move(pool)), resolver_(pool_->executor), resolve_timer_(pool_->executor) {}

beast::tcp_stream& Connection::lowest() {
  return tls_ ? beast::get_lowest_layer(*tls_) : *tcp_;
}

void Connection::start(PendingRequest pending) {
  done_ = std::move(pending.done);
  HttpRequest& in = pending.request;

  render_request(request_text_, in, pool_->host_header, pool_->options.user_agent);
  head_request_ = in.method == http::verb::head;

  deadline_ = std::chrono::steady_clock::now() + pool_->options.request_timeout;
  retried_ = false;
  reused_ = stage_ == Stage::open;
  if (stage_ == Stage::open) {
    write();
  } else {
    connect();
  }
}

bool Connection::quiet(std::chrono::steady_clock::time_point now) {
  if (now - idle_since_ < recently) return true;
  auto& stream = lowest();
  char byte = 0;
  // A peek does not disturb the TLS layer: 0 is the peer's FIN, data is
  // something unasked (a 408, a close_notify); either way not reusable.
  auto n = ::recv(stream.socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

void Connection::enter(Stage next) {
  if (stage_ != Stage::abandoned) stage_ = next;
}

void Connection::close() {
  enter(Stage::unconnected);
  if (tcp_ || tls_) lowest().close();
}

void Connection::abandon() {
  enter(Stage::abandoned);
  done_ = nullptr;
  resolver_.cancel();
  resolve_timer_.cancel();
  close();
}

void Connection::connect() {
  // A fresh stream per connection: an SSL object cannot be reused after its
  // session ended. No operation is pending on the old one here.
  if (pool_->origin.tls) {
    tcp_.reset();
    tls_.emplace(pool_->executor, *pool_->tls_context);
  } else {
    tls_.reset();
    tcp_.emplace(pool_->executor);
  }
  enter(Stage::connecting);
  host_mismatch_ = false;
  buffer_.clear();
  lowest().expires_at(deadline_);

  // With a proxy the TCP connection goes to it; the origin is reached
  // through the tunnel.
  const Origin& dial = pool_->proxy ? pool_->proxy->origin : pool_->origin;
  if (pool_->proxy ? pool_->proxy_is_address : pool_->host_is_address) {
    error_code ec;
    auto address = asio::ip::make_address(dial.host, ec);
    lowest().async_connect(tcp::endpoint(address, dial.port),
                           [self = shared_from_this()](error_code ec) { self->on_connected(ec); });
    return;
  }
  // The resolver is outside the tcp_stream, so its share of the deadline
  // needs a timer of its own.
  enter(Stage::resolving);
  resolve_timed_out_ = false;
  resolve_timer_.expires_at(deadline_);
  resolve_timer_.async_wait([self = shared_from_this()](error_code ec) {
    if (!ec && self->stage_ == Stage::resolving) {
      self->resolve_timed_out_ = true;
      self->resolver_.cancel();
    }
  });
  resolver_.async_resolve(
      dial.host, std::to_string(dial.port), tcp::resolver::numeric_service,
      [self = shared_from_this()](error_code ec, const tcp::resolver::results_type& results) {
        self->on_resolved(ec, results);
      });
}

void Connection::on_resolved(const error_code& ec, const tcp::resolver::results_type& results) {
  if (stage_ == Stage::abandoned) return;
  enter(Stage::connecting);
  resolve_timer_.cancel();
  if (resolve_timed_out_) return fail(beast::error::timeout, Phase::resolve);
  if (ec) return fail(ec, Phase::resolve);
  lowest().async_connect(results, [self = shared_from_this()](error_code ec, const tcp::endpoint&) {
    self->on_connected(ec);
  });
}

void Connection::on_connected(const error_code& ec) {
  if (stage_ == Stage::abandoned) return;
  if (ec) return fail(ec, Phase::connect);
  error_code ignored;
  lowest().socket().set_option(tcp::no_delay(true), ignored);
  if (pool_->proxy) return open_tunnel();
  on_tunnel_ready();
}

void Connection::open_tunnel() {
  tunnel_request_ = connect_request(pool_->origin, pool_->proxy->authorization);
  asio::async_write(
      lowest(), asio::buffer(tunnel_request_),
      [self = shared_from_this()](error_code ec, std::size_t) { self->on_tunnel_written(ec); });
}

void Connection::on_tunnel_written(const error_code& ec) {
  OPENSSL_cleanse(tunnel_request_.data(), tunnel_request_.size());
  tunnel_request_.clear();
  if (stage_ == Stage::abandoned) return;
  if (ec) return fail(ec, Phase::tunnel);
  tunnel_parser_.emplace();
  // A 2xx to CONNECT has no body whatever its headers say (RFC 9110 §9.3.6);
  // any other answer ends the connection, so its body is never read.
  tunnel_parser_->skip(true);
  http::async_read_header(
      lowest(), buffer_, *tunnel_parser_,
      [self = shared_from_this()](error_code ec, std::size_t) { self->on_tunnel_answer(ec); });
}

void Connection::on_tunnel_answer(const error_code& ec) {
  if (stage_ == Stage::abandoned) return;
  if (ec) return fail(ec, Phase::tunnel);
  const auto& answer = tunnel_parser_->get();
  auto refusal =
      connect_refusal(answer.result_int(), answer.reason(), !pool_->proxy->authorization.empty(),
                      pool_->proxy_authority, pool_->authority);
  tunnel_parser_.reset();
  if (refusal)
    return finish(TransportError{TransportErrorKind::connect, std::move(*refusal)}, false);
  // The origin speaks only when spoken to; bytes already here would be lost
  // under TLS and mean a confused proxy either way.
  if (buffer_.size() != 0) {
    return finish(
        TransportError{TransportErrorKind::protocol, "proxy " + pool_->proxy_authority +
                                                         " sent data before the tunnel to " +
                                                         pool_->authority + " was used"},
        false);
  }
  on_tunnel_ready();
}

void Connection::on_tunnel_ready() {
  if (!tls_) {
    enter(Stage::open);
    return write();
  }
  SSL* ssl = tls_->native_handle();
  // SNI carries names only (RFC 6066 §3), never an IP literal.
  if (!pool_->host_is_address) SSL_set_tlsext_host_name(ssl, pool_->origin.host.c_str());
  if (pool_->options.verify_tls) {
    tls_->set_verify_callback([this, check = asio::ssl::host_name_verification(pool_->origin.host)](
                                  bool preverified, asio::ssl::verify_context& ctx) {
      bool ok = check(preverified, ctx);
      // Remember why, so the error says "wrong host" and not just
      // "verify failed". The stream (and this callback) live in *this.
      if (preverified && !ok) host_mismatch_ = true;
      return ok;
    });
  }
  tls_->async_handshake(asio::ssl::stream_base::client,
                        [self = shared_from_this()](error_code ec) { self->on_handshake(ec); });
}

void Connection::on_handshake(const error_code& ec) {
  if (stage_ == Stage::abandoned) return;
  if (ec) return fail(ec, Phase::handshake);
  enter(Stage::open);
  write();
}

void Connection::write() {
  parser_.emplace();
  parser_->body_limit(pool_->options.max_response_body);
  parser_->skip(head_request_);
  lowest().expires_at(deadline_);
  with_stream([this](auto& stream) {
    asio::async_write(
        stream, asio::buffer(request_text_),
        [self = shared_from_this()](error_code ec, std::size_t) { self->on_written(ec); });
  });
}

void Connection::on_written(const error_code& ec) {
  if (stage_ == Stage::abandoned) return;
  if (ec) {
    if (may_retry(ec)) return retry_on_fresh_connection();
    return fail(ec, Phase::write);
  }
  with_stream([this](auto& stream) {
    http::async_read(
        stream, buffer_, *parser_,
        [self = shared_from_this()](error_code ec, std::size_t) { self->on_read(ec); });
  });
}

void Connection::on_read(const error_code& ec) {
  if (stage_ == Stage::abandoned) return;
  if (ec) {
    if (may_retry(ec)) return retry_on_fresh_connection();
    return fail(ec, Phase::read);
  }
  // The parser knows when the body ran to EOF; bytes beyond the answer mean
  // the peer is out of step with us. Neither connection can carry another.
  bool reusable = parser_->keep_alive() && buffer_.size() == 0;
  auto message = parser_->release();
  parser_.reset();
  HttpResponse response;
  response.status = message.result_int();
  response.body = std::move(message.body());
  response.headers = std::move(static_cast<http::fields&>(message));
  if (buffer_.capacity() > buffer_keep) buffer_.shrink_to_fit();
  finish(std::move(response), reusable);
}

bool Connection::may_retry(const error_code& ec) const {
  // Only when the peer cannot have acted on the request: nothing of an
  // answer arrived, and the connection had served before (so the peer's
  // keep-alive timeout is the likely cause, not this request).
  return reused_ && !retried_ && is_peer_close(ec) && (!parser_ || !parser_->got_some()) &&
         buffer_.size() == 0;
}

void Connection::retry_on_fresh_connection() {
  spdlog::debug("upstream {}: keep-alive connection closed by the peer; retrying on a new one",
                pool_->authority);
  close();
  retried_ = true;
  reused_ = false;
  parser_.reset();
  connect();
}

TransportError Connection::describe_failure(const error_code& ec, Phase phase) {
  const std::string& where = pool_->authority;
  const bool proxied = pool_->proxy.has_value();
  const std::string via = proxied ? " via proxy " + pool_->proxy_authority : std::string();
  if (ec == beast::error::timeout) {
    return {TransportErrorKind::timeout,
            where + ": no answer within " + format_duration(pool_->options.request_timeout) + " (" +
                phase_words(static_cast<int>(phase), proxied) + via + ")"};
  }
  switch (phase) {
    case Phase::resolve:
      if (proxied) {
        return {TransportErrorKind::connect,
                "cannot resolve proxy host " + pool_->proxy->origin.host + ": " + ec.message()};
      }
      return {TransportErrorKind::connect,
              "cannot resolve " + pool_->origin.host + ": " + ec.message()};
    case Phase::connect:
      if (proxied) {
        return {TransportErrorKind::connect, "connect to proxy " + pool_->proxy_authority +
                                                 " (for " + where + "): " + ec.message()};
      }
      return {TransportErrorKind::connect, "connect " + where + ": " + ec.message()};
    case Phase::tunnel:
      return {TransportErrorKind::reset, "proxy " + pool_->proxy_authority +
                                             " failed while opening the tunnel to " + where + ": " +
                                             ec.message()};
    case Phase::handshake: {
      std::string detail;
      if (host_mismatch_) {
        detail = "the certificate is not valid for '" + pool_->origin.host + "'";
      } else if (long verify = SSL_get_verify_result(tls_->native_handle()); verify != X509_V_OK) {
        detail = std::string("certificate verify failed: ") + X509_verify_cert_error_string(verify);
      } else {
        detail = ec.message();
      }
      TransportErrorKind kind =
          is_ssl_error(ec) || host_mismatch_ ? TransportErrorKind::tls : TransportErrorKind::reset;
      return {kind, "TLS handshake with " + where + via + ": " + detail};
    }
    case Phase::write:
    case Phase::read:
      break;
  }
  if (ec == http::error::body_limit) {
    return {TransportErrorKind::protocol, "response from " + where + " is larger than " +
                                              std::to_string(pool_->options.max_response_body) +
                                              " bytes"};
  }
  if (is_http_error(ec) && !is_peer_close(ec) && ec != http::error::partial_message) {
    return {TransportErrorKind::protocol, "bad HTTP response from " + where + ": " + ec.message()};
  }
  if (is_ssl_error(ec) && !is_peer_close(ec)) {
    return {TransportErrorKind::tls, "TLS error with " + where + ": " + ec.message()};
  }
  const char* verb = phase == Phase::write ? "sending to " : "reading from ";
  return {TransportErrorKind::reset, verb + where + ": " + ec.message()};
}

void Connection::fail(const error_code& ec, Phase phase) {
  finish(describe_failure(ec, phase), false);
}

void Connection::finish(HttpResult result, bool reusable) {
  auto done = std::move(done_);
  done_ = nullptr;
  if (reusable) {
    lowest().expires_never();
  } else {
    close();
  }
  // Keep *this alive past release(): the pool may forget it.
  auto self = shared_from_this();
  pool_->release(*this, reusable);
  // Called, not posted: this already runs in a completion handler on the
  // executor, and the pool's state is settled before user code runs.
  if (done) done(std::move(result));
}

}  // namespace jobwatch::upstream::detail
