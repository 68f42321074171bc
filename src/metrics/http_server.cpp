#include "jobwatch/metrics/http_server.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <cctype>
#include <charconv>
#include <functional>
#include <optional>
#include <stdexcept>
#include <unordered_map>
#include <utility>
#include <variant>

namespace jobwatch::metrics {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr std::string_view exposition_content_type = "text/plain; version=0.0.4; charset=utf-8";
// After an error reply, what the client still sends is read and dropped for
// this long (at most linger_bytes): closing with unread input would send a
// RST that can destroy the reply before the client reads it.
constexpr std::chrono::milliseconds linger_time{2000};
constexpr std::size_t linger_bytes = 64 * 1024;

std::string lowercase(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// "host:port" or "[v6]:port"; the host an IP literal or "localhost".
std::variant<tcp::endpoint, std::string> parse_endpoint(const std::string& host_port) {
  const std::string bad = "invalid metrics address '" + host_port + "': ";
  std::string_view text = host_port;
  std::string_view host, port_text;
  bool bracketed = false;
  if (text.starts_with('[')) {
    const auto close = text.find(']');
    if (close == std::string_view::npos || text.substr(close + 1, 1) != ":") {
      return bad + "expected [address]:port";
    }
    host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
    bracketed = true;
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return bad + "expected host:port, like 127.0.0.1:9464";
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      return bad + "an IPv6 address needs brackets, like [::1]:9464";
    }
  }
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || port_text.size() > 5 || ec != std::errc{} ||
      end != port_text.data() + port_text.size() || port > 65535) {
    return bad + "the port must be a number 0-65535";
  }
  asio::ip::address address;
  if (!bracketed && lowercase(host) == "localhost") {
    // RFC 6761: localhost is loopback; no resolver, no surprise ::1-only bind.
    address = asio::ip::address_v4::loopback();
  } else {
    boost::system::error_code parse_ec;
    address = asio::ip::make_address(std::string(host), parse_ec);
    if (parse_ec || address.is_v6() != bracketed) {
      return bad + "the host must be an IPv4 address, [IPv6 address] or localhost";
    }
  }
  return tcp::endpoint(address, static_cast<unsigned short>(port));
}

// Beast's parse errors, as opposed to the peer going away or timing out.
bool is_parse_error(const beast::error_code& ec) {
  return ec.category() == beast::error_code(http::error::end_of_stream).category() &&
         ec != http::error::end_of_stream && ec != http::error::partial_message;
}

// One connection: reads a request, answers it, and again while kept alive.
class Session : public std::enable_shared_from_this<Session> {
 public:
  // render: the body, or nullopt once the server has stopped.
  using RenderFn = std::function<std::optional<std::string>()>;
  using ClosedFn = std::function<void(Session*)>;

  Session(tcp::socket socket, const MetricsServerLimits& limits, RenderFn render,
          ClosedFn on_closed)
      : stream_(std::move(socket)),
        limits_(limits),
        render_(std::move(render)),
        on_closed_(std::move(on_closed)) {}

  void start() { read(); }

  // Idempotent; afterwards pending handlers only see closed_.
  void close() {
    if (closed_) return;
    closed_ = true;
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
    if (on_closed_) std::exchange(on_closed_, nullptr)(this);
  }

 private:
  void read() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(limits_.header_limit));
    parser_->body_limit(limits_.body_limit);
    stream_.expires_after(limits_.read_timeout);
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (closed_) return;
    if (!ec) return respond(parser_->get());
    if (ec == http::error::header_limit) {
      return reject(http::status::request_header_fields_too_large, "request header too large\n");
    }
    if (ec == http::error::body_limit) {
      return reject(http::status::payload_too_large, "request body too large\n");
    }
    if (is_parse_error(ec)) return reject(http::status::bad_request, "malformed request\n");
    // The client hung up, or sent nothing in time (beast::error::timeout).
    close();
  }

  void respond(const http::request<http::string_body>& req) {
    const auto target = req.target();
    const auto path = target.substr(0, target.find('?'));
    const bool head = req.method() == http::verb::head;
    res_ = {};
    res_.version(req.version() == 10 ? 10 : 11);
    res_.keep_alive(req.keep_alive());
    if (path != "/metrics") {
      plain(http::status::not_found, "not found; metrics are at /metrics\n");
    } else if (!head && req.method() != http::verb::get) {
      plain(http::status::method_not_allowed, "method not allowed\n");
      res_.set(http::field::allow, "GET, HEAD");
    } else if (auto body = render()) {
      res_.result(http::status::ok);
      res_.set(http::field::content_type, exposition_content_type);
      res_.body() = std::move(*body);
    } else if (closed_) {
      return;  // the server stopped
    } else {
      plain(http::status::internal_server_error, "cannot render the metrics\n");
    }
    spdlog::debug("metrics: {} {} -> {}", std::string_view(req.method_string()),
                  std::string_view(target), res_.result_int());
    if (head) {
      // HEAD: the length GET would have, without the body.
      const auto length = res_.body().size();
      res_.body().clear();
      res_.content_length(length);
    } else {
      res_.prepare_payload();
    }
    write(false);
  }

  // The text; nullopt with the connection closed once the server has
  // stopped, or without when rendering threw (a bug, but not worth the daemon).
  std::optional<std::string> render() {
    try {
      auto body = render_();
      if (!body) close();
      return body;
    } catch (const std::exception& e) {
      spdlog::error("metrics: rendering failed: {}", e.what());
      return std::nullopt;
    }
  }

  void plain(http::status status, std::string body) {
    res_.result(status);
    res_.set(http::field::content_type, "text/plain; charset=utf-8");
    res_.body() = std::move(body);
  }

  // An answer to a request we will not read to its end; then hang up.
  void reject(http::status status, std::string body) {
    spdlog::debug("metrics: rejecting a request: {}", body.substr(0, body.size() - 1));
    res_ = {};
    res_.version(11);
    res_.keep_alive(false);
    plain(status, std::move(body));
    res_.prepare_payload();
    write(true);
  }

  void write(bool linger) {
    stream_.expires_after(limits_.write_timeout);
    http::async_write(stream_, res_,
                      [self = shared_from_this(), linger](beast::error_code ec, std::size_t) {
                        if (self->closed_) return;
                        if (ec) return self->close();
                        if (linger) return self->linger();
                        if (!self->res_.keep_alive()) return self->close();
                        self->read();
                      });
  }

  void linger() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.expires_after(std::min(limits_.read_timeout, linger_time));
    drain();
  }

  void drain() {
    stream_.async_read_some(asio::buffer(discard_),
                            [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                              if (self->closed_) return;
                              self->drained_ += n;
                              if (ec || self->drained_ > linger_bytes) return self->close();
                              self->drain();
                            });
  }

  beast::tcp_stream stream_;
  MetricsServerLimits limits_;
  RenderFn render_;
  ClosedFn on_closed_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> res_;
  std::array<char, 4096> discard_{};
  std::size_t drained_ = 0;
  bool closed_ = false;
};

}  // namespace

struct MetricsServer::Impl : std::enable_shared_from_this<MetricsServer::Impl> {
  Impl(asio::any_io_executor executor, RenderFn render, MetricsServerLimits limits)
      : render(std::move(render)), limits(limits), acceptor(executor), retry_timer(executor) {}

  void accept() {
    acceptor.async_accept([self = shared_from_this(), generation = generation](
                              boost::system::error_code ec, tcp::socket socket) {
      self->on_accept(ec, std::move(socket), generation);
    });
  }

  void on_accept(boost::system::error_code ec, tcp::socket socket, std::uint64_t from) {
    // `from` differs when stop() and listen() came between accept and here.
    if (stopped || from != generation || ec == asio::error::operation_aborted) return;
    if (ec) {
      // Out of file descriptors and the like: retry later instead of spinning.
      spdlog::warn("metrics: accept failed: {}", ec.message());
      retry_timer.expires_after(std::chrono::milliseconds(100));
      retry_timer.async_wait([self = shared_from_this(), from](boost::system::error_code wait_ec) {
        if (!wait_ec && !self->stopped && from == self->generation) self->accept();
      });
      return;
    }
    if (sessions.size() >= limits.max_connections) {
      // Once per episode: a flood of connections must not flood the log.
      if (!limit_logged)
        spdlog::warn("metrics: {} connections open; refusing more", sessions.size());
      limit_logged = true;
      boost::system::error_code ignored;
      socket.close(ignored);
    } else {
      boost::system::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      std::weak_ptr<Impl> weak = weak_from_this();
      auto session = std::make_shared<Session>(
          std::move(socket), limits,
          [weak]() -> std::optional<std::string> {
            auto self = weak.lock();
            if (!self || self->stopped || !self->render) return std::nullopt;
            return self->render();
          },
          [weak](Session* closed) {
            if (auto self = weak.lock()) {
              self->sessions.erase(closed);
              self->limit_logged = false;
            }
          });
      sessions.emplace(session.get(), session);
      session->start();
    }
    accept();
  }

  std::optional<std::string> listen(const std::string& host_port) {
    if (acceptor.is_open()) return "the metrics server is already listening";
    auto parsed = parse_endpoint(host_port);
    if (auto* error = std::get_if<std::string>(&parsed)) return *error;
    const auto endpoint = std::get<tcp::endpoint>(parsed);
    boost::system::error_code ec;
    acceptor.open(endpoint.protocol(), ec);
    // A restarted daemon must not wait out TIME_WAIT of the old connections.
    if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor.bind(endpoint, ec);
    if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      boost::system::error_code ignored;
      acceptor.close(ignored);
      return "cannot listen for metrics on " + host_port + ": " + ec.message();
    }
    stopped = false;
    ++generation;
    accept();
    return std::nullopt;
  }

  void stop() {
    stopped = true;
    boost::system::error_code ignored;
    acceptor.close(ignored);
    retry_timer.cancel();
    auto open = std::move(sessions);
    sessions.clear();
    for (auto& [ptr, weak] : open) {
      if (auto session = weak.lock()) session->close();
    }
    limit_logged = false;
  }

  RenderFn render;
  MetricsServerLimits limits;
  tcp::acceptor acceptor;
  asio::steady_timer retry_timer;
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions;
  std::uint64_t generation = 0;
  bool stopped = true;
  bool limit_logged = false;
};

MetricsServer::MetricsServer(asio::any_io_executor executor, RenderFn render,
                             MetricsServerLimits limits)
    : impl_(std::make_shared<Impl>(std::move(executor), std::move(render), limits)) {}

MetricsServer::~MetricsServer() {
  impl_->stop();
  // Handlers still queued may keep Impl alive a little; what render captured
  // must not be touched (or kept alive) by them.
  impl_->render = nullptr;
}

std::optional<std::string> MetricsServer::listen(const std::string& host_port) {
  return impl_->listen(host_port);
}

std::uint16_t MetricsServer::port() const {
  boost::system::error_code ec;
  if (!impl_->acceptor.is_open()) return 0;
  const auto endpoint = impl_->acceptor.local_endpoint(ec);
  return ec ? 0 : endpoint.port();
}

void MetricsServer::stop() {
  impl_->stop();
}

std::size_t MetricsServer::connection_count() const {
  return impl_->sessions.size();
}

}  // namespace jobwatch::metrics
