// The engine and SPEC §7: a job whose end it sees teaches its key's timing
// model, handed to the journal with the terminal transition.
#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>
#include <map>

#include "engine_fixture.hpp"
#include "jobwatch/model/time.hpp"

namespace jobwatch::watch {
namespace {

using namespace std::chrono_literals;
using testing::job_answer;
using testing::timed_job_answer;

config::Config timing_config() {
  config::Config c;
  c.api.rate_limit = 1000;
  c.api.max_connections = 4;
  c.poll.min_interval = 5ms;
  c.poll.max_interval = 20ms;
  c.poll.default_deadline = 10s;
  c.poll.not_found_grace = 100ms;
  return c;
}

// Remembers what the engine records.
class RecordingJournal final : public Journal {
 public:
  struct Change {
    std::string job_id;
    std::vector<EventType> events;
    std::optional<TimingUpdate> learned;
  };
  std::optional<std::string> record_new(const std::vector<const Watch*>&) override {
    return std::nullopt;
  }
  void record_change(const Watch& watch, const std::vector<Event>& events,
                     const std::optional<TimingUpdate>& learned) override {
    Change change{watch.job.job_id, {}, learned};
    for (const Event& e : events) change.events.push_back(e.type);
    changes.push_back(std::move(change));
    keep_answer(watch);
  }
  void record_polls(const std::vector<const Watch*>& watches) override {
    for (const Watch* w : watches) polls_saved.push_back(w->job.job_id);
  }
  void record_answer(const Watch& watch) override {
    answers_recorded.push_back(watch.unsaved_answer);
    keep_answer(watch);
  }
  void record_removed(const JobRef&) override {}
  std::string last_answer(const JobRef& job) override { return answers[job.job_id]; }

  std::vector<Change> changes;
  std::vector<std::string> polls_saved;
  std::map<std::string, std::string> answers;  // by job_id
  std::vector<std::string> answers_recorded;   // what record_answer was given

 private:
  void keep_answer(const Watch& watch) {
    if (!watch.unsaved_answer.empty()) answers[watch.job.job_id] = watch.unsaved_answer;
  }
};

class EngineTimingTest : public EngineFixture {
 protected:
  void make_engine(const config::Config& c = timing_config()) {
    engine_ = std::make_unique<Engine>(io_.get_executor(), c, api_, &journal_);
    engine_->subscribe_events([this](const Event& e) { events_.push_back(e); });
  }

  const schedule::TimingModel* model_of(const std::string& job_type = "1") const {
    return engine_->timing_models().find({"app-v1", project, job_type});
  }

  RecordingJournal journal_;
};

TEST_F(EngineTimingTest, AnEndSeenTeachesTheModelInTheTerminalRecord) {
  api_.script("j1", [](int n) {
    if (n == 0)
      return timed_job_answer("j1", 2, "2026-01-01T10:00:00Z", "", "2026-01-01T10:00:40Z");
    return timed_job_answer("j1", 1, "2026-01-01T10:00:00Z", "2026-01-01T10:00:50Z");
  });
  make_engine();
  watch({"j1"});
  ASSERT_TRUE(run_until_finished({"j1"}));

  const schedule::TimingModel* model = model_of();
  ASSERT_TRUE(model);
  EXPECT_EQ(model->jobs(), 1u);
  EXPECT_EQ(model->estimate_jobs(), 1u);      // against the estimate seen while it ran
  EXPECT_NEAR(*model->quantile(0.5), 50, 6);  // one bucket is ~23 % wide

  ASSERT_FALSE(journal_.changes.empty());
  const RecordingJournal::Change& last = journal_.changes.back();
  EXPECT_EQ(last.events, std::vector<EventType>{EventType::job_succeeded});
  ASSERT_TRUE(last.learned);
  EXPECT_EQ(last.learned->key, (schedule::TimingKey{"app-v1", project, "1"}));
  EXPECT_EQ(schedule::TimingModel::deserialize(last.learned->model), *model);
  for (std::size_t i = 0; i + 1 < journal_.changes.size(); ++i)
    EXPECT_FALSE(journal_.changes[i].learned);
}

TEST_F(EngineTimingTest, FailedJobsTeachNothing) {
  // A failure ends wherever the job broke; max_interval, not the window,
  // is what sees it (docs/POLL-TIMING.md).
  api_.script("j1", [](int) {
    return timed_job_answer("j1", 0, "2026-01-01T10:00:00Z", "2026-01-01T10:00:05Z");
  });
  make_engine();
  watch({"j1"});
  ASSERT_TRUE(run_until_finished({"j1"}));
  EXPECT_FALSE(model_of());
  for (const auto& change : journal_.changes) EXPECT_FALSE(change.learned);
}

TEST_F(EngineTimingTest, TheCheckpointSavesThePollsOfWatchesPolledSinceTheirLastRecord) {
  api_.script("done", [](int) { return job_answer("done", 1); });
  api_.script("running", [](int) { return job_answer("running", 3); });
  make_engine();
  watch({"done", "running"});
  ASSERT_TRUE(run_until_finished({"done"}));
  ASSERT_TRUE(run_until([&] { return api_.fetches("running") >= 3; }));
  engine_->checkpoint();
  // The finished watch's last record holds everything; the running one has
  // been polled since its last (its first answer's) record.
  EXPECT_EQ(journal_.polls_saved, std::vector<std::string>{"running"});
  journal_.polls_saved.clear();
  engine_->checkpoint();  // nothing polled since
  EXPECT_TRUE(journal_.polls_saved.empty());
}

// Issue 11: the last answer lives in the journal, not in every watch; Show
// and an abandon event's detail read it back from there.
TEST_F(EngineTimingTest, TheJournalHoldsTheLastAnswerAndShowReadsItBack) {
  // Taken when the third poll goes out, i.e. after the first two answers.
  std::optional<std::size_t> handed_over_after_two;
  std::string shown_after_two;
  api_.script("j1", [&](int n) {
    if (n == 2) {
      handed_over_after_two = journal_.answers_recorded.size();
      shown_after_two = engine_->show({project, "j1"})->job_json;
    }
    if (n < 2) return timed_job_answer("j1", 2, "2026-01-01T10:00:00Z");  // the same twice
    if (n == 2)
      return timed_job_answer("j1", 2, "2026-01-01T10:00:00Z", "", "2026-01-01T11:00:00Z");
    return testing::http_answer(403);  // abandoned: its detail is the last answer
  });
  make_engine();
  watch({"j1"});
  ASSERT_TRUE(run_until_finished({"j1"}));

  // The first answer went with the first record; the same text again was
  // not handed over a second time.
  ASSERT_TRUE(handed_over_after_two);
  EXPECT_EQ(*handed_over_after_two, 0u);
  EXPECT_NE(shown_after_two.find("begin_time"), std::string::npos);
  EXPECT_EQ(shown_after_two.find("expected_end_time"), std::string::npos);
  // New text, no transition: handed over on its own.
  ASSERT_EQ(journal_.answers_recorded.size(), 1u);
  const std::string second = journal_.answers_recorded[0];
  EXPECT_NE(second.find("expected_end_time"), std::string::npos);
  EXPECT_EQ(engine_->show({project, "j1"})->job_json, second);
  ASSERT_FALSE(events_.empty());
  EXPECT_EQ(events_.back().type, EventType::watch_abandoned);
  const auto data = boost::json::parse(events_.back().document).at("data");
  EXPECT_EQ(data.at("detail"), boost::json::parse(second));
}

TEST_F(EngineTimingTest, NoTimesOrNoEndSeenTeachNothing) {
  api_.script("j1", [](int) { return job_answer("j1", 1); });        // no begin/end times
  api_.script("j2", [](int) { return testing::http_answer(403); });  // abandoned
  make_engine();
  watch({"j1", "j2"});
  ASSERT_TRUE(run_until_finished({"j1", "j2"}));
  EXPECT_EQ(engine_->timing_models().size(), 0u);
  for (const auto& change : journal_.changes) EXPECT_FALSE(change.learned);
}

TEST_F(EngineTimingTest, LoadedModelsAreKeptAndTaughtFurther) {
  schedule::TimingModels loaded;
  loaded.get({"app-v1", project, "1"}).observe_job(30, std::nullopt);
  make_engine();
  engine_->load_timing_models(std::move(loaded));
  api_.script("j1", [](int) {
    return timed_job_answer("j1", 1, "2026-01-01T10:00:00Z", "2026-01-01T10:00:30Z");
  });
  watch({"j1"});
  ASSERT_TRUE(run_until_finished({"j1"}));
  ASSERT_TRUE(model_of());
  EXPECT_EQ(model_of()->jobs(), 2u);
}

// An answer from an API whose clock is an hour ahead of ours.
upstream::Answer dated_an_hour_ahead(upstream::Answer answer) {
  answer.server_date =
      std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now() + 1h);
  return answer;
}

TEST_F(EngineTimingTest, TheApisClockIsLearnedFromItsDatesAndShownInStats) {
  api_.script("j1", [](int n) {
    return dated_an_hour_ahead(timed_job_answer("j1", n < 2 ? 2 : 1, "2026-01-01T10:00:00Z",
                                                n < 2 ? "" : "2026-01-01T10:00:30Z"));
  });
  make_engine();
  watch({"j1"});
  ASSERT_TRUE(run_until_finished({"j1"}));
  const auto stats = engine_->stats();
  const auto& clock = stats.at("polls").at("api_clock").as_object();
  ASSERT_TRUE(clock.contains("app_streaming")) << boost::json::serialize(clock);
  EXPECT_NEAR(clock.at("app_streaming").at("offset_s").to_number<double>(), 3600, 1.5);
  EXPECT_EQ(clock.at("app_streaming").at("samples").to_number<int>(), 3);
  EXPECT_FALSE(clock.contains("desktop"));  // desktop-v2 never answered
}

TEST_F(EngineTimingTest, FinishedJobsAreTheTracesWithTheSubmissionInTheApisClock) {
  api_.script("j1", [](int) {
    return dated_an_hour_ahead(
        timed_job_answer("j1", 1, "2026-01-01T10:00:00Z", "2026-01-01T10:00:30Z"));
  });
  api_.script("j2", [](int) { return testing::http_answer(403); });  // abandoned
  api_.script("j3", [](int) { return job_answer("j3", 2); });        // still running
  make_engine();
  const auto before = std::chrono::system_clock::now();
  watch({"j1", "j2", "j3"});
  ASSERT_TRUE(run_until_finished({"j1", "j2"}));
  const std::vector<TraceJob> jobs = engine_->finished_jobs();
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].project_id, project);
  EXPECT_EQ(jobs[0].begin_at, *model::parse_rfc3339("2026-01-01T10:00:00Z"));
  EXPECT_EQ(jobs[0].end_at, *model::parse_rfc3339("2026-01-01T10:00:30Z"));
  EXPECT_TRUE(jobs[0].succeeded);
  const double submitted_ahead_s =
      std::chrono::duration<double>(jobs[0].submitted_at - before).count();
  EXPECT_NEAR(submitted_ahead_s, 3600, 5);
}

}  // namespace
}  // namespace jobwatch::watch
