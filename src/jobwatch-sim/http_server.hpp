// The simulator's HTTP/1.1 shell (Boost.Beast, keep-alive, one io_context
// thread): reads requests, asks the Simulator, writes replies, and carries
// out the faults that need the socket (resets, delayed answers).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstddef>
#include <memory>

#include "simulator.hpp"

namespace jobwatch::sim {

struct ServerOptions {
  std::chrono::seconds idle_timeout{60};  // a keep-alive connection idle this long is closed
  std::size_t body_limit = 64u << 20;     // admin batches of 100k jobs fit
  bool verbose = false;                   // one stderr line per request
  // Serve HTTPS with this context (certificate and key loaded); null: HTTP.
  std::shared_ptr<boost::asio::ssl::context> tls;
};

class HttpServer {
 public:
  HttpServer(boost::asio::io_context& ioc, Simulator& sim, ServerOptions options);

  // Binds and listens; the error when the address cannot be used.
  boost::system::error_code listen(const boost::asio::ip::tcp::endpoint& endpoint);
  unsigned short port() const;
  void start();
  void stop();

 private:
  void accept();

  boost::asio::io_context& ioc_;
  Simulator& sim_;
  ServerOptions options_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer retry_timer_;  // backs off when accept fails (EMFILE)
};

}  // namespace jobwatch::sim
