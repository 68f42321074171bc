// A tiny in-process HTTP/1.1 receiver on 127.0.0.1:0 for webhook tests: it
// records every request and answers from a script (or never answers).
#pragma once

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <cctype>
#include <chrono>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace jobwatch::sinks::test {

struct ReceivedRequest {
  std::string method;
  std::string target;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  std::chrono::steady_clock::time_point at;

  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

struct Reply {
  unsigned status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  bool hang = false;  // never answer, keep the connection open
};

class HttpReceiver {
 public:
  using Handler = std::function<Reply(const ReceivedRequest&)>;

  explicit HttpReceiver(boost::asio::io_context& ioc)
      : acceptor_(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0}) {
    accept();
  }
  ~HttpReceiver() { close(); }

  unsigned short port() const { return acceptor_.local_endpoint().port(); }
  std::string url(const std::string& target = "/hook") const {
    return "http://127.0.0.1:" + std::to_string(port()) + target;
  }
  void on_request(Handler handler) { handler_ = std::move(handler); }
  const std::vector<ReceivedRequest>& requests() const { return requests_; }

  void close() {
    boost::system::error_code ec;
    acceptor_.close(ec);
    for (auto& session : sessions_) session->socket.close(ec);
    sessions_.clear();
  }

 private:
  struct Session {
    explicit Session(boost::asio::ip::tcp::socket s) : socket(std::move(s)) {}
    boost::asio::ip::tcp::socket socket;
    boost::beast::flat_buffer buffer;
    boost::beast::http::request<boost::beast::http::string_body> request;
    boost::beast::http::response<boost::beast::http::string_body> response;
  };

  void accept() {
    acceptor_.async_accept([this](boost::system::error_code ec, boost::asio::ip::tcp::socket s) {
      if (ec) return;
      auto session = std::make_shared<Session>(std::move(s));
      sessions_.push_back(session);
      read(session);
      accept();
    });
  }

  void read(const std::shared_ptr<Session>& session) {
    session->request = {};
    boost::beast::http::async_read(
        session->socket, session->buffer, session->request,
        [this, session](boost::system::error_code ec, std::size_t) {
          if (ec) return;
          ReceivedRequest got;
          got.method = std::string(session->request.method_string());
          got.target = std::string(session->request.target());
          for (const auto& field : session->request) {
            std::string name(field.name_string());
            std::transform(name.begin(), name.end(), name.begin(),
                           [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
            got.headers[name] = std::string(field.value());
          }
          got.body = session->request.body();
          got.at = std::chrono::steady_clock::now();
          requests_.push_back(got);
          const Reply reply = handler_ ? handler_(got) : Reply{};
          if (reply.hang) return;  // the session stays open in sessions_
          auto& res = session->response;
          res = {};
          res.version(11);
          res.result(reply.status);
          for (const auto& [name, value] : reply.headers) res.set(name, value);
          res.body() = reply.body;
          res.keep_alive(session->request.keep_alive());
          res.prepare_payload();
          boost::beast::http::async_write(
              session->socket, res, [this, session](boost::system::error_code ec, std::size_t) {
                if (!ec) read(session);
              });
        });
  }

  boost::asio::ip::tcp::acceptor acceptor_;
  Handler handler_;
  std::vector<ReceivedRequest> requests_;
  std::list<std::shared_ptr<Session>> sessions_;
};

}  // namespace jobwatch::sinks::test
