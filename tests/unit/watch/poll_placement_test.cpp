// apply_answer with a timing model (SPEC §7): a running job whose key has
// history is polled at target_delay where its end is likely and up to
// max_interval before; with neither history nor estimate, exactly the capped backoff.
#include <gtest/gtest.h>

#include <cmath>

#include "jobwatch/model/time.hpp"
#include "jobwatch/schedule/poll_policy.hpp"
#include "jobwatch/watch/poll_step.hpp"
#include "scripted_api.hpp"

namespace jobwatch::watch {
namespace {

using namespace std::chrono_literals;
using std::chrono::milliseconds;
using testing::timed_job_answer;

const model::WallTime kBegin = *model::parse_rfc3339("2026-01-01T10:00:00Z");
constexpr const char* kBeginText = "2026-01-01T10:00:00Z";

config::PollConfig poll_config() {
  config::PollConfig poll;
  poll.target_delay = 1s;
  poll.min_interval = 200ms;
  poll.max_interval = 10s;
  poll.default_deadline = 24h;
  return poll;
}

Watch running_watch() {
  Watch w;
  w.job = {"p", "j"};
  w.api = model::Api::app_v1;
  w.job_type = "1";
  w.created_at = kBegin;
  w.deadline_at = kBegin + 24h;
  w.status = WatchStatus::handling;
  return w;
}

// 200 jobs of 100 s ± 3 %: the end is likely within a few seconds of 100 s.
schedule::TimingModels hundred_second_jobs() {
  schedule::TimingModels models;
  schedule::TimingModel& m = models.get({"app-v1", "p", "1"});
  for (int i = 0; i < 200; ++i) m.observe_job(100 * std::exp(0.03 * std::sin(i * 1.7)), {});
  return models;
}

StepResult poll_at(Watch& w, double age_s, const schedule::TimingModels* models,
                   const std::string& expected_end_time = "") {
  const model::WallTime now = kBegin + milliseconds(static_cast<long>(age_s * 1000));
  return apply_answer(w, timed_job_answer("j", 2, kBeginText, "", expected_end_time), poll_config(),
                      now, 0.5, models);
}

TEST(PollPlacement, MaxIntervalLongBeforeTheEndTargetDelayNearIt) {
  const auto models = hundred_second_jobs();
  Watch w = running_watch();
  EXPECT_EQ(poll_at(w, 10, &models).next_gap, 10s);  // long before: max_interval
  EXPECT_EQ(poll_at(w, 50, &models).next_gap, 10s);
  ASSERT_TRUE(w.predicted_end);
  EXPECT_NEAR(std::chrono::duration<double>(w.predicted_end->p50 - kBegin).count(), 100, 12);
  EXPECT_LT(w.predicted_end->p10, w.predicted_end->p50);
  EXPECT_LT(w.predicted_end->p50, w.predicted_end->p90);
  EXPECT_EQ(poll_at(w, 99, &models).next_gap, 1s);  // inside: target_delay
  EXPECT_EQ(poll_at(w, 101, &models).next_gap, 1s);
  EXPECT_EQ(w.backoff_step, 0);
}

TEST(PollPlacement, EveryGapWithinTheBoundsAndTheEndSeenWithinTargetDelay) {
  const auto models = hundred_second_jobs();
  Watch w = running_watch();
  double age = 0;
  std::vector<double> polls;
  while (age < 200) {
    polls.push_back(age);
    const milliseconds gap = poll_at(w, age, &models).next_gap;
    EXPECT_GE(gap, 200ms);
    EXPECT_LE(gap, 10s);
    age += std::chrono::duration<double>(gap).count();
  }
  // Ends between 97 and 103 s are seen within target_delay (plus rounding).
  for (double end = 97; end <= 103; end += 0.25) {
    const auto seen = std::find_if(polls.begin(), polls.end(), [&](double t) { return t >= end; });
    ASSERT_NE(seen, polls.end());
    EXPECT_LE(*seen - end, 1.01) << "end at " << end;
  }
  EXPECT_LT(polls.size(), 60u);  // a fixed 1 s loop would poll ~100 times by 100 s
}

// app-v1's times are whole seconds: a job learned to end at 100 s really
// ends in [100 s, 101 s), so the second after the window is covered too.
TEST(PollPlacement, WholeSecondTimesKeepTheWindowUpOneSecondLonger) {
  schedule::TimingModels models;
  schedule::TimingModel& m = models.get({"app-v1", "p", "1"});
  for (int i = 0; i < 100; ++i) m.observe_job(100, {});
  const auto gap_at = [&](double age_s, const char* begin) {
    Watch w = running_watch();
    return apply_answer(w, timed_job_answer("j", 2, begin), poll_config(),
                        kBegin + milliseconds(static_cast<long>(age_s * 1000)), 0.5, &models)
        .next_gap;
  };
  const char* precise = "2026-01-01T10:00:00.000Z";
  double past = 0;  // the first age past the window, with millisecond times
  for (double age = 100; age < 200 && past == 0; age += 0.25)
    if (gap_at(age, precise) > 1s) past = age;
  ASSERT_GT(past, 100);
  EXPECT_GT(gap_at(past + 0.5, precise), 1s);
  EXPECT_EQ(gap_at(past + 0.5, kBeginText), 1s);  // whole seconds: still covered
  EXPECT_GT(gap_at(past + 1.5, kBeginText), 1s);  // and not forever
}

TEST(PollPlacement, WithNeitherHistoryNorEstimateTheCappedBackoffExactlyAsBefore) {
  const schedule::TimingModels none;
  Watch with_models = running_watch();
  Watch without = running_watch();
  for (double age : {1.0, 3.0, 7.0, 20.0}) {
    const auto a = poll_at(with_models, age, &none, "");
    const auto b = poll_at(without, age, nullptr, "");
    EXPECT_EQ(a.next_gap, b.next_gap) << "age " << age;
    EXPECT_EQ(with_models.backoff_step, without.backoff_step);
    EXPECT_FALSE(with_models.predicted_end);
  }
}

TEST(PollPlacement, AKeyNotSeenYetPredictsFromTheEstimateWithAGenerousBand) {
  // SPEC §7's cold start: no model for the key at all, an estimate 60 s
  // after the begin.
  const schedule::TimingModels none;
  Watch w = running_watch();
  const auto step = poll_at(w, 5.0, &none, "2026-01-01T10:01:00Z");
  ASSERT_TRUE(w.predicted_end);
  const auto around = [](model::WallTime t) {
    return std::chrono::duration<double>(t - kBegin).count();
  };
  EXPECT_NEAR(around(w.predicted_end->p50), 60, 6);
  EXPECT_LT(around(w.predicted_end->p10), 50);
  EXPECT_GT(around(w.predicted_end->p90), 70);
  // Long before the band: a gap up to max_interval, not the estimate halving.
  EXPECT_GT(step.next_gap, 1s);
  // Inside it: target_delay.
  EXPECT_LE(poll_at(w, 58.0, &none, "2026-01-01T10:01:00Z").next_gap, 1s);
}

TEST(PollPlacement, NoBeginTimeNoPrediction) {
  const auto models = hundred_second_jobs();
  Watch w = running_watch();
  const auto step =
      apply_answer(w, timed_job_answer("j", 2, ""), poll_config(), kBegin + 10s, 0.5, &models);
  EXPECT_FALSE(w.predicted_end);
  Watch plain = running_watch();
  EXPECT_EQ(step.next_gap, apply_answer(plain, timed_job_answer("j", 2, ""), poll_config(),
                                        kBegin + 10s, 0.5, nullptr)
                               .next_gap);
}

TEST(PollPlacement, FailuresKeepTheBackoff) {
  const auto models = hundred_second_jobs();
  Watch a = running_watch();
  Watch b = running_watch();
  const auto failure = testing::http_answer(500);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(apply_answer(a, failure, poll_config(), kBegin + 99s, 0.5, &models).next_gap,
              apply_answer(b, failure, poll_config(), kBegin + 99s, 0.5, nullptr).next_gap);
  }
}

// The estimate halving measures the time left to expected_end_time, which is
// in the API's clock: with the offset known, a host clock an hour behind
// polls as a correct one does.
TEST(PollPlacement, TheEstimateIsMeasuredInTheApisClock) {
  // Without timing models: the estimate halving of the capped backoff.
  const auto poll = [&](milliseconds host_behind, milliseconds offset) {
    Watch w = running_watch();
    w.created_at -= host_behind;
    w.deadline_at -= host_behind;
    return apply_answer(w, timed_job_answer("j", 2, kBeginText, "", "2026-01-01T10:00:16Z"),
                        poll_config(), kBegin + 10s - host_behind, 0.5, nullptr, offset)
        .next_gap;
  };
  EXPECT_EQ(poll(0ms, 0ms), 3s);  // half of the 6 s left
  EXPECT_EQ(poll(1h, 1h), 3s);
  EXPECT_EQ(poll(1h, 0ms), 10s);  // unaware: an hour and 6 s left, max_interval
}

TEST(PollPlacement, TheDeadlineStillBoundsThePlacedGap) {
  const auto models = hundred_second_jobs();
  Watch w = running_watch();
  w.deadline_at = kBegin + 13s;
  EXPECT_EQ(poll_at(w, 10, &models).next_gap, 3001ms);
}

TEST(PollPlacement, APredictedEndIsShownInWatchInfo) {
  const WatchRecord record;
  WatchInfo info{&record};
  info.predicted_end = PredictedEnd{kBegin + 90s, kBegin + 100s, kBegin + 110s};
  const auto obj = to_json(info);
  ASSERT_TRUE(obj.contains("predicted_end"));
  EXPECT_EQ(obj.at("predicted_end").at("p50").as_string(), "2026-01-01T10:01:40Z");
  EXPECT_EQ(obj.at("predicted_end").at("p10").as_string(), "2026-01-01T10:01:30Z");
  EXPECT_FALSE(to_json(WatchInfo{&record}).contains("predicted_end"));
}

}  // namespace
}  // namespace jobwatch::watch
