#include "jobwatch/watch/engine.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json.hpp>

#include "engine_fixture.hpp"

namespace jobwatch::watch {
namespace {

using namespace std::chrono_literals;
using testing::http_answer;
using testing::job_answer;
using testing::ScriptedApi;

config::Config fast_config() {
  config::Config c;
  c.api.rate_limit = 1000;
  c.api.max_connections = 4;
  c.poll.min_interval = 5ms;
  c.poll.max_interval = 20ms;
  c.poll.default_deadline = 10s;
  c.poll.not_found_grace = 100ms;
  return c;
}

class EngineTest : public EngineFixture {
 protected:
  void make_engine(const config::Config& c = fast_config()) { EngineFixture::make_engine(c); }

  std::vector<std::string> event_types_for(const std::string& job) const {
    std::vector<std::string> types;
    for (const auto& e : events_)
      if (e.job_id == job) types.emplace_back(type_name(e.type));
    return types;
  }
};

TEST_F(EngineTest, JobRunningThenSucceedingEmitsSubjobEventsBeforeTheJobs) {
  api_.script("j1", [](int n) {
    if (n == 0) return job_answer("j1", 3, {3, 3});
    if (n == 1) return job_answer("j1", 2, {1, 2});
    return job_answer("j1", 1, {1, 1});
  });
  make_engine();
  auto created = watch({"j1"});
  ASSERT_EQ(created.size(), 1u);
  EXPECT_TRUE(created[0].created);
  EXPECT_EQ(created[0].record->status, WatchStatus::pending);

  ASSERT_TRUE(run_until_finished({"j1"}));
  EXPECT_EQ(event_types_for("j1"),
            (std::vector<std::string>{"subjob.succeeded", "subjob.succeeded", "job.succeeded"}));
  auto done = engine_->finished({project, "j1"});
  EXPECT_EQ(done->outcome, Outcome::succeeded);
  EXPECT_EQ(done->final_event, events_.back().document);
  auto info = engine_->info({project, "j1"});
  EXPECT_EQ(info->record->polls, 3u);
  EXPECT_EQ(info->record->subjobs_total, 2u);
  EXPECT_EQ(info->record->subjobs_done, 2u);
  EXPECT_FALSE(info->record->next_poll_at.has_value());

  // Finished: no more polls, and re-watching changes nothing.
  run_for(50ms);
  EXPECT_EQ(api_.fetches("j1"), 3);
  auto again = watch({"j1"});
  EXPECT_FALSE(again[0].created);
  EXPECT_EQ(again[0].record->status, WatchStatus::succeeded);
  run_for(20ms);
  EXPECT_EQ(api_.fetches("j1"), 3);
  EXPECT_EQ(events_.size(), 3u);
}

TEST_F(EngineTest, FailedJobEndsWithJobFailed) {
  api_.script("j2", [](int) { return job_answer("j2", 0, {0}); });
  make_engine();
  watch({"j2"});
  ASSERT_TRUE(run_until_finished({"j2"}));
  EXPECT_EQ(event_types_for("j2"), (std::vector<std::string>{"subjob.failed", "job.failed"}));
  EXPECT_EQ(engine_->finished({project, "j2"})->outcome, Outcome::failed);
}

TEST_F(EngineTest, NotFoundForAWhileThenVisibleIsNotAbandoned) {
  api_.script("late", [](int n) {
    return n < 3 ? http_answer(404, R"({"error_code":"WKS.0404","error_msg":"no job"})")
                 : job_answer("late", 1);
  });
  make_engine();
  watch({"late"});
  ASSERT_TRUE(run_until_finished({"late"}));
  EXPECT_EQ(event_types_for("late"), (std::vector<std::string>{"job.succeeded"}));
}

TEST_F(EngineTest, NeverVisibleIsAbandonedAsNotFoundAfterTheGrace) {
  api_.script("ghost",
              [](int) { return http_answer(404, R"({"error_code":"WKS.0404","error_msg":"x"})"); });
  make_engine();
  const auto start = std::chrono::steady_clock::now();
  watch({"ghost"});
  ASSERT_TRUE(run_until_finished({"ghost"}));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 100ms);
  ASSERT_EQ(events_.size(), 1u);
  EXPECT_EQ(events_[0].type, EventType::watch_abandoned);
  auto doc = boost::json::parse(events_[0].document).as_object();
  EXPECT_EQ(doc["data"].as_object()["reason"], "not_found");
  EXPECT_EQ(engine_->info({project, "ghost"})->record->reason, AbandonReason::not_found);
}

TEST_F(EngineTest, ForbiddenIsAbandonedAsRejectedWithTheErrorCode) {
  api_.script("nope", [](int) {
    return http_answer(403, R"({"error_code":"WKS.0003","error_msg":"Permissions required"})");
  });
  make_engine();
  watch({"nope"});
  ASSERT_TRUE(run_until_finished({"nope"}));
  EXPECT_EQ(api_.fetches("nope"), 1);
  auto data = boost::json::parse(events_.at(0).document).as_object()["data"].as_object();
  EXPECT_EQ(data["reason"], "rejected");
  EXPECT_EQ(data["error_code"], "WKS.0003");
}

TEST_F(EngineTest, DeadlineAbandonsARunningWatch) {
  api_.script("slow", [](int) { return job_answer("slow", 2); });
  make_engine();
  watch({"slow"}, 1000, 60ms);
  ASSERT_TRUE(run_until_finished({"slow"}));
  ASSERT_EQ(events_.size(), 1u);
  auto data = boost::json::parse(events_[0].document).as_object()["data"].as_object();
  EXPECT_EQ(data["reason"], "deadline");
  EXPECT_EQ(data["previous_status"], "handling");
}

TEST_F(EngineTest, ServerErrorsAreRetriedNeverTerminal) {
  api_.script("flaky", [](int n) {
    if (n < 4) return http_answer(n % 2 ? 500 : 503);
    return job_answer("flaky", 1);
  });
  make_engine();
  watch({"flaky"});
  ASSERT_TRUE(run_until_finished({"flaky"}));
  EXPECT_EQ(event_types_for("flaky"), (std::vector<std::string>{"job.succeeded"}));
  EXPECT_EQ(api_.fetches("flaky"), 5);
}

TEST_F(EngineTest, NoMoreThanMaxConnectionsPollsInFlight) {
  auto c = fast_config();
  c.api.max_connections = 3;
  api_.set_latency(10ms);
  std::vector<std::string> jobs;
  for (int i = 0; i < 20; ++i) {
    jobs.push_back("m" + std::to_string(i));
    api_.script(jobs.back(), [id = jobs.back()](int n) { return job_answer(id, n < 2 ? 2 : 1); });
  }
  make_engine(c);
  watch(jobs);
  ASSERT_TRUE(run_until_finished(jobs));
  EXPECT_EQ(api_.max_in_flight(), 3);
}

TEST_F(EngineTest, SharedRateLimitBoundsPollsPerSecond) {
  auto c = fast_config();
  c.api.rate_limit = 50;  // bucket of 50, refilled at 50/s
  c.api.max_connections = 64;
  std::vector<std::string> jobs;
  for (int i = 0; i < 100; ++i) {
    jobs.push_back("r" + std::to_string(i));
    api_.script(jobs.back(), [id = jobs.back()](int) { return job_answer(id, 1); });
  }
  make_engine(c);
  const auto start = std::chrono::steady_clock::now();
  watch(jobs);
  ASSERT_TRUE(run_until_finished(jobs));
  // 100 polls at 50/s with a burst of 50 take at least ~1 s.
  EXPECT_GE(api_.fetch_times().back() - start, 900ms);
}

TEST_F(EngineTest, CancelOnlyBySubmitterOrRoot) {
  api_.script("c1", [](int) { return job_answer("c1", 2); });
  make_engine();
  watch({"c1"}, 1000);
  while (api_.fetches("c1") < 2) run_for(5ms);
  auto denied = engine_->cancel({{project, "c1"}}, 1001);
  if (::geteuid() != 1001) {
    ASSERT_TRUE(std::holds_alternative<CancelFailure>(denied));
    EXPECT_EQ(std::get<CancelFailure>(denied).kind, CancelFailure::Kind::permission_denied);
  }
  auto missing = engine_->cancel({{project, "zz"}}, 0);
  EXPECT_EQ(std::get<CancelFailure>(missing).kind, CancelFailure::Kind::not_watched);
  auto ok = engine_->cancel({{project, "c1"}}, 1000);
  ASSERT_TRUE(std::holds_alternative<std::vector<JobRef>>(ok));
  const int polls = api_.fetches("c1");
  run_for(50ms);
  EXPECT_EQ(api_.fetches("c1"), polls) << "a cancelled watch is not polled again";
  EXPECT_FALSE(engine_->info({project, "c1"}).has_value());
  EXPECT_TRUE(events_.empty()) << "cancel emits nothing";
}

TEST_F(EngineTest, LimitReachedCreatesNothing) {
  auto c = fast_config();
  c.control.max_watches = 2;
  make_engine(c);
  watch({"a", "b"});
  WatchRequest more;
  more.jobs = {{project, "c"}};
  auto result = engine_->watch(more);
  ASSERT_TRUE(std::holds_alternative<EngineError>(result));
  EXPECT_EQ(std::get<EngineError>(result), EngineError::limit_reached);
  EXPECT_EQ(engine_->list().size(), 2u);
}

TEST_F(EngineTest, StatsCountPollsByAnswerAndHttpStatus) {
  api_.script("s1", [](int n) { return n == 0 ? http_answer(500) : job_answer("s1", 1); });
  make_engine();
  watch({"s1"});
  ASSERT_TRUE(run_until_finished({"s1"}));
  auto stats = engine_->stats();
  auto& polls = stats["polls"].as_object();
  EXPECT_EQ(polls["total"].to_number<int>(), 2);
  EXPECT_EQ(polls["by_http_status"].as_object()["500"].to_number<int>(), 1);
  EXPECT_EQ(polls["by_http_status"].as_object()["200"].to_number<int>(), 1);
  EXPECT_EQ(stats["watches"].as_object()["succeeded"].to_number<int>(), 1);
  EXPECT_EQ(stats["events_emitted"].as_object()["job.succeeded"].to_number<int>(), 1);
}

TEST_F(EngineTest, ChangeListenersSeeProgress) {
  api_.script("p", [](int n) { return job_answer("p", n < 2 ? 2 : 1, {n < 1 ? 2 : 1, 2}); });
  make_engine();
  // Copied at the call: a WatchInfo is a look at the watch as it is now.
  std::vector<SeenChange> changes;
  engine_->subscribe_changes([&](const WatchInfo& info) {
    changes.push_back({*info.record, info.progress});
  });
  watch({"p"});
  ASSERT_TRUE(run_until_finished({"p"}));
  ASSERT_GE(changes.size(), 3u);
  EXPECT_EQ(changes.front().record.status, WatchStatus::handling);
  EXPECT_EQ(changes.back().record.status, WatchStatus::succeeded);
}

}  // namespace
}  // namespace jobwatch::watch

namespace jobwatch::watch {
namespace {

// The API is the watch's: every poll names it, and its answers are read by
// that API's mapping (here a desktop-v2 body with string statuses).
TEST_F(EngineTest, PollsNameTheWatchsApiAndTrackV2Statuses) {
  const std::string running = R"({"id": "d1", "job_type": "createDesktops", "status": "RUNNING",
    "sub_jobs_total": 2, "sub_jobs": [
      {"id": "s1", "status": "ROLLBACK", "process": 30}, {"id": "s2", "status": "RUNNING", "process": 50}]})";
  const std::string ended = R"({"id": "d1", "job_type": "createDesktops", "status": "FAILED",
    "job_error_code": "WKS.0040", "fail_reason": "desktop creation failed",
    "end_time": "2026-11-28T12:00:00.250Z", "sub_jobs_total": 2, "sub_jobs": [
      {"id": "s1", "status": "FAILED", "error_code": "WKS.1", "fail_reason": "rolled back"},
      {"id": "s2", "status": "SUCCESS", "process": 100}]})";
  api_.script("d1", [&](int n) {
    return upstream::classify_response(200, "", n == 0 ? running : ended,
                                       std::chrono::system_clock::now(), model::Api::desktop_v2);
  });
  make_engine();
  WatchRequest request;
  request.jobs = {{{project, "d1"}, model::Api::desktop_v2}};
  ASSERT_TRUE(std::holds_alternative<std::vector<WatchInfo>>(engine_->watch(request)));
  // Copied at the call: a WatchInfo is a look at the watch as it is now.
  std::vector<SeenChange> changes;
  engine_->subscribe_changes([&](const WatchInfo& info) {
    changes.push_back({*info.record, info.progress});
  });
  ASSERT_TRUE(run_until_finished({"d1"}));
  EXPECT_EQ(api_.api_of("d1"), model::Api::desktop_v2);
  ASSERT_GE(changes.size(), 2u);
  EXPECT_EQ(changes.front().record.status, WatchStatus::handling);
  EXPECT_EQ(changes.front().progress, 40);
  EXPECT_EQ(changes.front().record.job_type, "createDesktops");
  EXPECT_EQ(changes.front().record.subjobs_total, 2u);
  const auto info = *engine_->info({project, "d1"});
  EXPECT_EQ(info.record->api, model::Api::desktop_v2);
  EXPECT_EQ(info.record->status, WatchStatus::failed);
  EXPECT_EQ(info.progress, 100);

  ASSERT_EQ(events_.size(), 3u);
  EXPECT_EQ(events_[0].type, EventType::subjob_failed);
  EXPECT_EQ(events_[1].type, EventType::subjob_succeeded);
  EXPECT_EQ(events_[2].type, EventType::job_failed);
  const auto doc = boost::json::parse(events_[2].document).as_object();
  const auto& data = doc.at("data").as_object();
  EXPECT_EQ(data.at("api"), "desktop-v2");
  EXPECT_EQ(data.at("job_type"), "createDesktops");
  EXPECT_EQ(data.at("status"), "failed");
  EXPECT_EQ(data.at("status_code"), 0);
  EXPECT_EQ(data.at("upstream_status"), "FAILED");
  EXPECT_EQ(data.at("previous_status"), "handling");
  EXPECT_EQ(data.at("execute_code"), "WKS.0040");
  EXPECT_EQ(data.at("execute_message"), "desktop creation failed");
  const auto sub = boost::json::parse(events_[0].document).at("data").as_object();
  EXPECT_EQ(sub.at("upstream_status"), "FAILED");
  EXPECT_EQ(sub.at("previous_status"), "handling");  // ROLLBACK means handling
  EXPECT_EQ(sub.at("execute_code"), "WKS.1");
  EXPECT_EQ(sub.at("execute_message"), "rolled back");
}

// An undocumented status is a protocol error for that poll: last_error says
// so, the watch is polled again and nothing ends.
TEST_F(EngineTest, UndocumentedStatusIsPolledAgain) {
  api_.script("u", [](int n) {
    const std::string body =
        n < 2 ? R"({"id": "u", "status": "PAUSED"})" : R"({"id": "u", "status": "SUCCESS"})";
    return upstream::classify_response(200, "", body, std::chrono::system_clock::now(),
                                       model::Api::app_v2);
  });
  make_engine();
  WatchRequest request;
  request.jobs = {{{project, "u"}, model::Api::app_v2}};
  ASSERT_TRUE(std::holds_alternative<std::vector<WatchInfo>>(engine_->watch(request)));
  ASSERT_TRUE(run_until([&] {
    return api_.fetches("u") >= 1 && !engine_->info({project, "u"})->record->last_error.empty();
  }));
  EXPECT_NE(engine_->info({project, "u"})->record->last_error.find("unknown value \"PAUSED\""),
            std::string::npos);
  EXPECT_FALSE(engine_->finished({project, "u"}));
  ASSERT_TRUE(run_until_finished({"u"}));
  EXPECT_EQ(api_.fetches("u"), 3);
  ASSERT_EQ(events_.size(), 1u);
  EXPECT_EQ(events_[0].type, EventType::job_succeeded);
  EXPECT_TRUE(engine_->info({project, "u"})->record->last_error.empty());
}

}  // namespace
}  // namespace jobwatch::watch
