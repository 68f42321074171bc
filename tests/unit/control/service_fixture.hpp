// A real Engine driven by FakeJobApi, the Service on top, and helpers to
// run the loop until replies arrive.
#pragma once

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "fake_job_api.hpp"
#include "jobwatch/control/service.hpp"
#include "jobwatch/watch/engine.hpp"

namespace jobwatch::control::test {

inline config::Config fast_config() {
  config::Config config;
  config.api.project_id = "proj";
  config.api.rate_limit = 10'000;
  config.poll.min_interval = std::chrono::milliseconds(10);
  config.poll.max_interval = std::chrono::milliseconds(20);
  config.poll.not_found_grace = std::chrono::milliseconds(30'000);
  return config;
}

struct Recorded {
  std::vector<Reply> replies;
  std::unique_ptr<ActiveCall> handle;
  bool finished() const { return !replies.empty() && !replies.back().continues; }
  const Reply& last() const { return replies.back(); }
};

class ServiceFixture : public ::testing::Test {
 protected:
  explicit ServiceFixture(config::Config config = fast_config())
      : config_(std::move(config)),
        api_(io_.get_executor()),
        engine_(io_.get_executor(), config_, api_),
        service_(io_.get_executor(), engine_, config_, [] {
          return boost::json::object{{"engine", boost::json::object{{"x", 1}}}};
        }) {}

  ~ServiceFixture() override { engine_.stop(); }

  std::shared_ptr<Recorded> call(std::string method, std::string_view params = "{}",
                                 uid_t uid = 1000, bool more = false) {
    auto rec = std::make_shared<Recorded>();
    Call c{std::move(method), boost::json::parse(params).as_object(), more, false};
    std::weak_ptr<Recorded> weak = rec;
    rec->handle = service_.call(c, Peer{uid}, [weak](Reply reply) {
      // A pieced reply (List) is read back as the peer would see it.
      if (reply.pieces) {
        std::string message = encode(reply);
        message.pop_back();  // the NUL
        reply = parse_reply(message).value();
      }
      if (auto r = weak.lock()) r->replies.push_back(std::move(reply));
    });
    return rec;
  }

  // `count` watches job-0 … job-(count-1) in "proj", straight into the
  // engine (a Watch call that large would exceed max_message).
  void watch_many(int count) {
    watch::WatchRequest request;
    for (int i = 0; i < count; ++i)
      request.jobs.push_back({{"proj", "job-" + std::to_string(i)}, model::Api::app_v1});
    ASSERT_TRUE(std::holds_alternative<std::vector<watch::WatchInfo>>(engine_.watch(request)));
  }

  // Runs the loop until `done` or `limit` passes (a generous bound for a
  // hung test, not a speed assertion).
  bool run_until(const std::function<bool()>& done,
                 std::chrono::milliseconds limit = std::chrono::seconds(10)) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (!done()) {
      if (std::chrono::steady_clock::now() > end) return false;
      step();
    }
    return true;
  }

  void run_for(std::chrono::milliseconds d) {
    const auto end = std::chrono::steady_clock::now() + d;
    while (std::chrono::steady_clock::now() < end) {
      step();
    }
  }

  void step() {
    io_.restart();
    if (io_.run_one_for(std::chrono::milliseconds(5)) == 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }

  boost::asio::io_context io_{1};
  config::Config config_;
  FakeJobApi api_;
  watch::Engine engine_;
  Service service_;
};

}  // namespace jobwatch::control::test
