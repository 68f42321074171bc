#include "jobwatch/upstream/http_pool.hpp"

#include <gtest/gtest.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <optional>
#include <vector>

#include "upstream/fake_http_server.hpp"
#include "upstream/pool_test_util.hpp"
#include "upstream/test_support.hpp"

namespace jobwatch::upstream {
namespace {

using namespace std::chrono_literals;
using namespace jobwatch::testing;
namespace http = boost::beast::http;

class HttpPoolTest : public ::testing::Test {
 protected:
  PoolOptions options(int max_connections = 4) {
    PoolOptions o;
    o.max_connections = max_connections;
    o.request_timeout = 10s;
    o.user_agent = "jobwatch-test/1";
    return o;
  }
  Origin origin(const FakeHttpServer& server) { return Origin{false, "127.0.0.1", server.port()}; }

  boost::asio::io_context io{1};
};

TEST_F(HttpPoolTest, SequentialRequestsShareOneKeepAliveConnection) {
  FakeHttpServer server(io, [](const FakeRequest& r) {
    return respond(200, "hello " + std::string(r.message.target()));
  });
  HttpPool pool(io.get_executor(), origin(server), options());
  std::vector<std::string> seen;
  std::function<void(int)> next = [&](int i) {
    pool.send(get("/r" + std::to_string(i)), [&, i](HttpResult result) {
      seen.push_back(outcome(result));
      if (i < 5) return next(i + 1);
      server.stop();
    });
  };
  next(1);
  ASSERT_TRUE(run_to_completion(io));
  EXPECT_EQ(seen, (std::vector<std::string>{"200 hello /r1", "200 hello /r2", "200 hello /r3",
                                            "200 hello /r4", "200 hello /r5"}));
  EXPECT_EQ(server.connections_accepted(), 1u);
  EXPECT_EQ(server.requests().size(), 5u);
  EXPECT_EQ(server.requests().back().sequence, 5u);
}

TEST_F(HttpPoolTest, SetsHostUserAgentKeepAliveAndContentLength) {
  FakeHttpServer server(io, [](const FakeRequest&) { return respond(204); });
  HttpPool pool(io.get_executor(), origin(server), options());
  HttpRequest request;
  request.method = http::verb::post;
  request.target = "/hook?x=1";
  request.headers = {{"Content-Type", "application/json"}, {"X-Extra", "yes"}};
  request.body = R"({"a":1})";
  std::string result;
  pool.send(std::move(request), [&](HttpResult r) {
    result = outcome(r);
    server.stop();
  });
  ASSERT_TRUE(run_to_completion(io));
  EXPECT_EQ(result, "204 ");
  ASSERT_EQ(server.requests().size(), 1u);
  const auto& m = server.requests()[0].message;
  EXPECT_EQ(m.method(), http::verb::post);
  EXPECT_EQ(m.target(), "/hook?x=1");
  EXPECT_EQ(m[http::field::host], "127.0.0.1:" + std::to_string(server.port()));
  EXPECT_EQ(m[http::field::user_agent], "jobwatch-test/1");
  EXPECT_EQ(m[http::field::connection], "keep-alive");
  EXPECT_EQ(m[http::field::content_length], "7");
  EXPECT_EQ(m["X-Extra"], "yes");
  EXPECT_EQ(m.body(), R"({"a":1})");
}

TEST_F(HttpPoolTest, NeverMoreThanMaxConnections) {
  FakeHttpServer server(io, [](const FakeRequest&) { return respond(200, "ok").after(20ms); });
  HttpPool pool(io.get_executor(), origin(server), options(3));
  int done = 0;
  int ok = 0;
  for (int i = 0; i < 10; ++i) {
    pool.send(get("/"), [&](HttpResult r) {
      ok += outcome(r) == "200 ok";
      EXPECT_LE(pool.open_connections(), 3u);
      if (++done == 10) server.stop();
    });
  }
  EXPECT_EQ(pool.open_connections(), 3u);
  EXPECT_EQ(pool.in_flight(), 3u);
  EXPECT_EQ(pool.queued(), 7u);
  ASSERT_TRUE(run_to_completion(io));
  EXPECT_EQ(ok, 10);
  EXPECT_EQ(server.connections_accepted(), 3u);
  EXPECT_LE(server.max_open_connections(), 3u);
  EXPECT_EQ(pool.in_flight(), 0u);
  EXPECT_EQ(pool.queued(), 0u);
}

TEST_F(HttpPoolTest, WaitingRequestsGoOutInOrder) {
  FakeHttpServer server(
      io, [](const FakeRequest& r) { return respond(200, std::string(r.message.target())); });
  HttpPool pool(io.get_executor(), origin(server), options(1));
  std::vector<std::string> answers;
  for (int i = 1; i <= 5; ++i) {
    pool.send(get("/" + std::to_string(i)), [&](HttpResult r) {
      answers.push_back(outcome(r));
      if (answers.size() == 5) server.stop();
    });
  }
  ASSERT_TRUE(run_to_completion(io));
  EXPECT_EQ(answers, (std::vector<std::string>{"200 /1", "200 /2", "200 /3", "200 /4", "200 /5"}));
  EXPECT_EQ(server.connections_accepted(), 1u);
}

// Answers "n<connection number>" and closes the connection, without
// "Connection: close": the client believes it may reuse it.
Action answer_then_close(const FakeRequest& r) {
  auto action = respond(200, "n" + std::to_string(r.connection));
  action.close_after = true;
  return action;
}

TEST_F(HttpPoolTest, IdleConnectionClosedByServerIsReplacedTransparently) {
  FakeHttpServer server(io, answer_then_close);
  HttpPool pool(io.get_executor(), origin(server), options(1));
  boost::asio::steady_timer later(io);
  std::vector<std::string> answers;
  pool.send(get("/a"), [&](HttpResult r) {
    answers.push_back(outcome(r));
    // Give the server's FIN time to arrive, as with a real idle timeout.
    later.expires_after(50ms);
    later.async_wait([&](auto) {
      pool.send(get("/b"), [&](HttpResult r2) {
        answers.push_back(outcome(r2));
        server.stop();
      });
    });
  });
  ASSERT_TRUE(run_to_completion(io));
  EXPECT_EQ(answers, (std::vector<std::string>{"200 n1", "200 n2"}));
  EXPECT_EQ(server.connections_accepted(), 2u);
  EXPECT_EQ(server.requests().size(), 2u);
}

// Sends /1, then /2 as soon as /1 is answered (its connection reused at
// once), and stops the server after /2; the two outcomes.
std::vector<std::string> two_in_a_row(boost::asio::io_context& io, HttpPool& pool,
                                      FakeHttpServer& server) {
  std::vector<std::string> answers;
  pool.send(get("/1"), [&](HttpResult r) {
    answers.push_back(outcome(r));
    pool.send(get("/2"), [&](HttpResult r2) {
      answers.push_back(outcome(r2));
      server.stop();
    });
  });
  EXPECT_TRUE(run_to_completion(io));
  return answers;
}

// Reused at once, a connection is not peeked at (a syscall per poll): one
// the peer closed right after its answer costs the transparent retry.
TEST_F(HttpPoolTest, AConnectionReusedAtOnceThatThePeerClosedIsRetriedTransparently) {
  FakeHttpServer server(io, answer_then_close);
  HttpPool pool(io.get_executor(), origin(server), options(1));
  EXPECT_EQ(two_in_a_row(io, pool, server), (std::vector<std::string>{"200 n1", "200 n2"}));
  EXPECT_EQ(server.connections_accepted(), 2u);
}

// The peer drops a reused connection after our request went out but before
// answering (its keep-alive timer raced ours): one retry on a new
// connection, invisible to the caller.
void expect_transparent_retry(boost::asio::io_context& io, Action (*drop)(),
                              const PoolOptions& options) {
  FakeHttpServer server(io, [drop](const FakeRequest& r) {
    if (r.connection == 1 && r.sequence == 2) return drop();
    return respond(200, "c" + std::to_string(r.connection));
  });
  HttpPool pool(io.get_executor(), Origin{false, "127.0.0.1", server.port()}, options);
  EXPECT_EQ(two_in_a_row(io, pool, server), (std::vector<std::string>{"200 c1", "200 c2"}));
  EXPECT_EQ(server.connections_accepted(), 2u);
  EXPECT_EQ(server.requests().size(), 3u);
}

TEST_F(HttpPoolTest, ReusedConnectionClosedBeforeAnswerIsRetriedOnce) {
  expect_transparent_retry(io, close_connection, options(1));
}

TEST_F(HttpPoolTest, ReusedConnectionResetBeforeAnswerIsRetriedOnce) {
  expect_transparent_retry(io, reset_connection, options(1));
}

TEST_F(HttpPoolTest, RetryHappensOnlyOnce) {
  FakeHttpServer server(io, [](const FakeRequest& r) {
    if (r.connection == 1 && r.sequence == 1) return respond(200, "first");
    return close_connection();
  });
  HttpPool pool(io.get_executor(), origin(server), options(1));
  std::vector<std::string> answers;
  HttpResult second;
  pool.send(get("/1"), [&](HttpResult r) {
    answers.push_back(outcome(r));
    pool.send(get("/2"), [&](HttpResult r2) {
      second = std::move(r2);
      server.stop();
    });
  });
  ASSERT_TRUE(run_to_completion(io));
  EXPECT_EQ(answers, std::vector<std::string>{"200 first"});
  EXPECT_TRUE(failed_with(second, TransportErrorKind::reset)) << outcome(second);
  EXPECT_EQ(server.requests().size(), 3u);  // 1, then 2 and its one retry
}

TEST_F(HttpPoolTest, FreshConnectionClosedBeforeAnswerIsAFailure) {
  FakeHttpServer server(io, [](const FakeRequest&) { return close_connection(); });
  HttpPool pool(io.get_executor(), origin(server), options());
  HttpResult result;
  pool.send(get("/"), [&](HttpResult r) {
    result = std::move(r);
    server.stop();
  });
  ASSERT_TRUE(run_to_completion(io));
  EXPECT_TRUE(failed_with(result, TransportErrorKind::reset)) << outcome(result);
  EXPECT_EQ(server.requests().size(), 1u);
}

TEST_F(HttpPoolTest, ResetMidResponseIsNotRetried) {
  FakeHttpServer server(io, [](const FakeRequest& r) {
    if (r.sequence == 1) return respond(200, "first");
    return send_raw("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial", true);
  });
  HttpPool pool(io.get_executor(), origin(server), options(1));
  HttpResult second;
  pool.send(get("/1"), [&](HttpResult) {
    pool.send(get("/2"), [&](HttpResult r2) {
      second = std::move(r2);
      server.stop();
    });
  });
  ASSERT_TRUE(run_to_completion(io));
  EXPECT_TRUE(failed_with(second, TransportErrorKind::reset)) << outcome(second);
  EXPECT_EQ(server.requests().size(), 2u);
  EXPECT_EQ(server.connections_accepted(), 1u);
}

TEST_F(HttpPoolTest, TimeoutWhenTheServerDoesNotAnswer) {
  FakeHttpServer server(io, [](const FakeRequest&) { return hang(); });
  auto o = options();
  o.request_timeout = 200ms;
  HttpPool pool(io.get_executor(), origin(server), o);
  HttpResult result;
  pool.send(get("/"), [&](HttpResult r) {
    result = std::move(r);
    server.stop();
  });
  ASSERT_TRUE(run_to_completion(io));
  ASSERT_TRUE(failed_with(result, TransportErrorKind::timeout)) << outcome(result);
  const auto& message = std::get<TransportError>(result).message;
  EXPECT_NE(message.find("127.0.0.1:" + std::to_string(server.port())), std::string::npos)
      << message;
  EXPECT_NE(message.find("200ms"), std::string::npos) << message;
  EXPECT_EQ(pool.open_connections(), 0u);
}

TEST_F(HttpPoolTest, ConnectionRefused) {
  unsigned short port = 0;
  {
    boost::asio::ip::tcp::acceptor probe(
        io, boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
    port = probe.local_endpoint().port();
  }
  HttpPool pool(io.get_executor(), Origin{false, "127.0.0.1", port}, options());
  HttpResult result;
  pool.send(get("/"), [&](HttpResult r) { result = std::move(r); });
  ASSERT_TRUE(run_to_completion(io));
  ASSERT_TRUE(failed_with(result, TransportErrorKind::connect)) << outcome(result);
  EXPECT_NE(
      std::get<TransportError>(result).message.find("connect 127.0.0.1:" + std::to_string(port)),
      std::string::npos)
      << outcome(result);
  EXPECT_EQ(pool.open_connections(), 0u);
}

TEST_F(HttpPoolTest, GarbageIsAProtocolError) {
  FakeHttpServer server(io,
                        [](const FakeRequest&) { return send_raw("SSH-2.0-OpenSSH_9\r\n\r\n"); });
  HttpPool pool(io.get_executor(), origin(server), options());
  HttpResult result;
  pool.send(get("/"), [&](HttpResult r) {
    result = std::move(r);
    server.stop();
  });
  ASSERT_TRUE(run_to_completion(io));
  EXPECT_TRUE(failed_with(result, TransportErrorKind::protocol)) << outcome(result);
}

TEST_F(HttpPoolTest, OversizedBodyIsAProtocolError) {
  FakeHttpServer server(io,
                        [](const FakeRequest&) { return respond(200, std::string(5000, 'x')); });
  auto o = options();
  o.max_response_body = 1024;
  HttpPool pool(io.get_executor(), origin(server), o);
  HttpResult result;
  pool.send(get("/"), [&](HttpResult r) {
    result = std::move(r);
    server.stop();
  });
  ASSERT_TRUE(run_to_completion(io));
  ASSERT_TRUE(failed_with(result, TransportErrorKind::protocol)) << outcome(result);
  EXPECT_NE(std::get<TransportError>(result).message.find("larger than 1024"), std::string::npos);
  EXPECT_EQ(pool.open_connections(), 0u);
}

TEST_F(HttpPoolTest, ConnectionCloseFromServerIsHonoured) {
  FakeHttpServer server(io, [](const FakeRequest& r) {
    return respond(200, "c" + std::to_string(r.connection), {{"Connection", "close"}});
  });
  HttpPool pool(io.get_executor(), origin(server), options(1));
  std::vector<std::string> answers;
  pool.send(get("/1"), [&](HttpResult r) {
    answers.push_back(outcome(r));
    EXPECT_EQ(pool.open_connections(), 0u);  // dropped at once, not left idle
    pool.send(get("/2"), [&](HttpResult r2) {
      answers.push_back(outcome(r2));
      server.stop();
    });
  });
  ASSERT_TRUE(run_to_completion(io));
  EXPECT_EQ(answers, (std::vector<std::string>{"200 c1", "200 c2"}));
  EXPECT_EQ(server.connections_accepted(), 2u);
}

TEST_F(HttpPoolTest, BodyUntilEofIsReadAndTheConnectionNotReused) {
  FakeHttpServer server(io, [](const FakeRequest&) {
    return send_raw("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall of it");
  });
  HttpPool pool(io.get_executor(), origin(server), options());
  std::string result;
  pool.send(get("/"), [&](HttpResult r) {
    result = outcome(r);
    EXPECT_EQ(pool.open_connections(), 0u);
    server.stop();
  });
  ASSERT_TRUE(run_to_completion(io));
  EXPECT_EQ(result, "200 all of it");
}

TEST_F(HttpPoolTest, ChunkedBodyAndResponseHeaders) {
  FakeHttpServer server(io, [](const FakeRequest&) {
    auto action = respond(503, "{\"error_code\":\"X\"}", {{"Retry-After", "7"}});
    action.response.chunked(true);
    return action;
  });
  HttpPool pool(io.get_executor(), origin(server), options());
  HttpResult result;
  pool.send(get("/"), [&](HttpResult r) {
    result = std::move(r);
    server.stop();
  });
  ASSERT_TRUE(run_to_completion(io));
  ASSERT_TRUE(std::holds_alternative<HttpResponse>(result)) << outcome(result);
  const auto& response = std::get<HttpResponse>(result);
  EXPECT_EQ(response.status, 503u);
  EXPECT_EQ(response.body, "{\"error_code\":\"X\"}");
  EXPECT_EQ(response.headers[http::field::retry_after], "7");
}

TEST_F(HttpPoolTest, CallbacksAreNeverCalledInsideSend) {
  FakeHttpServer server(io, [](const FakeRequest&) { return respond(200, "ok"); });
  HttpPool pool(io.get_executor(), origin(server), options());
  bool inside = true;
  int calls = 0;
  pool.send(get("/"), [&](HttpResult) {
    EXPECT_FALSE(inside);
    ++calls;
    server.stop();
  });
  HttpRequest bad = get("/");
  bad.headers.emplace_back("X-Bad", "a\r\nInjected: yes");
  pool.send(std::move(bad), [&](HttpResult r) {
    EXPECT_FALSE(inside);
    EXPECT_TRUE(failed_with(r, TransportErrorKind::protocol)) << outcome(r);
    // The value may be a credential: the message names the header only.
    EXPECT_EQ(std::get<TransportError>(r).message.find("Injected"), std::string::npos);
    ++calls;
  });
  inside = false;
  ASSERT_TRUE(run_to_completion(io));
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(server.requests().size(), 1u);
}

TEST_F(HttpPoolTest, CloseFailsQueuedRequestsAndLetsInFlightFinish) {
  FakeHttpServer server(io, [](const FakeRequest&) { return respond(200, "ok").after(20ms); });
  HttpPool pool(io.get_executor(), origin(server), options(1));
  std::vector<std::string> answers;
  bool inside = true;
  for (int i = 0; i < 3; ++i) {
    pool.send(get("/"), [&](HttpResult r) {
      EXPECT_FALSE(inside);
      answers.push_back(std::holds_alternative<HttpResponse>(r) ? "ok" : "failed");
      if (answers.size() == 3) server.stop();
    });
  }
  pool.close();
  EXPECT_EQ(pool.queued(), 0u);
  pool.send(get("/"), [&](HttpResult r) {
    EXPECT_TRUE(failed_with(r, TransportErrorKind::reset)) << outcome(r);
  });
  inside = false;
  ASSERT_TRUE(run_to_completion(io));
  EXPECT_EQ(answers, (std::vector<std::string>{"failed", "failed", "ok"}));
  EXPECT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(pool.open_connections(), 0u);  // the in-flight one closed after finishing
}

TEST_F(HttpPoolTest, CloseDropsIdleConnections) {
  FakeHttpServer server(io, [](const FakeRequest&) { return respond(200, "ok"); });
  HttpPool pool(io.get_executor(), origin(server), options());
  pool.send(get("/"), [&](HttpResult r) {
    EXPECT_EQ(outcome(r), "200 ok");
    boost::asio::post(io, [&] {
      EXPECT_EQ(pool.open_connections(), 1u);
      pool.close();
      EXPECT_EQ(pool.open_connections(), 0u);
      server.stop();
    });
  });
  ASSERT_TRUE(run_to_completion(io));
}

TEST_F(HttpPoolTest, DestroyingThePoolDropsOutstandingCallbacks) {
  FakeHttpServer server(io, [](const FakeRequest&) { return hang(); });
  auto pool = std::make_unique<HttpPool>(io.get_executor(), origin(server), options(1));
  int calls = 0;
  pool->send(get("/a"), [&](HttpResult) { ++calls; });  // in flight
  pool->send(get("/b"), [&](HttpResult) { ++calls; });  // queued
  boost::asio::steady_timer later(io);
  later.expires_after(50ms);
  later.async_wait([&](auto) {
    pool.reset();
    server.stop();
  });
  ASSERT_TRUE(run_to_completion(io));
  EXPECT_EQ(calls, 0);
}

}  // namespace
}  // namespace jobwatch::upstream
