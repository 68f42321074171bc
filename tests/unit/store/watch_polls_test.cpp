// Poll bookkeeping saved apart from the watch row (the shutdown
// checkpoint): it is read over the row's copy, a later write of the row or
// its deletion drops it, one saved for a watch not stored is never read,
// and a schema-3 file gains the table.
#include <functional>
#include <memory>

#include "jobwatch/store/write_buffer.hpp"
#include "store_test_support.hpp"

namespace jobwatch::store::test {
namespace {

WatchPolls polls_for(const StoredWatch& w, std::uint64_t polls, const std::string& error = "") {
  return {w.job, polls, at_ms(5'000), at_ms(15'000), at_ms(60'000), error};
}

class StoreWatchPolls : public ::testing::Test {
 protected:
  void SetUp() override {
    store = open_ok(dir.path());
    ASSERT_TRUE(store);
  }
  std::int64_t side_rows() const {
    return raw_int(dir.db_path(), "SELECT count(*) FROM watch_polls");
  }
  void write(const std::function<void(Batch&)>& writes) { EXPECT_FALSE(store->write(writes)); }
  // The store holds `w` alone, as written, with no poll row over it.
  void expect_only(const StoredWatch& w) {
    EXPECT_EQ(side_rows(), 0);
    const auto loaded = value_of(store->load_watches());
    ASSERT_EQ(loaded.size(), 1u);
    EXPECT_EQ(loaded[0], w);
  }

  TempDir dir;
  std::unique_ptr<Store> store;
};

TEST_F(StoreWatchPolls, SavedPollsAreReadOverTheRow) {
  StoredWatch w = minimal_watch("p", "j1", 1000);
  w.polls = 2;
  w.last_job_json = R"({"job_id":"j1","status":"RUNNING"})";
  write([&](Batch& batch) { batch.upsert_watch(w); });
  write([&](Batch& batch) { batch.save_polls(polls_for(w, 9, "HTTP 500")); });

  auto loaded = value_of(store->load_watches());
  ASSERT_EQ(loaded.size(), 1u);
  EXPECT_EQ(loaded[0].polls, 9u);
  EXPECT_EQ(loaded[0].last_poll_at, at_ms(5'000));
  EXPECT_EQ(loaded[0].next_poll_at, at_ms(15'000));
  EXPECT_EQ(loaded[0].expected_end_time, at_ms(60'000));
  EXPECT_EQ(loaded[0].last_error, "HTTP 500");
  // The rest is the row's.
  EXPECT_EQ(value_of(store->load_answer(w.job)), *w.last_job_json);
  EXPECT_EQ(loaded[0].created_at, w.created_at);

  // Saved again: replaced, still one row.
  write([&](Batch& batch) { batch.save_polls(polls_for(w, 11)); });
  EXPECT_EQ(value_of(store->load_watches())[0].polls, 11u);
  EXPECT_EQ(value_of(store->load_watches())[0].last_error, "");
  EXPECT_EQ(side_rows(), 1);
}

// Issue 11: the last answer is kept in the store, not in memory. A row
// written without one keeps the stored answer; poll bookkeeping with a new
// one replaces it.
TEST_F(StoreWatchPolls, TheLastAnswerIsKeptUntilANewerOneIsWritten) {
  StoredWatch w = minimal_watch("p", "j1", 1000);
  EXPECT_EQ(value_of(store->load_answer(w.job)), "");  // not stored at all
  write([&](Batch& batch) { batch.upsert_watch(w); });
  EXPECT_EQ(value_of(store->load_answer(w.job)), "");  // stored, never answered

  w.last_job_json = R"({"job_id":"j1","status":"RUNNING"})";
  write([&](Batch& batch) { batch.upsert_watch(w); });
  w.last_job_json.reset();
  w.polls = 3;
  write([&](Batch& batch) { batch.upsert_watch(w); });
  EXPECT_EQ(value_of(store->load_answer(w.job)), R"({"job_id":"j1","status":"RUNNING"})");

  WatchPolls polls = polls_for(w, 4);
  polls.last_job_json = R"({"job_id":"j1","status":"RUNNING","progress":50})";
  write([&](Batch& batch) { batch.save_polls(polls); });
  EXPECT_EQ(value_of(store->load_answer(w.job)), *polls.last_job_json);
  EXPECT_EQ(value_of(store->load_watches())[0].polls, 4u);  // the bookkeeping stays over the row
  write([&](Batch& batch) { batch.upsert_watch(w); });      // a transition, same answer
  EXPECT_EQ(value_of(store->load_answer(w.job)), *polls.last_job_json);

  write([&](Batch& batch) { batch.delete_watch(w.job); });
  EXPECT_EQ(value_of(store->load_answer(w.job)), "");
}

TEST_F(StoreWatchPolls, AWriteOfTheRowSupersedesThem) {
  StoredWatch w = minimal_watch("p", "j1", 1000);
  write([&](Batch& batch) { batch.upsert_watch(w); });
  write([&](Batch& batch) { batch.save_polls(polls_for(w, 9)); });
  // A transition writes the whole row, its bookkeeping as of then.
  w.polls = 12;
  w.status = watch::WatchStatus::handling;
  write([&](Batch& batch) { batch.upsert_watch(w); });
  expect_only(w);
}

TEST_F(StoreWatchPolls, TheyGoWithTheWatch) {
  StoredWatch cancelled = minimal_watch("p", "j1", 1000);
  StoredWatch finished = minimal_watch("p", "j2", 1000);
  finished.status = watch::WatchStatus::succeeded;
  finished.finished_at = at_ms(2'000);
  write([&](Batch& batch) {
    batch.upsert_watch(cancelled);
    batch.upsert_watch(finished);
    batch.save_polls(polls_for(cancelled, 3));
    batch.save_polls(polls_for(finished, 4));
  });
  EXPECT_EQ(side_rows(), 2);
  write([&](Batch& batch) { batch.delete_watch(cancelled.job); });
  EXPECT_EQ(side_rows(), 1);
  EXPECT_EQ(value_of(store->purge_finished_before(at_ms(3'000))), 1u);
  EXPECT_EQ(side_rows(), 0);
  EXPECT_TRUE(value_of(store->load_watches()).empty());
}

TEST_F(StoreWatchPolls, SavedForAWatchNotStoredTheyAreNeverRead) {
  const StoredWatch gone = minimal_watch("p", "gone", 1000);
  write([&](Batch& batch) { batch.save_polls(polls_for(gone, 3)); });
  EXPECT_TRUE(value_of(store->load_watches()).empty());
  // A new watch of that key starts from its own row, not the stray one.
  write([&](Batch& batch) { batch.upsert_watch(gone); });
  expect_only(gone);
}

TEST_F(StoreWatchPolls, TheBufferKeepsThemBehindTheWatchsWrite) {
  StoredWatch w = minimal_watch("p", "j1", 1000);
  w.polls = 1;
  WriteBuffer buffer;
  buffer.upsert_watch(w);  // a new watch and, in the same turn, its checkpoint
  buffer.save_polls(polls_for(w, 5));
  EXPECT_EQ(buffer.size(), 2u);
  EXPECT_FALSE(buffer.flush(*store));
  EXPECT_EQ(value_of(store->load_watches())[0].polls, 5u);
}

TEST_F(StoreWatchPolls, SchemaThreeGainsTheTable) {
  StoredWatch w = minimal_watch("p", "j1", 1000);
  w.polls = 7;
  write([&](Batch& batch) { batch.upsert_watch(w); });
  store.reset();
  raw_exec(dir.db_path(), std::string(kUndoSchemaSix) + kUndoSchemaFive + kDropSchemaFour +
                              "PRAGMA user_version = 3");
  store = open_ok(dir.path());
  ASSERT_TRUE(store);
  EXPECT_EQ(raw_int(dir.db_path(), "PRAGMA user_version"), Store::schema_version);
  auto loaded = value_of(store->load_watches());
  ASSERT_EQ(loaded.size(), 1u);
  EXPECT_EQ(loaded[0].polls, 7u);
  write([&](Batch& batch) { batch.save_polls(polls_for(loaded[0], 8)); });
  EXPECT_EQ(value_of(store->load_watches())[0].polls, 8u);
}

}  // namespace
}  // namespace jobwatch::store::test
