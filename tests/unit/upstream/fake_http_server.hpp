// An in-process HTTP/1.1 peer for client tests, after userver's
// HttpServerMock: a handler sees each request and returns what to do
// (answer, answer late, close, reset, send raw bytes, hang). It runs on the
// test's io_context, on 127.0.0.1 and an ephemeral port, plain or TLS.
#pragma once

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace jobwatch::testing {

namespace fake_http {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
}  // namespace fake_http

struct FakeRequest {
  boost::beast::http::request<boost::beast::http::string_body> message;
  std::size_t connection = 0;  // 1-based, in accept order
  std::size_t sequence = 0;    // 1-based, per connection
};

struct Action {
  enum class Kind {
    respond,  // write `response`
    close,    // close the connection (FIN) without answering
    reset,    // abort the connection (RST) without answering
    raw,      // write `raw` as it is, then close (or reset)
    hang,     // answer nothing; wait until the client gives up
  };
  Kind kind = Kind::respond;
  boost::beast::http::response<boost::beast::http::string_body> response;
  std::string raw;
  bool close_after = false;            // respond: then close although keep-alive was agreed
  bool reset_after = false;            // raw: RST instead of FIN afterwards
  std::chrono::milliseconds delay{0};  // wait this long before acting

  Action& after(std::chrono::milliseconds d) {
    delay = d;
    return *this;
  }
};

inline Action respond(unsigned status, std::string body = {},
                      std::vector<std::pair<std::string, std::string>> headers = {}) {
  Action action;
  action.response.result(status);
  action.response.version(11);
  for (auto& [name, value] : headers) action.response.set(name, value);
  action.response.body() = std::move(body);
  return action;
}

inline Action respond_json(unsigned status, std::string body,
                           std::vector<std::pair<std::string, std::string>> headers = {}) {
  headers.emplace_back("Content-Type", "application/json");
  return respond(status, std::move(body), std::move(headers));
}

inline Action close_connection() {
  Action action;
  action.kind = Action::Kind::close;
  return action;
}

inline Action reset_connection() {
  Action action;
  action.kind = Action::Kind::reset;
  return action;
}

inline Action send_raw(std::string bytes, bool then_reset = false) {
  Action action;
  action.kind = Action::Kind::raw;
  action.raw = std::move(bytes);
  action.reset_after = then_reset;
  return action;
}

inline Action hang() {
  Action action;
  action.kind = Action::Kind::hang;
  return action;
}

class FakeHttpServer {
 public:
  using Handler = std::function<Action(const FakeRequest&)>;

  // `tls`: a server context with certificate and key (kept alive by the
  // caller), or nullptr for plain HTTP.
  FakeHttpServer(boost::asio::io_context& io, Handler handler,
                 boost::asio::ssl::context* tls = nullptr)
      : state_(std::make_shared<State>(io, std::move(handler), tls)) {
    using tcp = boost::asio::ip::tcp;
    tcp::endpoint endpoint(boost::asio::ip::make_address("127.0.0.1"), 0);
    state_->acceptor.open(endpoint.protocol());
    state_->acceptor.set_option(tcp::acceptor::reuse_address(true));
    state_->acceptor.bind(endpoint);
    state_->acceptor.listen();
    port_ = state_->acceptor.local_endpoint().port();
    accept(state_);
  }
  ~FakeHttpServer() { stop(); }
  FakeHttpServer(const FakeHttpServer&) = delete;
  FakeHttpServer& operator=(const FakeHttpServer&) = delete;

  unsigned short port() const { return port_; }
  std::string url() const {
    return std::string(state_->tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_);
  }

  std::size_t connections_accepted() const { return state_->accepted; }
  std::size_t open_connections() const { return state_->open; }
  std::size_t max_open_connections() const { return state_->max_open; }
  std::size_t handshakes_failed() const { return state_->handshakes_failed; }
  const std::vector<FakeRequest>& requests() const { return state_->requests; }

  // Stops accepting and closes every connection (pending delays included),
  // so the io_context runs out of work.
  void stop() {
    boost::system::error_code ec;
    state_->acceptor.close(ec);
    auto sessions = state_->sessions;
    for (auto& weak : sessions) {
      if (auto session = weak.lock()) session->stop();
    }
  }

 private:
  struct SessionBase {
    virtual ~SessionBase() = default;
    virtual void stop() = 0;
  };

  struct State {
    State(boost::asio::io_context& io, Handler h, boost::asio::ssl::context* t)
        : acceptor(io), handler(std::move(h)), tls(t) {}
    boost::asio::ip::tcp::acceptor acceptor;
    Handler handler;
    boost::asio::ssl::context* tls;
    std::vector<std::weak_ptr<SessionBase>> sessions;
    std::vector<FakeRequest> requests;
    std::size_t accepted = 0;
    std::size_t open = 0;
    std::size_t max_open = 0;
    std::size_t handshakes_failed = 0;
  };

  template <class Stream>
  class Session : public SessionBase, public std::enable_shared_from_this<Session<Stream>> {
   public:
    template <class... Args>
    Session(std::shared_ptr<State> state, std::size_t id, Args&&... args)
        : state_(std::move(state)),
          id_(id),
          stream_(std::forward<Args>(args)...),
          timer_(state_->acceptor.get_executor()) {
      state_->max_open = std::max(state_->max_open, ++state_->open);
    }
    ~Session() override { ended(); }

    void start() {
      if constexpr (std::is_same_v<Stream, fake_http::beast::tcp_stream>) {
        read_next();
      } else {
        stream_.async_handshake(boost::asio::ssl::stream_base::server,
                                [self = this->shared_from_this()](boost::system::error_code ec) {
                                  if (ec) {
                                    ++self->state_->handshakes_failed;
                                    return self->stop();
                                  }
                                  self->read_next();
                                });
      }
    }

    void stop() override {
      boost::system::error_code ec;
      timer_.cancel();
      auto& socket = fake_http::beast::get_lowest_layer(stream_).socket();
      socket.shutdown(boost::asio::socket_base::shutdown_both, ec);
      socket.close(ec);
      ended();
    }

   private:
    void ended() {
      if (!ended_) {
        ended_ = true;
        --state_->open;
      }
    }

    void read_next() {
      request_ = {};
      fake_http::http::async_read(
          stream_, buffer_, request_,
          [self = this->shared_from_this()](boost::system::error_code ec, std::size_t) {
            if (ec) return self->stop();
            self->on_request();
          });
    }

    void on_request() {
      FakeRequest seen{request_, id_, ++sequence_};
      state_->requests.push_back(seen);
      action_ = state_->handler(seen);
      if (action_.delay.count() > 0) {
        timer_.expires_after(action_.delay);
        timer_.async_wait([self = this->shared_from_this()](boost::system::error_code ec) {
          if (ec) return self->stop();
          self->act();
        });
        return;
      }
      act();
    }

    void act() {
      namespace http = fake_http::http;
      switch (action_.kind) {
        case Action::Kind::respond: {
          auto& response = action_.response;
          if (response.find(http::field::content_length) == response.end() && !response.chunked()) {
            response.prepare_payload();
          }
          bool keep = response.keep_alive() && request_.keep_alive() && !action_.close_after;
          http::async_write(
              stream_, response,
              [self = this->shared_from_this(), keep](boost::system::error_code ec, std::size_t) {
                if (ec || !keep) return self->stop();
                self->read_next();
              });
          return;
        }
        case Action::Kind::close:
          return stop();
        case Action::Kind::reset:
          return abort();
        case Action::Kind::raw:
          boost::asio::async_write(
              stream_, boost::asio::buffer(action_.raw),
              [self = this->shared_from_this()](boost::system::error_code, std::size_t) {
                if (self->action_.reset_after) return self->abort();
                self->stop();
              });
          return;
        case Action::Kind::hang:
          // Keep a read pending so the session lives until the client closes.
          stream_.async_read_some(boost::asio::buffer(sink_),
                                  [self = this->shared_from_this()](boost::system::error_code,
                                                                    std::size_t) { self->stop(); });
          return;
      }
    }

    void abort() {
      boost::system::error_code ec;
      auto& socket = fake_http::beast::get_lowest_layer(stream_).socket();
      socket.set_option(boost::asio::socket_base::linger(true, 0), ec);
      socket.close(ec);
      ended();
    }

    std::shared_ptr<State> state_;
    std::size_t id_;
    std::size_t sequence_ = 0;
    Stream stream_;
    boost::asio::steady_timer timer_;
    boost::beast::flat_buffer buffer_;
    boost::beast::http::request<boost::beast::http::string_body> request_;
    Action action_;
    char sink_[512];
    bool ended_ = false;
  };

  static void accept(std::shared_ptr<State> state) {
    auto& acceptor = state->acceptor;
    acceptor.async_accept([state = std::move(state)](boost::system::error_code ec,
                                                     boost::asio::ip::tcp::socket socket) {
      if (ec) return;  // stopped
      std::size_t id = ++state->accepted;
      socket.set_option(boost::asio::ip::tcp::no_delay(true), ec);
      if (state->tls != nullptr) {
        using Stream = fake_http::beast::ssl_stream<fake_http::beast::tcp_stream>;
        auto session = std::make_shared<Session<Stream>>(state, id, std::move(socket), *state->tls);
        state->sessions.push_back(session);
        session->start();
      } else {
        using Stream = fake_http::beast::tcp_stream;
        auto session = std::make_shared<Session<Stream>>(state, id, std::move(socket));
        state->sessions.push_back(session);
        session->start();
      }
      accept(state);
    });
  }

  std::shared_ptr<State> state_;
  unsigned short port_ = 0;
};

}  // namespace jobwatch::testing
