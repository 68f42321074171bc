// What a finished job teaches (SPEC §7): its duration and estimate from the
// API's times, and the seeding of models from finished watches.
#include "jobwatch/watch/timing.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <map>

namespace jobwatch::watch {
namespace {

model::WallTime at(const char* rfc3339) {
  return *model::parse_rfc3339(rfc3339);
}

TEST(JobTiming, DurationAndEstimateFromTheTimes) {
  auto t = job_timing("2026-01-01T10:00:00Z", "2026-01-01T10:05:30Z", at("2026-01-01T10:04:00Z"));
  ASSERT_TRUE(t);
  EXPECT_DOUBLE_EQ(t->duration_s, 330);
  ASSERT_TRUE(t->expected_duration_s);
  EXPECT_DOUBLE_EQ(*t->expected_duration_s, 240);
}

TEST(JobTiming, NothingWithoutBothTimesOrWithAnEndBeforeTheBegin) {
  EXPECT_FALSE(job_timing(std::nullopt, "2026-01-01T10:05:30Z", std::nullopt));
  EXPECT_FALSE(job_timing("2026-01-01T10:00:00Z", std::nullopt, std::nullopt));
  EXPECT_FALSE(job_timing("yesterday", "2026-01-01T10:05:30Z", std::nullopt));
  EXPECT_FALSE(job_timing("2026-01-01T10:00:00Z", "2026-01-01T09:59:59Z", std::nullopt));
}

TEST(JobTiming, AnEstimateNotAfterTheBeginIsLeftOut) {
  auto t = job_timing("2026-01-01T10:00:00Z", "2026-01-01T10:00:10Z", at("2026-01-01T10:00:00Z"));
  ASSERT_TRUE(t);
  EXPECT_FALSE(t->expected_duration_s);
}

TEST(JobTiming, FromTheJobObjectAsReceived) {
  auto t = job_timing_of_json(
      R"({"job_id":"j","begin_time":"2026-01-01T10:00:00Z","end_time":"2026-01-01T10:00:42Z",)"
      R"("expected_end_time":"2026-01-01T10:00:40Z"})");
  ASSERT_TRUE(t);
  EXPECT_DOUBLE_EQ(t->duration_s, 42);
  EXPECT_DOUBLE_EQ(*t->expected_duration_s, 40);
  EXPECT_FALSE(job_timing_of_json(R"({"job_id":"j","begin_time":"2026-01-01T10:00:00Z"})"));
  EXPECT_FALSE(job_timing_of_json("not json"));
  EXPECT_FALSE(job_timing_of_json(""));
}

// A host clock an hour behind the API's, with that offset known, predicts
// exactly what a correct clock does: the age is read in the API's clock.
TEST(PredictEnd, AHostClockAnHourOffGivesTheSamePredictionWithTheOffsetKnown) {
  using namespace std::chrono_literals;
  schedule::TimingModels models;
  schedule::TimingModel& m = models.get({"app-v1", "p", "1"});
  for (int i = 0; i < 200; ++i) m.observe_job(100 * std::exp(0.03 * std::sin(i * 1.7)), {});
  model::JobSnapshot job;
  job.begin_time = "2026-01-01T10:00:00Z";
  const model::WallTime begin = at("2026-01-01T10:00:00Z");
  Watch right;
  right.job = {"p", "j"};
  right.api = model::Api::app_v1;
  right.job_type = "1";
  right.created_at = begin + 10s;  // watched 10 s after the job began
  Watch behind = right;
  behind.created_at = right.created_at - 1h;

  const auto a = predict_end(right, job, models, begin + 40s);
  const auto b = predict_end(behind, job, models, begin + 40s - 1h, 1h);
  ASSERT_TRUE(a && b);
  EXPECT_DOUBLE_EQ(a->age_s, 40);
  EXPECT_DOUBLE_EQ(b->age_s, a->age_s);
  ASSERT_TRUE(a->end && b->end);
  EXPECT_EQ(*b->end, *a->end);
  for (double p : {0.1, 0.5, 0.9}) EXPECT_DOUBLE_EQ(b->plan_on.quantile(p), a->plan_on.quantile(p));

  // Without the offset the job would look not begun yet.
  const auto unaware = predict_end(behind, job, models, begin + 40s - 1h);
  ASSERT_TRUE(unaware);
  EXPECT_DOUBLE_EQ(unaware->age_s, 0);
}

// As a restore has them: the answers are in the store (`stored`, by job_id),
// not in the watches.
Watch finished_watch(std::map<std::string, std::string>& stored, std::string project,
                     std::string job_type, WatchStatus state, int seconds,
                     std::int64_t finished_ms) {
  Watch w;
  w.job = {std::move(project), "j" + std::to_string(finished_ms)};
  w.api = model::Api::app_v2;
  w.job_type = std::move(job_type);
  w.status = state;
  w.seen = true;
  w.finished_at = model::WallTime(std::chrono::milliseconds(finished_ms));
  stored[w.job.job_id] = R"({"begin_time":"2026-01-01T10:00:00Z","end_time":"2026-01-01T10:00:)" +
                         std::string(seconds < 10 ? "0" : "") + std::to_string(seconds) + R"(Z"})";
  return w;
}

TEST(SeedTimingModels, FinishedJobsTeachTheirKeys) {
  std::map<std::string, std::string> stored;
  std::vector<Watch> watches;
  for (int i = 0; i < 6; ++i)
    watches.push_back(
        finished_watch(stored, "p", "createApp", WatchStatus::succeeded, 20 + i, 1000 + i));
  watches.push_back(finished_watch(stored, "p", "deleteApp", WatchStatus::failed, 5, 2000));
  watches.push_back(
      finished_watch(stored, "q", "createApp", WatchStatus::abandoned, 5, 3000));  // not seen
  Watch running = finished_watch(stored, "q", "createApp", WatchStatus::handling, 5, 0);
  watches.push_back(running);
  Watch no_times = finished_watch(stored, "r", "createApp", WatchStatus::succeeded, 5, 4000);
  stored[no_times.job.job_id] = R"({"job_id":"x"})";
  watches.push_back(no_times);

  const schedule::TimingModels models =
      seed_timing_models(watches, [&stored](const JobRef& job) { return stored[job.job_id]; });
  ASSERT_EQ(models.size(), 1u);
  const schedule::TimingModel* create = models.find({"app-v2", "p", "createApp"});
  ASSERT_TRUE(create);
  EXPECT_EQ(create->jobs(), 6u);
  EXPECT_NEAR(*create->quantile(0.5), 22.5, 2.0);
  // A failure says when a job broke, not when such jobs end: max_interval,
  // not the window, is what sees failures (docs/POLL-TIMING.md).
  EXPECT_FALSE(models.find({"app-v2", "p", "deleteApp"}));
  EXPECT_FALSE(models.find({"app-v2", "q", "createApp"}));
}

}  // namespace
}  // namespace jobwatch::watch
