// SwappableJobApi: a reload's new upstream client takes the next polls while
// the old one finishes those it has out, and goes away after the last.
#include "jobwatch/daemon/swappable_api.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "jobwatch/config/config.hpp"
#include "upstream/fake_http_server.hpp"
#include "upstream/test_support.hpp"

namespace jobwatch::daemon {
namespace {

using namespace std::chrono_literals;
using testing::FakeHttpServer;
using testing::FakeRequest;
using testing::respond_json;
using testing::run_to_completion;

constexpr const char* job_body = R"({"job": {"job_id": "j", "job_type": 1, "job_status": 2}})";

std::unique_ptr<upstream::HttpJobApi> client_for(boost::asio::io_context& io,
                                                 const FakeHttpServer& server) {
  config::ApiConfig api;
  api.endpoint = server.url();
  api.auth.type = config::AuthType::none;
  auto made = upstream::HttpJobApi::create(io.get_executor(), api);
  EXPECT_TRUE(std::holds_alternative<std::unique_ptr<upstream::HttpJobApi>>(made));
  return std::move(std::get<std::unique_ptr<upstream::HttpJobApi>>(made));
}

TEST(SwappableJobApi, NewPollsGoToTheNewClientWhileTheOldOneFinishes) {
  boost::asio::io_context io{1};
  // The old gateway answers its one poll late; the new one at once.
  FakeHttpServer old_server(
      io, [](const FakeRequest&) { return respond_json(200, job_body).after(300ms); });
  FakeHttpServer new_server(io, [](const FakeRequest&) { return respond_json(200, job_body); });
  SwappableJobApi api(io.get_executor(), client_for(io, old_server));

  std::vector<std::string> answered;
  auto stop_when_both = [&] {
    if (answered.size() < 2) return;
    old_server.stop();
    new_server.stop();
  };
  api.fetch(model::Api::app_v1, "p", "old", [&](upstream::Answer a) {
    EXPECT_EQ(a.kind, upstream::AnswerKind::ok) << a.describe();
    answered.push_back("old");
    stop_when_both();
  });
  api.replace(client_for(io, new_server));
  EXPECT_EQ(api.retired(), 1u);  // its poll is still out
  api.fetch(model::Api::app_v1, "p", "new", [&](upstream::Answer a) {
    EXPECT_EQ(a.kind, upstream::AnswerKind::ok) << a.describe();
    answered.push_back("new");
    stop_when_both();
  });
  EXPECT_TRUE(run_to_completion(io));
  EXPECT_EQ(answered, (std::vector<std::string>{"new", "old"}));
  EXPECT_EQ(old_server.requests().size(), 1u);
  EXPECT_EQ(new_server.requests().size(), 1u);
  EXPECT_EQ(api.retired(), 0u);  // released after its last answer
}

TEST(SwappableJobApi, AnIdleClientIsReleasedAtOnce) {
  boost::asio::io_context io{1};
  FakeHttpServer server(io, [](const FakeRequest&) { return respond_json(200, job_body); });
  SwappableJobApi api(io.get_executor(), client_for(io, server));
  api.replace(client_for(io, server));
  EXPECT_EQ(api.retired(), 0u);
  bool done = false;
  api.fetch(model::Api::app_v1, "p", "j", [&](upstream::Answer a) {
    EXPECT_EQ(a.kind, upstream::AnswerKind::ok) << a.describe();
    done = true;
    server.stop();
  });
  EXPECT_TRUE(run_to_completion(io));
  EXPECT_TRUE(done);
}

}  // namespace
}  // namespace jobwatch::daemon
