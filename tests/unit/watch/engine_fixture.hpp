// An engine on a scripted API and its own io_context, for the engine's unit
// tests: make it, watch jobs, run the loop until something holds.
#pragma once

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "jobwatch/watch/engine.hpp"
#include "scripted_api.hpp"

namespace jobwatch::watch {

// A change listener's WatchInfo, copied while it is good.
struct SeenChange {
  WatchRecord record;
  std::optional<std::uint8_t> progress;
};

class EngineFixture : public ::testing::Test {
 protected:
  static constexpr const char* project = "p1";

  void make_engine(const config::Config& c) {
    engine_ = std::make_unique<Engine>(io_.get_executor(), c, api_);
    engine_->subscribe_events([this](const Event& e) { events_.push_back(e); });
  }

  // Watches the jobs in `project`, labelled team=ops.
  std::vector<WatchInfo> watch(std::vector<std::string> jobs, uid_t uid = 1000,
                               std::optional<std::chrono::milliseconds> deadline = {}) {
    WatchRequest request;
    for (auto& j : jobs) request.jobs.push_back({project, j});
    request.labels = {{"team", "ops"}};
    request.submitter = uid;
    request.deadline = deadline;
    auto result = engine_->watch(request);
    EXPECT_TRUE(std::holds_alternative<std::vector<WatchInfo>>(result));
    return std::get<std::vector<WatchInfo>>(result);
  }

  // Like io_.run_for, also after the loop ran out of work once.
  void run_for(std::chrono::milliseconds span) {
    io_.restart();
    io_.run_for(span);
  }

  // Runs the loop until `done` holds (or 5 s pass).
  bool run_until(const std::function<bool()>& done) {
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!done()) {
      if (std::chrono::steady_clock::now() >= give_up) return false;
      run_for(std::chrono::milliseconds(5));
    }
    return true;
  }

  // Runs the loop until every named job has finished (or 5 s pass).
  bool run_until_finished(const std::vector<std::string>& jobs) {
    return run_until([&] {
      for (const auto& j : jobs)
        if (!engine_->finished({project, j})) return false;
      return true;
    });
  }

  double polls_stat(const char* key) {
    auto stats = engine_->stats();
    return stats["polls"].as_object()[key].to_number<double>();
  }

  boost::asio::io_context io_{1};
  testing::ScriptedApi api_{io_};
  std::unique_ptr<Engine> engine_;
  std::vector<Event> events_;
};

}  // namespace jobwatch::watch
