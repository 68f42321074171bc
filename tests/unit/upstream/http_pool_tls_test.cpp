#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <boost/asio/ssl/context.hpp>
#include <optional>

#include "jobwatch/upstream/http_pool.hpp"
#include "upstream/fake_http_server.hpp"
#include "upstream/pool_test_util.hpp"
#include "upstream/test_certs.hpp"
#include "upstream/test_support.hpp"

namespace jobwatch::upstream {
namespace {

using namespace std::chrono_literals;
using namespace jobwatch::testing;
namespace ssl = boost::asio::ssl;

class TlsPoolTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { certs_ = make_test_certs(); }
  static void TearDownTestSuite() {
    if (certs_) certs_->remove();
    certs_.reset();
  }
  void SetUp() override {
    if (!certs_) GTEST_SKIP() << "cannot make test certificates (openssl CLI missing?)";
  }

  // A server context presenting certificate `name`, recording the SNI name
  // the client sent into sni_.
  ssl::context server_context(const std::string& name) {
    ssl::context ctx(ssl::context::tls_server);
    ctx.use_certificate_chain_file(certs_->cert(name));
    ctx.use_private_key_file(certs_->key(name), ssl::context::pem);
    SSL_CTX_set_tlsext_servername_callback(ctx.native_handle(), &TlsPoolTest::on_servername);
    SSL_CTX_set_tlsext_servername_arg(ctx.native_handle(), &sni_);
    return ctx;
  }
  static int on_servername(SSL* ssl, int*, void* arg) {
    const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    *static_cast<std::string*>(arg) = name != nullptr ? name : "";
    return SSL_TLSEXT_ERR_OK;
  }

  PoolOptions options() {
    PoolOptions o;
    o.request_timeout = 10s;
    o.ca_file = certs_->ca();
    return o;
  }

  // One GET through a fresh pool against a server presenting `cert`.
  HttpResult fetch_once(const std::string& cert, const std::string& host, PoolOptions o) {
    auto ctx = server_context(cert);
    FakeHttpServer server(
        io, [](const FakeRequest&) { return respond(200, "secure"); }, &ctx);
    HttpPool pool(io.get_executor(), Origin{true, host, server.port()}, std::move(o));
    HttpResult result;
    pool.send(get("/"), [&](HttpResult r) {
      result = std::move(r);
      server.stop();
    });
    EXPECT_TRUE(run_to_completion(io));
    return result;
  }

  static inline std::optional<TestCerts> certs_;
  std::string sni_ = "(none)";
  boost::asio::io_context io{1};
};

TEST_F(TlsPoolTest, VerifiesAgainstTheConfiguredCa) {
  auto result = fetch_once("server", "127.0.0.1", options());
  EXPECT_EQ(outcome(result), "200 secure");
  EXPECT_EQ(sni_, "");  // no SNI for an IP address (RFC 6066)
}

TEST_F(TlsPoolTest, ResolvesAndSendsSniForHostNames) {
  auto result = fetch_once("server", "localhost", options());
  EXPECT_EQ(outcome(result), "200 secure");
  EXPECT_EQ(sni_, "localhost");
}

TEST_F(TlsPoolTest, UnknownCaFails) {
  auto result = fetch_once("untrusted", "127.0.0.1", options());
  ASSERT_TRUE(failed_with(result, TransportErrorKind::tls)) << outcome(result);
  const auto& message = std::get<TransportError>(result).message;
  EXPECT_NE(message.find("TLS handshake with 127.0.0.1:"), std::string::npos) << message;
  EXPECT_NE(message.find("certificate verify failed"), std::string::npos) << message;
}

TEST_F(TlsPoolTest, SystemStoreDoesNotTrustTheTestCa) {
  auto o = options();
  o.ca_file.clear();
  auto result = fetch_once("server", "127.0.0.1", o);
  EXPECT_TRUE(failed_with(result, TransportErrorKind::tls)) << outcome(result);
}

TEST_F(TlsPoolTest, WrongHostNameFails) {
  auto result = fetch_once("wronghost", "127.0.0.1", options());
  ASSERT_TRUE(failed_with(result, TransportErrorKind::tls)) << outcome(result);
  const auto& message = std::get<TransportError>(result).message;
  EXPECT_NE(message.find("not valid for '127.0.0.1'"), std::string::npos) << message;
}

TEST_F(TlsPoolTest, VerifyOffAcceptsAnyCertificate) {
  auto o = options();
  o.verify_tls = false;
  EXPECT_EQ(outcome(fetch_once("untrusted", "127.0.0.1", o)), "200 secure");
  EXPECT_EQ(outcome(fetch_once("wronghost", "127.0.0.1", o)), "200 secure");
}

TEST_F(TlsPoolTest, UnreadableCaFileIsASetupError) {
  auto o = options();
  o.ca_file = certs_->file("missing.pem");
  HttpPool pool(io.get_executor(), Origin{true, "127.0.0.1", 1}, o);
  EXPECT_NE(pool.setup_error().find("missing.pem"), std::string::npos) << pool.setup_error();
  HttpResult result;
  pool.send(get("/"), [&](HttpResult r) { result = std::move(r); });
  ASSERT_TRUE(run_to_completion(io));
  EXPECT_TRUE(failed_with(result, TransportErrorKind::tls)) << outcome(result);
}

TEST_F(TlsPoolTest, KeepAliveAndTransparentRetryOverTls) {
  auto ctx = server_context("server");
  FakeHttpServer server(
      io,
      [](const FakeRequest& r) {
        if (r.connection == 1 && r.sequence == 3) return close_connection();
        return respond(200, "c" + std::to_string(r.connection));
      },
      &ctx);
  HttpPool pool(io.get_executor(), Origin{true, "127.0.0.1", server.port()}, options());
  std::vector<std::string> answers;
  std::function<void()> next = [&] {
    pool.send(get("/"), [&](HttpResult r) {
      answers.push_back(outcome(r));
      if (answers.size() < 4) return next();
      server.stop();
    });
  };
  next();
  ASSERT_TRUE(run_to_completion(io));
  EXPECT_EQ(answers, (std::vector<std::string>{"200 c1", "200 c1", "200 c2", "200 c2"}));
  EXPECT_EQ(server.connections_accepted(), 2u);
  EXPECT_EQ(server.requests().size(), 5u);
}

}  // namespace
}  // namespace jobwatch::upstream
