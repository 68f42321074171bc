// Watches in the state store: every field survives a round trip through the
// file, upserts replace, deletes and retention purges remove.
#include "store_test_support.hpp"

namespace jobwatch::store::test {
namespace {

using model::JobStatus;
using watch::WatchStatus;

StoredWatch full_watch() {
  StoredWatch w;
  w.job = {"29dfe82ada564ac2b927e1ff036d9a9b", "job-\"quoted\"-ü"};
  w.api = model::Api::desktop_v2;
  w.job_type = "createDesktops";
  w.labels = {{"env", "prod"}, {"quote", "a \"b\" \\ c"}, {"team", "platform ⚙"}};
  w.submitter = 1001;
  w.created_at = at_ms(1'700'000'000'123);
  w.deadline_at = at_ms(1'700'086'400'123);
  w.status = WatchStatus::abandoned;
  w.track.job_status = JobStatus::handling;
  w.track.last_nonterminal_job_status = JobStatus::initializing;
  w.track.subjobs = {{"sub-a", JobStatus::handling, true},
                     {"sub-b", std::nullopt, false},
                     {"sub-c", JobStatus::initializing, false}};
  w.track.finished = true;
  w.track.abandoned = true;
  w.subjobs_total = 3;
  w.subjobs_done = 1;
  w.polls = 5'000'000'000ULL;  // beyond 32 bits
  w.last_poll_at = at_ms(1'700'000'100'000);
  w.next_poll_at = at_ms(1'700'000'102'000);
  w.expected_end_time = at_ms(1'700'000'200'000);
  w.last_error = "upstream answered 503";
  w.last_job_json = R"({"job_id":"j","status":2,"sub_jobs":[]})";
  w.reason = watch::AbandonReason::deadline;
  w.final_event = R"({"id":"evt_1","type":"watch.abandoned"})";
  w.finished_at = at_ms(1'700'086'400'500);
  return w;
}

TEST(StoreWatches, EveryFieldRoundTrips) {
  TempDir dir;
  const StoredWatch written = full_watch();
  {
    auto store = open_ok(dir.path());
    ASSERT_TRUE(store);
    EXPECT_FALSE(store->write([&](Batch& batch) { batch.upsert_watch(written); }));
  }
  auto store = open_ok(dir.path());
  ASSERT_TRUE(store);
  auto watches = value_of(store->load_watches());
  ASSERT_EQ(watches.size(), 1u);
  const StoredWatch& read = watches[0];
  EXPECT_EQ(read.job, written.job);
  EXPECT_EQ(read.labels, written.labels);
  EXPECT_EQ(read.track, written.track);
  EXPECT_EQ(read.polls, written.polls);
  EXPECT_EQ(read.reason, written.reason);
  // The answer is read on its own, not with every watch.
  EXPECT_FALSE(read.last_job_json);
  EXPECT_EQ(value_of(store->load_answer(written.job)), *written.last_job_json);
  StoredWatch without_answer = written;
  without_answer.last_job_json.reset();
  EXPECT_EQ(read, without_answer);
}

TEST(StoreWatches, AbsentOptionalsRoundTripAsAbsent) {
  TempDir dir;
  auto store = open_ok(dir.path());
  ASSERT_TRUE(store);
  const StoredWatch written = minimal_watch("p", "j", 1);
  EXPECT_FALSE(store->write([&](Batch& batch) { batch.upsert_watch(written); }));
  auto watches = value_of(store->load_watches());
  ASSERT_EQ(watches.size(), 1u);
  EXPECT_EQ(watches[0], written);
  EXPECT_FALSE(watches[0].finished_at);
  EXPECT_FALSE(watches[0].reason);
  EXPECT_FALSE(watches[0].track.job_status);
  EXPECT_TRUE(watches[0].labels.empty());
}

TEST(StoreWatches, EveryStateAndReasonRoundTrips) {
  TempDir dir;
  auto store = open_ok(dir.path());
  ASSERT_TRUE(store);
  const std::vector<WatchStatus> states = {WatchStatus::pending,  WatchStatus::initializing,
                                           WatchStatus::handling, WatchStatus::succeeded,
                                           WatchStatus::failed,   WatchStatus::abandoned};
  const std::vector<watch::AbandonReason> reasons = {watch::AbandonReason::not_found,
                                                     watch::AbandonReason::rejected,
                                                     watch::AbandonReason::deadline};
  std::vector<StoredWatch> written;
  for (std::size_t i = 0; i < states.size(); ++i) {
    StoredWatch w = minimal_watch("p", "j" + std::to_string(i), static_cast<std::int64_t>(i));
    w.status = states[i];
    w.reason = reasons[i % reasons.size()];
    written.push_back(w);
  }
  EXPECT_FALSE(store->write([&](Batch& batch) {
    for (const auto& w : written) batch.upsert_watch(w);
  }));
  EXPECT_EQ(value_of(store->load_watches()), written);  // ordered by created_at
}

TEST(StoreWatches, UpsertReplacesTheWholeRow) {
  TempDir dir;
  auto store = open_ok(dir.path());
  ASSERT_TRUE(store);
  EXPECT_FALSE(store->write([](Batch& batch) { batch.upsert_watch(full_watch()); }));
  StoredWatch second = minimal_watch(full_watch().job.project_id, full_watch().job.job_id, 7);
  second.polls = 9;
  EXPECT_FALSE(store->write([&](Batch& batch) { batch.upsert_watch(second); }));
  auto watches = value_of(store->load_watches());
  ASSERT_EQ(watches.size(), 1u);
  EXPECT_EQ(watches[0], second);
}

TEST(StoreWatches, DeleteRemovesOnlyThatWatch) {
  TempDir dir;
  auto store = open_ok(dir.path());
  ASSERT_TRUE(store);
  EXPECT_FALSE(store->write([](Batch& batch) {
    batch.upsert_watch(minimal_watch("p", "a", 1));
    batch.upsert_watch(minimal_watch("p", "b", 2));
    batch.upsert_watch(minimal_watch("q", "a", 3));
  }));
  EXPECT_FALSE(store->write([](Batch& batch) {
    batch.delete_watch({"p", "a"});
    batch.delete_watch({"p", "missing"});  // nothing to delete is fine
  }));
  auto watches = value_of(store->load_watches());
  ASSERT_EQ(watches.size(), 2u);
  EXPECT_EQ(watches[0].job, (watch::JobRef{"p", "b"}));
  EXPECT_EQ(watches[1].job, (watch::JobRef{"q", "a"}));
}

TEST(StoreWatches, TenThousandWatchesInOneBatch) {
  TempDir dir;
  constexpr int count = 10'000;
  {
    auto store = open_ok(dir.path());
    ASSERT_TRUE(store);
    EXPECT_FALSE(store->write([](Batch& batch) {
      for (int i = 0; i < count; ++i) {
        StoredWatch w = minimal_watch("project", "job-" + std::to_string(i), i);
        w.labels = {{"n", std::to_string(i)}};
        w.track.job_status = JobStatus::handling;
        w.track.subjobs = {{"s" + std::to_string(i), JobStatus::handling, false}};
        batch.upsert_watch(w);
      }
    }));
  }
  auto store = open_ok(dir.path());
  ASSERT_TRUE(store);
  auto watches = value_of(store->load_watches());
  ASSERT_EQ(watches.size(), static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) {
    const auto& w = watches[static_cast<std::size_t>(i)];
    ASSERT_EQ(w.job.job_id, "job-" + std::to_string(i));
    ASSERT_EQ(w.labels, (watch::Labels{{"n", std::to_string(i)}}));
    ASSERT_EQ(w.track.subjobs.at(0).subjob_id, "s" + std::to_string(i));
  }
}

TEST(StoreWatches, PurgeRemovesOnlyWatchesFinishedBeforeTheCutoff) {
  TempDir dir;
  auto store = open_ok(dir.path());
  ASSERT_TRUE(store);
  StoredWatch old_done = minimal_watch("p", "old-done", 1);
  old_done.status = WatchStatus::succeeded;
  old_done.finished_at = at_ms(1'000);
  StoredWatch at_cutoff = minimal_watch("p", "at-cutoff", 2);
  at_cutoff.status = WatchStatus::failed;
  at_cutoff.finished_at = at_ms(5'000);
  StoredWatch recent_done = minimal_watch("p", "recent-done", 3);
  recent_done.status = WatchStatus::abandoned;
  recent_done.finished_at = at_ms(9'000);
  StoredWatch old_running = minimal_watch("p", "old-running", 0);  // created long ago
  old_running.status = WatchStatus::handling;
  EXPECT_FALSE(store->write([&](Batch& batch) {
    for (const auto* w : {&old_done, &at_cutoff, &recent_done, &old_running})
      batch.upsert_watch(*w);
  }));
  EXPECT_EQ(value_of(store->purge_finished_before(at_ms(5'000))), 1u);
  auto watches = value_of(store->load_watches());
  std::vector<std::string> left;
  left.reserve(watches.size());
  for (const auto& w : watches) left.push_back(w.job.job_id);
  EXPECT_EQ(left, (std::vector<std::string>{"old-running", "at-cutoff", "recent-done"}));
  EXPECT_EQ(value_of(store->purge_finished_before(at_ms(5'000))), 0u);
}

TEST(StoreWatches, EngineWatchConvertsBothWays) {
  watch::Watch w = to_watch(full_watch());
  w.generation = 3;  // in-memory only
  w.in_flight = true;
  EXPECT_TRUE(w.seen);
  EXPECT_EQ(to_stored(w), full_watch());

  watch::Watch running = to_watch(minimal_watch("p", "j", 1));
  EXPECT_FALSE(running.seen);
  running.finished_at = at_ms(123);  // meaningless while running: not stored
  EXPECT_FALSE(to_stored(running).finished_at);
}

}  // namespace
}  // namespace jobwatch::store::test
