#include "http_server.hpp"

#include <boost/asio/socket_base.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <iostream>
#include <memory>
#include <optional>

namespace jobwatch::sim {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr std::chrono::seconds write_timeout{30};

SimTime wall_now() {
  return std::chrono::time_point_cast<Millis>(std::chrono::system_clock::now());
}

// Beast's HTTP parser errors, except a peer hanging up between or inside
// messages: those are worth a 400 before closing.
bool is_parse_error(const beast::error_code& ec) {
  const auto& http_category = beast::error_code(http::error::end_of_stream).category();
  return ec.category() == http_category && ec != http::error::end_of_stream &&
         ec != http::error::partial_message;
}

// Stream: beast::tcp_stream (HTTP) or beast::ssl_stream<beast::tcp_stream>
// (HTTPS, --tls-cert); everything past the handshake is the same.
template <class Stream>
class Session : public std::enable_shared_from_this<Session<Stream>> {
 public:
  using std::enable_shared_from_this<Session<Stream>>::shared_from_this;
  template <class... StreamArgs>
  Session(Simulator& sim, ServerOptions options, StreamArgs&&... stream_args)
      : stream_(std::forward<StreamArgs>(stream_args)...),
        timer_(stream_.get_executor()),
        sim_(sim),
        options_(options) {}

  void start() {
    if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
      read();
    } else {
      lowest().expires_after(options_.idle_timeout);
      stream_.async_handshake(
          asio::ssl::stream_base::server, [self = shared_from_this()](beast::error_code ec) {
            if (ec) {
              if (self->options_.verbose)
                std::cerr << "jobwatch-sim: TLS handshake failed: " << ec.message() << '\n';
              return self->close();
            }
            self->read();
          });
    }
  }

 private:
  void read() {
    parser_.emplace();
    parser_->body_limit(options_.body_limit);
    lowest().expires_after(options_.idle_timeout);
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (ec) {
      if (is_parse_error(ec)) {
        // A request we cannot parse: answer once, then hang up.
        const unsigned status = ec == http::error::body_limit ? 413 : 400;
        req_ = {};
        send(api_error(status, "WKS.0001", "malformed HTTP request"), false);
        return;
      }
      close();
      return;
    }
    req_ = parser_->release();
    const Outcome outcome = sim_.handle(view(), wall_now());
    switch (outcome.action) {
      case Outcome::Action::reply:
        send(outcome.reply, req_.keep_alive());
        return;
      case Outcome::Action::reset:
        log_request(0);
        reset();
        return;
      case Outcome::Action::delay:
        lowest().expires_never();
        timer_.expires_after(outcome.delay);
        timer_.async_wait([self = shared_from_this()](beast::error_code wait_ec) {
          if (wait_ec) return;
          self->send(self->sim_.answer_delayed(self->view(), wall_now()), self->req_.keep_alive());
        });
        return;
    }
  }

  Request view() const {
    Request r;
    r.method = req_.method_string();
    r.target = req_.target();
    r.body = req_.body();
    if (auto it = req_.find("X-Auth-Token"); it != req_.end()) r.auth_token = it->value();
    for (const auto& field : req_) r.headers.emplace_back(field.name_string(), field.value());
    return r;
  }

  void send(Reply reply, bool keep_alive) {
    log_request(reply.status);
    res_ = {};
    res_.version(req_.version() == 10 ? 10 : 11);
    res_.result(static_cast<http::status>(reply.status));
    res_.set(http::field::server, "jobwatch-sim");
    res_.set(http::field::content_type, "application/json;charset=UTF-8");
    if (reply.retry_after_s)
      res_.set(http::field::retry_after, std::to_string(*reply.retry_after_s));
    if (!reply.allow.empty()) res_.set(http::field::allow, reply.allow);
    if (!reply.date.empty()) res_.set(http::field::date, reply.date);
    if (!reply.subject_token.empty()) res_.set("X-Subject-Token", reply.subject_token);
    res_.keep_alive(keep_alive);
    res_.body() = std::move(reply.body);
    res_.prepare_payload();
    lowest().expires_after(write_timeout);
    http::async_write(stream_, res_,
                      [self = shared_from_this()](beast::error_code ec, std::size_t) {
                        if (ec || !self->res_.keep_alive()) {
                          self->close();
                          return;
                        }
                        self->read();
                      });
  }

  void log_request(unsigned status) const {
    if (!options_.verbose) return;
    if (req_.target().empty()) {
      std::cerr << "jobwatch-sim: (unparsable request) -> " << status << '\n';
      return;
    }
    std::cerr << "jobwatch-sim: " << req_.method_string() << ' ' << req_.target() << " -> "
              << (status ? std::to_string(status) : std::string("reset")) << '\n';
  }

  void close() {
    beast::error_code ec;
    lowest().socket().shutdown(tcp::socket::shutdown_send, ec);
    lowest().socket().close(ec);
  }

  // SO_LINGER 0 makes close() send a RST instead of a FIN, like a gateway
  // dropping the connection.
  void reset() {
    beast::error_code ec;
    lowest().socket().set_option(asio::socket_base::linger(true, 0), ec);
    lowest().socket().close(ec);
  }

  beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }

  Stream stream_;
  asio::steady_timer timer_;
  Simulator& sim_;
  const ServerOptions options_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::request<http::string_body> req_;
  http::response<http::string_body> res_;
};

}  // namespace

HttpServer::HttpServer(asio::io_context& ioc, Simulator& sim, ServerOptions options)
    : ioc_(ioc), sim_(sim), options_(options), acceptor_(ioc), retry_timer_(ioc) {}

boost::system::error_code HttpServer::listen(const tcp::endpoint& endpoint) {
  boost::system::error_code ec;
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
  }
  return ec;
}

unsigned short HttpServer::port() const {
  boost::system::error_code ec;
  return acceptor_.local_endpoint(ec).port();
}

void HttpServer::start() {
  accept();
}

void HttpServer::stop() {
  boost::system::error_code ec;
  acceptor_.close(ec);
  retry_timer_.cancel();
}

void HttpServer::accept() {
  acceptor_.async_accept(ioc_, [this](boost::system::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
    if (ec) {
      // Out of descriptors and the like: try again shortly instead of spinning.
      std::cerr << "jobwatch-sim: accept failed: " << ec.message() << '\n';
      retry_timer_.expires_after(std::chrono::milliseconds(100));
      retry_timer_.async_wait([this](boost::system::error_code wait_ec) {
        if (!wait_ec) accept();
      });
      return;
    }
    boost::system::error_code opt_ec;
    socket.set_option(tcp::no_delay(true), opt_ec);
    if (options_.tls) {
      using TlsStream = beast::ssl_stream<beast::tcp_stream>;
      std::make_shared<Session<TlsStream>>(sim_, options_, std::move(socket), *options_.tls)
          ->start();
    } else {
      std::make_shared<Session<beast::tcp_stream>>(sim_, options_, std::move(socket))->start();
    }
    accept();
  });
}

}  // namespace jobwatch::sim
