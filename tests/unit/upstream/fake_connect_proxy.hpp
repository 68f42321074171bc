// An in-process HTTP CONNECT proxy for client tests, on 127.0.0.1 and an
// ephemeral port: it records each CONNECT, answers with the status the test
// chooses, and on 2xx splices the client to 127.0.0.1:<port of the target>
// (whatever host the target names, so tests never leave loopback).
#pragma once

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <functional>
#include <istream>
#include <memory>
#include <string>
#include <vector>

namespace jobwatch::testing {

struct SeenConnect {
  std::string request_line;         // "CONNECT 127.0.0.1:1234 HTTP/1.1"
  std::string host;                 // the Host header
  std::string proxy_authorization;  // the Proxy-Authorization header, if any
};

class FakeConnectProxy {
 public:
  // The status to answer a CONNECT with; 0 answers nothing (hangs).
  using Decide = std::function<unsigned(const SeenConnect&)>;

  explicit FakeConnectProxy(
      boost::asio::io_context& io, Decide decide = [](const SeenConnect&) { return 200u; })
      : state_(std::make_shared<State>(io, std::move(decide))) {
    using tcp = boost::asio::ip::tcp;
    tcp::endpoint endpoint(boost::asio::ip::make_address("127.0.0.1"), 0);
    state_->acceptor.open(endpoint.protocol());
    state_->acceptor.bind(endpoint);
    state_->acceptor.listen();
    port_ = state_->acceptor.local_endpoint().port();
    accept(state_);
  }
  ~FakeConnectProxy() { stop(); }
  FakeConnectProxy(const FakeConnectProxy&) = delete;
  FakeConnectProxy& operator=(const FakeConnectProxy&) = delete;

  unsigned short port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  const std::vector<SeenConnect>& connects() const { return state_->connects; }
  std::size_t tunnels_opened() const { return state_->tunnels; }

  void stop() {
    boost::system::error_code ec;
    state_->acceptor.close(ec);
    for (auto& weak : state_->sessions) {
      if (auto session = weak.lock()) session->stop();
    }
  }

 private:
  using tcp = boost::asio::ip::tcp;

  struct Session;
  struct State {
    State(boost::asio::io_context& io, Decide d) : acceptor(io), decide(std::move(d)) {}
    tcp::acceptor acceptor;
    Decide decide;
    std::vector<SeenConnect> connects;
    std::vector<std::weak_ptr<Session>> sessions;
    std::size_t tunnels = 0;
  };

  struct Session : std::enable_shared_from_this<Session> {
    Session(std::shared_ptr<State> s, tcp::socket socket)
        : state(std::move(s)), client(std::move(socket)), origin(client.get_executor()) {}

    void start() {
      boost::asio::async_read_until(
          client, head, "\r\n\r\n",
          [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
            if (ec) return self->stop();
            self->on_head(n);
          });
    }

    void on_head(std::size_t n) {
      std::string text(boost::asio::buffers_begin(head.data()),
                       boost::asio::buffers_begin(head.data()) + static_cast<std::ptrdiff_t>(n));
      head.consume(n);
      SeenConnect seen;
      std::size_t line_end = text.find("\r\n");
      seen.request_line = text.substr(0, line_end);
      for (std::size_t at = line_end + 2; at < text.size();) {
        std::size_t end = text.find("\r\n", at);
        std::string line = text.substr(at, end - at);
        at = end + 2;
        auto colon = line.find(':');
        if (colon == std::string::npos) continue;
        std::string name = line.substr(0, colon);
        std::string value = line.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') value.erase(0, 1);
        for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (name == "host") seen.host = value;
        if (name == "proxy-authorization") seen.proxy_authorization = value;
      }
      state->connects.push_back(seen);
      unsigned status = state->decide(seen);
      if (status == 0) {
        // Hang: keep a read pending until the client gives up.
        client.async_read_some(
            boost::asio::buffer(up),
            [self = shared_from_this()](boost::system::error_code, std::size_t) { self->stop(); });
        return;
      }
      if (status < 200 || status >= 300) {
        answer = "HTTP/1.1 " + std::to_string(status) + " Nope\r\nContent-Length: 5\r\n\r\nnope\n";
        boost::asio::async_write(
            client, boost::asio::buffer(answer),
            [self = shared_from_this()](boost::system::error_code, std::size_t) { self->stop(); });
        return;
      }
      // "CONNECT host:port HTTP/1.1": the port is what counts here.
      auto target = seen.request_line.substr(8, seen.request_line.rfind(' ') - 8);
      auto port = static_cast<unsigned short>(std::stoi(target.substr(target.rfind(':') + 1)));
      origin.async_connect(
          tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port),
          [self = shared_from_this(), status](boost::system::error_code ec) {
            if (ec) return self->stop();
            ++self->state->tunnels;
            self->answer = "HTTP/1.1 " + std::to_string(status) + " Connection established\r\n\r\n";
            boost::asio::async_write(self->client, boost::asio::buffer(self->answer),
                                     [self](boost::system::error_code ec, std::size_t) {
                                       if (ec) return self->stop();
                                       self->pump(self->client, self->origin, self->up);
                                       self->pump(self->origin, self->client, self->down);
                                     });
          });
    }

    void pump(tcp::socket& from, tcp::socket& to, std::array<char, 16384>& buffer) {
      from.async_read_some(
          boost::asio::buffer(buffer), [self = shared_from_this(), &from, &to, &buffer](
                                           boost::system::error_code ec, std::size_t n) {
            if (ec) return self->stop();
            boost::asio::async_write(
                to, boost::asio::buffer(buffer.data(), n),
                [self, &from, &to, &buffer](boost::system::error_code ec, std::size_t) {
                  if (ec) return self->stop();
                  self->pump(from, to, buffer);
                });
          });
    }

    void stop() {
      boost::system::error_code ec;
      client.shutdown(tcp::socket::shutdown_both, ec);
      client.close(ec);
      origin.shutdown(tcp::socket::shutdown_both, ec);
      origin.close(ec);
    }

    std::shared_ptr<State> state;
    tcp::socket client;
    tcp::socket origin;
    boost::asio::streambuf head;
    std::string answer;
    std::array<char, 16384> up{};
    std::array<char, 16384> down{};
  };

  static void accept(std::shared_ptr<State> state) {
    auto& acceptor = state->acceptor;
    acceptor.async_accept(
        [state = std::move(state)](boost::system::error_code ec, tcp::socket socket) {
          if (ec) return;  // stopped
          auto session = std::make_shared<Session>(state, std::move(socket));
          state->sessions.push_back(session);
          session->start();
          accept(state);
        });
  }

  std::shared_ptr<State> state_;
  unsigned short port_ = 0;
};

}  // namespace jobwatch::testing
