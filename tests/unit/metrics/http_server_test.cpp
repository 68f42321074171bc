#include "jobwatch/metrics/http_server.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>

#include "loopback_client.hpp"

using namespace jobwatch::metrics;
using namespace jobwatch::metrics::test;
using namespace std::chrono_literals;

namespace {

constexpr const char* get_metrics = "GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n";

}  // namespace

class MetricsServerTest : public ::testing::Test {
 protected:
  MetricsServerTest() { make_server({}); }
  ~MetricsServerTest() override { server_.reset(); }

  void make_server(MetricsServerLimits limits) {
    server_ = std::make_unique<MetricsServer>(
        io_.get_executor(),
        [this] {
          ++renders_;
          if (render_throws_) throw std::runtime_error("boom");
          return body_;
        },
        limits);
  }

  void listen(const std::string& address = "127.0.0.1:0") {
    auto error = server_->listen(address);
    ASSERT_FALSE(error) << *error;
    port_ = server_->port();
    ASSERT_NE(port_, 0);
  }

  int connect(bool v6 = false) {
    const int fd = clients_.connect(port_, v6);
    EXPECT_GE(fd, 0) << "connect: " << std::strerror(errno);
    return fd;
  }

  // The server has accepted `n` connections (they are open on its side).
  void wait_for_connections(std::size_t n) {
    ASSERT_TRUE(clients_.run_until([&] { return server_->connection_count() == n; }))
        << server_->connection_count() << " connections, expected " << n;
  }

  boost::asio::io_context io_{1};
  LoopbackClients clients_{io_};
  std::unique_ptr<MetricsServer> server_;
  std::uint16_t port_ = 0;
  std::string body_ = "# HELP up Up.\n# TYPE up gauge\nup 1\n";
  int renders_ = 0;
  bool render_throws_ = false;
};

TEST_F(MetricsServerTest, GetReturnsTheRenderedTextAndContentType) {
  listen();
  const int fd = connect();
  clients_.send(fd, get_metrics);
  auto r = clients_.read_response(fd);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(r->body, body_);
  EXPECT_EQ(renders_, 1);
}

TEST_F(MetricsServerTest, QueryStringIsIgnored) {
  listen();
  const int fd = connect();
  clients_.send(fd, "GET /metrics?name[]=up&x HTTP/1.1\r\nHost: a\r\n\r\n");
  auto r = clients_.read_response(fd);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, body_);
}

TEST_F(MetricsServerTest, KeepAliveServesRequestsOneAfterAnother) {
  listen();
  const int fd = connect();
  clients_.send(fd, get_metrics);
  auto first = clients_.read_response(fd);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->body, body_);
  body_ = "up 2\n";  // rendered per request
  clients_.send(fd, get_metrics);
  auto second = clients_.read_response(fd);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->status, 200);
  EXPECT_EQ(second->body, "up 2\n");
  EXPECT_EQ(renders_, 2);
  EXPECT_EQ(server_->connection_count(), 1u);
}

TEST_F(MetricsServerTest, PipelinedRequestsAreAnsweredInOrder) {
  listen();
  const int fd = connect();
  clients_.send(fd, std::string("GET /nope HTTP/1.1\r\nHost: a\r\n\r\n") + get_metrics);
  auto first = clients_.read_response(fd);
  auto second = clients_.read_response(fd);
  ASSERT_TRUE(first && second);
  EXPECT_EQ(first->status, 404);
  EXPECT_EQ(second->status, 200);
}

TEST_F(MetricsServerTest, ConnectionCloseAndHttp10CloseAfterTheResponse) {
  listen();
  const int a = connect();
  clients_.send(a, "GET /metrics HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
  auto r = clients_.read_response(a);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_TRUE(clients_.closed_by_server(a));

  const int b = connect();
  clients_.send(b, "GET /metrics HTTP/1.0\r\n\r\n");
  r = clients_.read_response(b);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, body_);
  EXPECT_TRUE(clients_.closed_by_server(b));
}

TEST_F(MetricsServerTest, OtherPathsAre404AndKeepTheConnection) {
  listen();
  const int fd = connect();
  for (const char* path : {"/", "/metricsx", "/metrics/", "/other/metrics", "*"}) {
    clients_.send(fd, std::string("GET ") + path + " HTTP/1.1\r\nHost: a\r\n\r\n");
    auto r = clients_.read_response(fd);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 404) << path;
  }
  EXPECT_EQ(renders_, 0);
  clients_.send(fd, get_metrics);
  auto r = clients_.read_response(fd);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

TEST_F(MetricsServerTest, OtherMethodsAre405WithAllow) {
  listen();
  const int fd = connect();
  for (const char* request : {"POST /metrics HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc",
                              "PUT /metrics HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n",
                              "DELETE /metrics HTTP/1.1\r\nHost: a\r\n\r\n",
                              "OPTIONS /metrics HTTP/1.1\r\nHost: a\r\n\r\n"}) {
    clients_.send(fd, request);
    auto r = clients_.read_response(fd);
    ASSERT_TRUE(r) << request;
    EXPECT_EQ(r->status, 405) << request;
    EXPECT_EQ(r->header("allow"), "GET, HEAD");
  }
  EXPECT_EQ(renders_, 0);
}

TEST_F(MetricsServerTest, HeadHasTheLengthButNoBody) {
  listen();
  const int fd = connect();
  clients_.send(fd, "HEAD /metrics HTTP/1.1\r\nHost: a\r\n\r\n");
  auto head = clients_.read_response(fd, true);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(head->header("content-length"), std::to_string(body_.size()));
  // Had a body been sent, it would now stand where the next status line must.
  clients_.send(fd, get_metrics);
  auto get = clients_.read_response(fd);
  ASSERT_TRUE(get);
  EXPECT_EQ(get->status, 200);
  EXPECT_EQ(get->body, body_);
}

TEST_F(MetricsServerTest, RenderFailureIs500AndTheServerGoesOn) {
  listen();
  const int fd = connect();
  render_throws_ = true;
  clients_.send(fd, get_metrics);
  auto r = clients_.read_response(fd);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 500);
  render_throws_ = false;
  clients_.send(fd, get_metrics);
  r = clients_.read_response(fd);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, body_);
}

TEST_F(MetricsServerTest, OversizeHeaderIsRejected) {
  listen();
  const int fd = connect();
  clients_.send(
      fd, "GET /metrics HTTP/1.1\r\nHost: a\r\nX-Big: " + std::string(10'000, 'a') + "\r\n\r\n");
  auto r = clients_.read_response(fd);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 431);
  EXPECT_TRUE(clients_.closed_by_server(fd));
  EXPECT_EQ(renders_, 0);
}

TEST_F(MetricsServerTest, OversizeBodyIsRejected) {
  listen();
  const int fd = connect();
  clients_.send(fd, "GET /metrics HTTP/1.1\r\nHost: a\r\nContent-Length: 5000\r\n\r\n" +
                        std::string(5000, 'x'));
  auto r = clients_.read_response(fd);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_TRUE(clients_.closed_by_server(fd));
  EXPECT_EQ(renders_, 0);
}

TEST_F(MetricsServerTest, MalformedRequestGets400AndClose) {
  listen();
  const int fd = connect();
  clients_.send(fd, "this is not http\r\n\r\n");
  auto r = clients_.read_response(fd);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_TRUE(clients_.closed_by_server(fd));
}

TEST_F(MetricsServerTest, SlowAndIdleClientsAreClosedAfterTheReadTimeout) {
  MetricsServerLimits limits;
  limits.read_timeout = 200ms;
  make_server(limits);
  listen();
  const int slow = connect();
  clients_.send(slow, "GET /metr");  // and never the rest
  const int idle = connect();
  clients_.send(idle, get_metrics);
  ASSERT_TRUE(clients_.read_response(idle));
  EXPECT_TRUE(clients_.closed_by_server(slow));
  EXPECT_TRUE(clients_.closed_by_server(idle));
  EXPECT_TRUE(clients_.run_until([&] { return server_->connection_count() == 0; }));
}

TEST_F(MetricsServerTest, ConnectionsBeyondTheLimitAreClosedAtOnce) {
  MetricsServerLimits limits;
  limits.max_connections = 2;
  make_server(limits);
  listen();
  const int a = connect();
  const int b = connect();
  wait_for_connections(2);
  const int c = connect();
  EXPECT_TRUE(clients_.closed_by_server(c));
  // The admitted ones still work; when one goes, a new one is admitted.
  clients_.send(b, get_metrics);
  ASSERT_TRUE(clients_.read_response(b));
  ::shutdown(a, SHUT_RDWR);
  wait_for_connections(1);
  const int d = connect();
  clients_.send(d, get_metrics);
  auto r = clients_.read_response(d);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

TEST_F(MetricsServerTest, StopClosesOpenConnections) {
  listen();
  const int served = connect();
  clients_.send(served, get_metrics);
  ASSERT_TRUE(clients_.read_response(served));
  const int partial = connect();
  clients_.send(partial, "GET /metrics HTTP/1.1\r\n");
  wait_for_connections(2);
  server_->stop();
  EXPECT_EQ(server_->connection_count(), 0u);
  EXPECT_EQ(server_->port(), 0);
  EXPECT_TRUE(clients_.closed_by_server(served));
  EXPECT_TRUE(clients_.closed_by_server(partial));
  EXPECT_EQ(clients_.pending(partial), "");  // no answer after stop
  EXPECT_EQ(renders_, 1);
  EXPECT_EQ(clients_.connect(port_), -1);  // no longer listening
}

TEST_F(MetricsServerTest, DestroyWithARequestInFlightDoesNotRender) {
  listen();
  const int fd = connect();
  wait_for_connections(1);
  clients_.send(fd, get_metrics);  // not read by the server yet: the loop has not turned
  server_.reset();
  EXPECT_TRUE(clients_.closed_by_server(fd));
  clients_.run_until([] { return false; }, 50ms);  // drain what handlers remain
  EXPECT_EQ(renders_, 0);
}

TEST_F(MetricsServerTest, ListenAgainAfterStop) {
  listen();
  server_->stop();
  listen();
  const int fd = connect();
  clients_.send(fd, get_metrics);
  auto r = clients_.read_response(fd);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

TEST_F(MetricsServerTest, ListensOnIpv6LoopbackAndLocalhost) {
  listen("[::1]:0");
  const int v6 = connect(true);
  clients_.send(v6, get_metrics);
  auto r = clients_.read_response(v6);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  server_->stop();

  listen("localhost:0");  // 127.0.0.1
  const int v4 = connect();
  clients_.send(v4, get_metrics);
  r = clients_.read_response(v4);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

TEST_F(MetricsServerTest, MalformedAddressesAreErrors) {
  for (const char* address :
       {"", "127.0.0.1", "127.0.0.1:", "127.0.0.1:99999", "127.0.0.1:x", "127.0.0.1:-1", "::1:9464",
        "[::1", "[::1]9464", "[127.0.0.1]:1", "example.com:9464", "127.1:9464", ":9464"}) {
    auto error = server_->listen(address);
    ASSERT_TRUE(error) << address;
    EXPECT_NE(error->find(std::string("'") + address + "'"), std::string::npos) << *error;
    EXPECT_EQ(server_->port(), 0);
  }
}

TEST_F(MetricsServerTest, PortInUseIsAnErrorNamingTheAddress) {
  listen();
  const std::string address = "127.0.0.1:" + std::to_string(port_);
  MetricsServer other(io_.get_executor(), [] { return std::string(); });
  auto error = other.listen(address);
  ASSERT_TRUE(error);
  EXPECT_NE(error->find(address), std::string::npos) << *error;
  EXPECT_NE(error->find("in use"), std::string::npos) << *error;
  EXPECT_EQ(other.port(), 0);

  auto again = server_->listen("127.0.0.1:0");
  ASSERT_TRUE(again);
  EXPECT_NE(again->find("already listening"), std::string::npos) << *again;
}
