// The replay trace (docs/TRACE-FORMAT.md): finished watches to jobs in the
// API's clock, then to JSON objects with seconds from the trace's start.
#include "jobwatch/watch/trace.hpp"

#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>

namespace jobwatch::watch {
namespace {

using namespace std::chrono_literals;
namespace json = boost::json;

model::WallTime at(const char* rfc3339) {
  return *model::parse_rfc3339(rfc3339);
}

Watch ended_watch(model::Api api, std::string job_type, WatchStatus state, const char* created,
                  std::string last_job_json) {
  Watch w;
  w.job = {api == model::Api::app_v1 ? "p1" : "p2", "j"};
  w.api = api;
  w.job_type = std::move(job_type);
  w.status = state;
  w.created_at = at(created);
  w.unsaved_answer = std::move(last_job_json);
  return w;
}

// An app-v1 job that ran 10:00:10-10:01:40 (estimate 10:01:30) with a
// subjob of each ending and one left running.
Watch app_v1_watch(WatchStatus state = WatchStatus::succeeded) {
  return ended_watch(
      model::Api::app_v1, "1", state, "2026-01-01T10:00:00Z",
      R"({"job_id":"j1","job_type":1,"job_status":1,"begin_time":"2026-01-01T10:00:10Z",)"
      R"("end_time":"2026-01-01T10:01:40Z","expected_end_time":"2026-01-01T10:01:30Z",)"
      R"("sub_jobs":[{"job_id":"s1","job_status":1,"end_time":"2026-01-01T10:01:00Z"},)"
      R"({"job_id":"s2","job_status":0,"end_time":"2026-01-01T10:01:20.5Z"},)"
      R"({"job_id":"s3","job_status":2}]})");
}

// An app-v2 job (no estimate, no subjobs) that failed, watched after it began.
Watch app_v2_watch() {
  return ended_watch(
      model::Api::app_v2, "CREATE_SERVER", WatchStatus::failed, "2026-01-01T10:00:30Z",
      R"({"id":"j2","job_type":"CREATE_SERVER","status":"FAILED",)"
      R"("begin_time":"2026-01-01T09:59:55.250Z","end_time":"2026-01-01T10:00:45Z"})");
}

// The watch holds its answer, as in an engine without a journal.
std::optional<TraceJob> trace_of(const Watch& w, std::chrono::milliseconds api_clock_offset) {
  return trace_job(w, w.unsaved_answer, api_clock_offset);
}

TEST(TraceJob, TheTimesOfTheLastAnswerAndTheSubjobsThatEnded) {
  const auto job = trace_of(app_v1_watch(), 0ms);
  ASSERT_TRUE(job);
  EXPECT_EQ(job->project_id, "p1");
  EXPECT_EQ(job->api, model::Api::app_v1);
  EXPECT_EQ(job->job_type, "1");
  EXPECT_EQ(job->submitted_at, at("2026-01-01T10:00:00Z"));
  EXPECT_EQ(job->begin_at, at("2026-01-01T10:00:10Z"));
  EXPECT_EQ(job->expected_end_at, at("2026-01-01T10:01:30Z"));
  EXPECT_EQ(job->end_at, at("2026-01-01T10:01:40Z"));
  EXPECT_TRUE(job->succeeded);
  ASSERT_EQ(job->subjobs.size(), 2u);  // s3 never ended
  EXPECT_EQ(job->subjobs[0].end_at, at("2026-01-01T10:01:00Z"));
  EXPECT_TRUE(job->subjobs[0].succeeded);
  EXPECT_EQ(job->subjobs[1].end_at, at("2026-01-01T10:01:20.5Z"));
  EXPECT_FALSE(job->subjobs[1].succeeded);
}

TEST(TraceJob, TheSubmissionIsTakenToTheApisClock) {
  // Our clock an hour behind the API's: created_at reads an hour early.
  Watch w = app_v1_watch();
  w.created_at -= 1h;
  const auto job = trace_of(w, 1h);
  ASSERT_TRUE(job);
  EXPECT_EQ(job->submitted_at, at("2026-01-01T10:00:00Z"));
}

TEST(TraceJob, OnlyJobsSeenToEndWithBothTimes) {
  EXPECT_FALSE(trace_of(app_v1_watch(WatchStatus::abandoned), 0ms));
  EXPECT_FALSE(trace_of(app_v1_watch(WatchStatus::handling), 0ms));
  Watch no_end = app_v2_watch();
  no_end.unsaved_answer = R"({"id":"j2","status":"FAILED","begin_time":"2026-01-01T10:00:00Z"})";
  EXPECT_FALSE(trace_of(no_end, 0ms));
  Watch backwards = app_v2_watch();
  backwards.unsaved_answer = R"({"id":"j2","status":"FAILED","begin_time":"2026-01-01T10:00:00Z",)"
                             R"("end_time":"2026-01-01T09:00:00Z"})";
  EXPECT_FALSE(trace_of(backwards, 0ms));
  Watch garbage = app_v2_watch();
  garbage.unsaved_answer = "not json";
  EXPECT_FALSE(trace_of(garbage, 0ms));
  EXPECT_TRUE(trace_of(app_v2_watch(), 0ms));
}

TEST(TraceJson, SecondsFromTheEarliestSubmissionOrBeginInOrderOfSubmission) {
  // The v2 job began (09:59:55.25) before anything was submitted: t = 0.
  const auto lines = trace_json({*trace_of(app_v2_watch(), 0ms), *trace_of(app_v1_watch(), 0ms)});
  ASSERT_EQ(lines.size(), 2u);
  const json::object& first = lines[0].as_object();  // submitted 10:00:00
  EXPECT_EQ(first.at("project_id"), "p1");
  EXPECT_EQ(first.at("api"), "app-v1");
  EXPECT_EQ(first.at("job_type"), "1");
  EXPECT_DOUBLE_EQ(first.at("submitted_at").as_double(), 4.75);
  EXPECT_DOUBLE_EQ(first.at("begin_at").as_double(), 14.75);
  EXPECT_DOUBLE_EQ(first.at("expected_end_at").as_double(), 94.75);
  EXPECT_DOUBLE_EQ(first.at("end_at").as_double(), 104.75);
  EXPECT_EQ(first.at("outcome"), "succeeded");
  const json::array& subjobs = first.at("subjobs").as_array();
  ASSERT_EQ(subjobs.size(), 2u);
  EXPECT_DOUBLE_EQ(subjobs[0].at("end_at").as_double(), 64.75);
  EXPECT_EQ(subjobs[0].at("outcome"), "succeeded");
  EXPECT_DOUBLE_EQ(subjobs[1].at("end_at").as_double(), 85.25);
  EXPECT_EQ(subjobs[1].at("outcome"), "failed");

  const json::object& second = lines[1].as_object();  // submitted 10:00:30, after it began
  EXPECT_EQ(second.at("api"), "app-v2");
  EXPECT_EQ(second.at("job_type"), "CREATE_SERVER");
  EXPECT_DOUBLE_EQ(second.at("submitted_at").as_double(), 34.75);
  EXPECT_DOUBLE_EQ(second.at("begin_at").as_double(), 0);
  EXPECT_TRUE(second.at("expected_end_at").is_null());
  EXPECT_DOUBLE_EQ(second.at("end_at").as_double(), 49.75);
  EXPECT_EQ(second.at("outcome"), "failed");
  EXPECT_FALSE(second.contains("subjobs"));
}

TEST(TraceJson, NoJobsNoLines) {
  EXPECT_TRUE(trace_json({}).empty());
}

}  // namespace
}  // namespace jobwatch::watch
