// render_request: the bytes a connection writes, read back by Beast's own
// request parser, as a server would read them.
#include "jobwatch/upstream/request_text.hpp"

#include <gtest/gtest.h>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

namespace jobwatch::upstream {
namespace {

namespace http = boost::beast::http;

http::request<http::string_body> parsed(const std::string& text) {
  http::request_parser<http::string_body> parser;
  parser.eager(true);
  boost::beast::error_code ec;
  std::size_t used = 0;
  while (!parser.is_done() && used < text.size() && !ec)
    used += parser.put(boost::asio::buffer(text.data() + used, text.size() - used), ec);
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_TRUE(parser.is_done());
  EXPECT_EQ(used, text.size());  // nothing left over: one request, exactly
  return parser.release();
}

TEST(RenderRequest, AGetWithTheHostAgentAndHeaders) {
  HttpRequest request;
  request.target = "/v1/p1/job/j1";
  request.headers = {{"X-Auth-Token", "t0ken"}, {"Accept", "application/json"}};
  std::string out;
  render_request(out, request, "api.example:8443", "jobwatch/1");
  EXPECT_EQ(out.rfind("GET /v1/p1/job/j1 HTTP/1.1\r\n", 0), 0u);
  const auto message = parsed(out);
  EXPECT_EQ(message.method(), http::verb::get);
  EXPECT_EQ(message.target(), "/v1/p1/job/j1");
  EXPECT_EQ(message.version(), 11);
  EXPECT_EQ(message[http::field::host], "api.example:8443");
  EXPECT_EQ(message[http::field::user_agent], "jobwatch/1");
  EXPECT_EQ(message["X-Auth-Token"], "t0ken");
  EXPECT_EQ(message[http::field::accept], "application/json");
  EXPECT_EQ(message[http::field::connection], "keep-alive");
  EXPECT_EQ(message.count(http::field::content_length), 0u);  // a GET carries no body
  EXPECT_TRUE(message.body().empty());
}

TEST(RenderRequest, APostCarriesItsLengthAndBody) {
  HttpRequest request;
  request.method = http::verb::post;
  request.target = "/v3/auth/tokens";
  request.body = R"({"auth":{}})";
  std::string out = "left over from the last request";
  render_request(out, request, "iam.example", "");
  const auto message = parsed(out);
  EXPECT_EQ(message.method(), http::verb::post);
  EXPECT_EQ(message[http::field::content_length], "11");
  EXPECT_EQ(message.body(), R"({"auth":{}})");
  EXPECT_EQ(message.count(http::field::user_agent), 0u);

  request.body.clear();  // an empty POST still says so
  render_request(out, request, "iam.example", "");
  EXPECT_EQ(parsed(out)[http::field::content_length], "0");
}

TEST(RenderRequest, TheRequestsOwnHostWinsAndNoValueStartsAHeader) {
  HttpRequest request;
  request.target = "/";
  request.headers = {{"host", "signed.example"}, {"X-Note", "a\r\nX-Injected: yes"}};
  std::string out;
  render_request(out, request, "pool.example", "ua");
  const auto message = parsed(out);
  EXPECT_EQ(message.count(http::field::host), 1u);
  EXPECT_EQ(message[http::field::host], "signed.example");
  EXPECT_EQ(message.count("X-Injected"), 0u);
  EXPECT_EQ(message["X-Note"], "a  X-Injected: yes");
}

}  // namespace
}  // namespace jobwatch::upstream
