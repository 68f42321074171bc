// WriteBuffer: one loop turn's writes in one transaction, coalesced per
// watch, with callbacks that run once the writes are durable (or failed).
#include "jobwatch/store/write_buffer.hpp"

#include "store_test_support.hpp"

namespace jobwatch::store::test {
namespace {

TEST(WriteBuffer, FlushCommitsEverythingThenRunsTheCallbacksInOrder) {
  TempDir dir;
  auto store = open_ok(dir.path());
  ASSERT_TRUE(store);
  WriteBuffer buffer;
  EXPECT_TRUE(buffer.empty());
  buffer.upsert_watch(minimal_watch("p", "j", 1));
  buffer.add_outbox(outbox("evt_1", "journal", 1));
  buffer.add_outbox(outbox("evt_2", "journal", 1));
  std::vector<std::string> calls;
  buffer.on_flushed([&](const std::optional<StoreError>& error) {
    EXPECT_FALSE(error);
    // Durable by now: what the callback acknowledges is in the file.
    EXPECT_EQ(value_of(store->load_outbox()).size(), 2u);
    calls.push_back("first");
  });
  buffer.on_flushed([&](const std::optional<StoreError>& error) {
    EXPECT_FALSE(error);
    calls.push_back("second");
  });
  EXPECT_EQ(buffer.size(), 3u);
  EXPECT_FALSE(buffer.flush(*store));
  EXPECT_EQ(calls, (std::vector<std::string>{"first", "second"}));
  EXPECT_TRUE(buffer.empty());
  EXPECT_EQ(value_of(store->load_watches()).size(), 1u);
}

// The answer of a watch is read back before its turn's flush (Show, an
// abandon event): the buffer answers for what it holds, newest first.
TEST(WriteBuffer, AnswersStillBufferedAreReadFromTheBuffer) {
  TempDir dir;
  auto store = open_ok(dir.path());
  ASSERT_TRUE(store);
  WriteBuffer buffer;
  StoredWatch w = minimal_watch("p", "j", 1);
  EXPECT_FALSE(buffer.pending_answer(w.job));
  w.last_job_json = "A";
  buffer.upsert_watch(w);
  EXPECT_EQ(buffer.pending_answer(w.job), "A");
  WatchPolls polls{w.job, 2, {}, {}, {}, "", "B"};
  buffer.save_polls(polls);
  EXPECT_EQ(buffer.pending_answer(w.job), "B");
  w.last_job_json.reset();  // a transition with the answer unchanged
  buffer.upsert_watch(w);
  EXPECT_EQ(buffer.pending_answer(w.job), "B");
  EXPECT_FALSE(buffer.pending_answer({"p", "other"}));
  EXPECT_FALSE(buffer.flush(*store));
  EXPECT_FALSE(buffer.pending_answer(w.job));
  EXPECT_EQ(value_of(store->load_answer(w.job)), "B");
}

// Coalescing drops the earlier row, not the answer it carried; and a new
// watch of a key deleted in the same turn starts with no answer.
TEST(WriteBuffer, CoalescedRowsKeepTheirAnswer) {
  TempDir dir;
  auto store = open_ok(dir.path());
  ASSERT_TRUE(store);
  WriteBuffer buffer;
  StoredWatch w = minimal_watch("p", "j", 1);
  w.last_job_json = "A";
  buffer.upsert_watch(w);
  w.last_job_json.reset();
  w.polls = 7;
  buffer.upsert_watch(w);
  EXPECT_FALSE(buffer.flush(*store));
  EXPECT_EQ(value_of(store->load_answer(w.job)), "A");
  EXPECT_EQ(value_of(store->load_watches())[0].polls, 7u);

  buffer.delete_watch(w.job);
  buffer.upsert_watch(w);  // watched anew, no answer yet
  EXPECT_EQ(buffer.pending_answer(w.job), "");
  EXPECT_FALSE(buffer.flush(*store));
  EXPECT_EQ(value_of(store->load_answer(w.job)), "");
}

TEST(WriteBuffer, OnlyTheLastWriteOfAWatchIsKept) {
  TempDir dir;
  auto store = open_ok(dir.path());
  ASSERT_TRUE(store);
  WriteBuffer buffer;
  for (std::uint64_t polls = 1; polls <= 5; ++polls) {
    StoredWatch w = minimal_watch("p", "a", 1);
    w.polls = polls;
    buffer.upsert_watch(w);
  }
  buffer.upsert_watch(minimal_watch("p", "b", 2));
  buffer.delete_watch({"p", "b"});
  EXPECT_EQ(buffer.size(), 2u);
  EXPECT_FALSE(buffer.flush(*store));
  auto watches = value_of(store->load_watches());
  ASSERT_EQ(watches.size(), 1u);
  EXPECT_EQ(watches[0].polls, 5u);

  buffer.delete_watch({"p", "a"});
  buffer.upsert_watch(minimal_watch("p", "a", 3));  // re-watched in the same turn
  EXPECT_FALSE(buffer.flush(*store));
  watches = value_of(store->load_watches());
  ASSERT_EQ(watches.size(), 1u);
  EXPECT_EQ(watches[0].polls, 0u);
  EXPECT_EQ(watches[0].created_at, at_ms(3));
}

TEST(WriteBuffer, OutboxWritesApplyInOrder) {
  TempDir dir;
  auto store = open_ok(dir.path());
  ASSERT_TRUE(store);
  WriteBuffer buffer;
  buffer.add_outbox(outbox("evt_1", "ops", 1));
  buffer.add_outbox(outbox("evt_2", "ops", 1));
  buffer.update_attempt("evt_1", "ops", 2, at_ms(50), "HTTP 503");
  buffer.dead_letter("evt_2", "ops", "HTTP 400", 1, at_ms(60));
  EXPECT_FALSE(buffer.flush(*store));
  auto rows = value_of(store->load_outbox());
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].attempts, 2u);
  EXPECT_EQ(value_of(store->count_dead_letters()), 1);
  buffer.mark_delivered("evt_1", "ops");
  EXPECT_FALSE(buffer.flush(*store));
  EXPECT_TRUE(value_of(store->load_outbox()).empty());
}

TEST(WriteBuffer, AFailedFlushTellsEveryCallbackAndDropsTheWrites) {
  TempDir dir;
  auto store = open_ok(dir.path());
  ASSERT_TRUE(store);
  WriteBuffer buffer;
  buffer.upsert_watch(minimal_watch("p", "j", 1));
  buffer.add_outbox(outbox("", "ops", 1));  // violates the schema
  int failures = 0;
  buffer.on_flushed([&](const std::optional<StoreError>& error) {
    ASSERT_TRUE(error);
    EXPECT_TRUE(contains(error->message, dir.db_path()));
    ++failures;
  });
  auto error = buffer.flush(*store);
  ASSERT_TRUE(error);
  EXPECT_EQ(failures, 1);
  EXPECT_TRUE(buffer.empty());
  EXPECT_TRUE(value_of(store->load_watches()).empty());
  EXPECT_FALSE(buffer.flush(*store));  // nothing left over
}

TEST(WriteBuffer, WritesAddedByACallbackWaitForTheNextFlush) {
  TempDir dir;
  auto store = open_ok(dir.path());
  ASSERT_TRUE(store);
  WriteBuffer buffer;
  buffer.add_outbox(outbox("evt_1", "journal", 1));
  buffer.on_flushed([&](const std::optional<StoreError>&) {
    buffer.mark_delivered("evt_1", "journal");  // e.g. a sink that delivered at once
  });
  EXPECT_FALSE(buffer.flush(*store));
  EXPECT_EQ(value_of(store->load_outbox()).size(), 1u);
  EXPECT_EQ(buffer.size(), 1u);
  EXPECT_FALSE(buffer.flush(*store));
  EXPECT_TRUE(value_of(store->load_outbox()).empty());
}

TEST(WriteBuffer, CallbacksRunEvenWithoutWrites) {
  TempDir dir;
  auto store = open_ok(dir.path());
  ASSERT_TRUE(store);
  WriteBuffer buffer;
  bool called = false;
  buffer.on_flushed([&](const std::optional<StoreError>& error) {
    EXPECT_FALSE(error);
    called = true;
  });
  EXPECT_FALSE(buffer.empty());
  EXPECT_EQ(buffer.size(), 0u);
  EXPECT_FALSE(buffer.flush(*store));
  EXPECT_TRUE(called);
}

}  // namespace
}  // namespace jobwatch::store::test
