// HttpPool through an HTTP CONNECT proxy: plain and TLS origins, keep-alive
// through the tunnel, and the proxy's failures as clear transport errors.
#include <gtest/gtest.h>

#include <boost/asio/ssl/context.hpp>
#include <functional>
#include <optional>

#include "jobwatch/upstream/http_pool.hpp"
#include "upstream/fake_connect_proxy.hpp"
#include "upstream/fake_http_server.hpp"
#include "upstream/pool_test_util.hpp"
#include "upstream/test_certs.hpp"
#include "upstream/test_support.hpp"

namespace jobwatch::upstream {
namespace {

using namespace std::chrono_literals;
using namespace jobwatch::testing;
namespace ssl = boost::asio::ssl;

class ProxyPoolTest : public ::testing::Test {
 protected:
  PoolOptions options(const std::string& proxy) {
    PoolOptions o;
    o.request_timeout = 10s;
    o.proxy = proxy;
    return o;
  }

  // `count` GETs one after another through `pool`, then stops the servers.
  std::vector<std::string> fetch_sequentially(HttpPool& pool, int count,
                                              const std::function<void()>& stop) {
    std::vector<std::string> answers;
    std::function<void()> next = [&] {
      pool.send(get("/r" + std::to_string(answers.size() + 1)), [&](HttpResult r) {
        answers.push_back(outcome(r));
        if (answers.size() < static_cast<std::size_t>(count)) return next();
        stop();
      });
    };
    next();
    EXPECT_TRUE(run_to_completion(io));
    return answers;
  }

  boost::asio::io_context io{1};
};

TEST_F(ProxyPoolTest, RequestsTunnelThroughTheProxyAndReuseTheTunnel) {
  FakeHttpServer server(
      io, [](const FakeRequest& r) { return respond(200, std::string(r.message.target())); });
  FakeConnectProxy proxy(io);
  HttpPool pool(io.get_executor(), Origin{false, "127.0.0.1", server.port()}, options(proxy.url()));
  auto answers = fetch_sequentially(pool, 3, [&] {
    server.stop();
    proxy.stop();
  });
  EXPECT_EQ(answers, (std::vector<std::string>{"200 /r1", "200 /r2", "200 /r3"}));
  std::string target = "127.0.0.1:" + std::to_string(server.port());
  ASSERT_EQ(proxy.connects().size(), 1u);  // one tunnel carried all three
  EXPECT_EQ(proxy.connects()[0].request_line, "CONNECT " + target + " HTTP/1.1");
  EXPECT_EQ(proxy.connects()[0].host, target);
  EXPECT_EQ(proxy.connects()[0].proxy_authorization, "");
  EXPECT_EQ(server.connections_accepted(), 1u);
  ASSERT_EQ(server.requests().size(), 3u);
  // Origin-form target and the origin's Host inside the tunnel, not the proxy's.
  EXPECT_EQ(server.requests()[0].message.target(), "/r1");
  EXPECT_EQ(server.requests()[0].message[boost::beast::http::field::host], target);
}

TEST_F(ProxyPoolTest, ProxyRefusingTheTunnelIsAClearConnectError) {
  FakeHttpServer server(io, [](const FakeRequest&) { return respond(200, "unreachable"); });
  FakeConnectProxy proxy(io, [](const SeenConnect&) { return 403u; });
  HttpPool pool(io.get_executor(), Origin{false, "127.0.0.1", server.port()}, options(proxy.url()));
  auto answers = fetch_sequentially(pool, 1, [&] {
    server.stop();
    proxy.stop();
  });
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0], "connect: proxy 127.0.0.1:" + std::to_string(proxy.port()) +
                            " refused to tunnel to 127.0.0.1:" + std::to_string(server.port()) +
                            ": 403 Nope");
  EXPECT_EQ(server.connections_accepted(), 0u);
}

TEST_F(ProxyPoolTest, SendsBasicCredentialsFromTheUrlAndNeverEchoesThem) {
  FakeConnectProxy proxy(io, [](const SeenConnect&) { return 407u; });
  HttpPool pool(io.get_executor(), Origin{false, "127.0.0.1", 9},
                options("http://user:p%40ss@127.0.0.1:" + std::to_string(proxy.port())));
  auto answers = fetch_sequentially(pool, 1, [&] { proxy.stop(); });
  ASSERT_EQ(proxy.connects().size(), 1u);
  EXPECT_EQ(proxy.connects()[0].proxy_authorization, "Basic dXNlcjpwQHNz");  // user:p@ss
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_NE(answers[0].find("rejected the proxy credentials (407"), std::string::npos)
      << answers[0];
  EXPECT_EQ(answers[0].find("p@ss"), std::string::npos);
  EXPECT_EQ(answers[0].find("p%40ss"), std::string::npos);
  EXPECT_EQ(answers[0].find("dXNlcjpwQHNz"), std::string::npos);
}

TEST_F(ProxyPoolTest, ProxyDownIsAConnectErrorNamingTheProxy) {
  unsigned short dead_port = 0;
  {
    boost::asio::ip::tcp::acceptor probe(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
    dead_port = probe.local_endpoint().port();
  }
  HttpPool pool(io.get_executor(), Origin{true, "api.example", 443},
                options("http://127.0.0.1:" + std::to_string(dead_port)));
  auto answers = fetch_sequentially(pool, 1, [] {});
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0].rfind("connect: connect to proxy 127.0.0.1:" + std::to_string(dead_port) +
                                 " (for api.example:443): ",
                             0),
            0u)
      << answers[0];
}

TEST_F(ProxyPoolTest, ProxyThatNeverAnswersTimesOut) {
  FakeConnectProxy proxy(io, [](const SeenConnect&) { return 0u; });
  auto o = options(proxy.url());
  o.request_timeout = 200ms;
  HttpPool pool(io.get_executor(), Origin{false, "127.0.0.1", 9}, o);
  auto answers = fetch_sequentially(pool, 1, [&] { proxy.stop(); });
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0],
            "timeout: 127.0.0.1:9: no answer within 200ms (opening the tunnel via proxy " +
                proxy.url().substr(7) + ")");
}

TEST_F(ProxyPoolTest, BadProxyUrlIsASetupError) {
  HttpPool pool(io.get_executor(), Origin{true, "api.example", 443},
                options("https://secret@proxy.example:3128"));
  EXPECT_NE(pool.setup_error().find("http://"), std::string::npos) << pool.setup_error();
  EXPECT_EQ(pool.setup_error().find("secret"), std::string::npos);
  HttpResult result;
  pool.send(get("/"), [&](HttpResult r) { result = std::move(r); });
  ASSERT_TRUE(run_to_completion(io));
  EXPECT_TRUE(std::holds_alternative<TransportError>(result));
}

TEST(ProxyUrlTest, Parses) {
  auto plain = parse_proxy_url("http://proxy.internal:3128");
  ASSERT_TRUE(std::holds_alternative<ProxyUrl>(plain));
  EXPECT_EQ(std::get<ProxyUrl>(plain).origin.host, "proxy.internal");
  EXPECT_EQ(std::get<ProxyUrl>(plain).origin.port, 3128);
  EXPECT_FALSE(std::get<ProxyUrl>(plain).origin.tls);
  EXPECT_EQ(std::get<ProxyUrl>(plain).authorization, "");
  auto slash = parse_proxy_url("HTTP://[::1]:8080/");
  ASSERT_TRUE(std::holds_alternative<ProxyUrl>(slash));
  EXPECT_EQ(std::get<ProxyUrl>(slash).origin.host, "::1");
  auto creds = parse_proxy_url("http://a:b@p:1");
  ASSERT_TRUE(std::holds_alternative<ProxyUrl>(creds));
  EXPECT_EQ(std::get<ProxyUrl>(creds).authorization, "Basic YTpi");
  EXPECT_TRUE(std::holds_alternative<std::string>(parse_proxy_url("https://p:1")));
  EXPECT_TRUE(std::holds_alternative<std::string>(parse_proxy_url("http://p:1/path")));
  auto bad = parse_proxy_url("http://u:s%zzcret@p:1");
  ASSERT_TRUE(std::holds_alternative<std::string>(bad));
  EXPECT_EQ(std::get<std::string>(bad).find("cret"), std::string::npos);
}

class TlsProxyPoolTest : public ProxyPoolTest {
 protected:
  static void SetUpTestSuite() { certs_ = make_test_certs(); }
  static void TearDownTestSuite() {
    if (certs_) certs_->remove();
    certs_.reset();
  }
  void SetUp() override {
    if (!certs_) GTEST_SKIP() << "cannot make test certificates (openssl CLI missing?)";
  }
  ssl::context server_context(const std::string& name) {
    ssl::context ctx(ssl::context::tls_server);
    ctx.use_certificate_chain_file(certs_->cert(name));
    ctx.use_private_key_file(certs_->key(name), ssl::context::pem);
    return ctx;
  }
  // GETs through the proxy to a TLS server presenting `cert`, as "localhost".
  std::vector<std::string> fetch_via_proxy(const std::string& cert, int count,
                                           FakeConnectProxy& proxy) {
    auto ctx = server_context(cert);
    FakeHttpServer server(
        io, [](const FakeRequest&) { return respond(200, "secure"); }, &ctx);
    port_ = server.port();
    auto o = options(proxy.url());
    o.ca_file = certs_->ca();
    HttpPool pool(io.get_executor(), Origin{true, "localhost", server.port()}, o);
    return fetch_sequentially(pool, count, [&] {
      server.stop();
      proxy.stop();
    });
  }

  static inline std::optional<TestCerts> certs_;
  unsigned short port_ = 0;
};

TEST_F(TlsProxyPoolTest, TlsRunsEndToEndThroughTheTunnel) {
  FakeConnectProxy proxy(io);
  auto answers = fetch_via_proxy("server", 2, proxy);
  EXPECT_EQ(answers, (std::vector<std::string>{"200 secure", "200 secure"}));
  ASSERT_EQ(proxy.connects().size(), 1u);
  EXPECT_EQ(proxy.connects()[0].request_line,
            "CONNECT localhost:" + std::to_string(port_) + " HTTP/1.1");
}

TEST_F(TlsProxyPoolTest, TheOriginsNameIsVerifiedNotTheProxys) {
  FakeConnectProxy proxy(io);
  auto answers = fetch_via_proxy("wronghost", 1, proxy);
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0], "tls: TLS handshake with localhost:" + std::to_string(port_) +
                            " via proxy " + proxy.url().substr(7) +
                            ": the certificate is not valid for 'localhost'");
}

TEST_F(TlsProxyPoolTest, UnknownCaFailsThroughTheTunnel) {
  FakeConnectProxy proxy(io);
  auto answers = fetch_via_proxy("untrusted", 1, proxy);
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_NE(answers[0].find("certificate verify failed"), std::string::npos) << answers[0];
}

}  // namespace
}  // namespace jobwatch::upstream
