// The outbox and dead letters: rows owed to sinks, their retry state, the
// move to dead letters, load order, and all-or-nothing batches.
#include <stdexcept>

#include "store_test_support.hpp"

namespace jobwatch::store::test {
namespace {

using watch::EventType;

std::vector<std::string> keys_of(const std::vector<OutboxRow>& rows) {
  std::vector<std::string> keys;
  keys.reserve(rows.size());
  for (const auto& row : rows) keys.push_back(row.event_id + "/" + row.sink);
  return keys;
}

TEST(StoreOutbox, RowsRoundTripAndLoadInTheOrderAdded) {
  TempDir dir;
  std::vector<OutboxRow> written = {
      outbox("evt_f", "journal", 2000, EventType::subjob_failed),
      outbox("evt_a", "journal", 2000, EventType::job_failed),
      outbox("evt_f", "ops", 2000, EventType::subjob_failed),
      outbox("evt_0", "journal", 2500, EventType::watch_abandoned),
      outbox("evt_9", "journal", 3000, EventType::subjob_succeeded),
  };
  written[4].attempts = 2;
  written[4].next_attempt_at = at_ms(9000);
  written[4].last_error = "HTTP 503";
  {
    auto store = open_ok(dir.path());
    ASSERT_TRUE(store);
    EXPECT_FALSE(store->write([&](Batch& batch) {
      for (const auto& row : written) batch.add_outbox(row);
    }));
  }
  auto store = open_ok(dir.path());
  ASSERT_TRUE(store);
  // A subjob's event stays ahead of its job's, whatever their ids.
  EXPECT_EQ(value_of(store->load_outbox()), written);
}

TEST(StoreOutbox, AddingAnOwedEventAgainKeepsItsRetryState) {
  TempDir dir;
  auto store = open_ok(dir.path());
  ASSERT_TRUE(store);
  EXPECT_FALSE(store->write([](Batch& batch) { batch.add_outbox(outbox("evt_1", "ops", 10)); }));
  EXPECT_FALSE(store->write(
      [](Batch& batch) { batch.update_attempt("evt_1", "ops", 4, at_ms(500), "timeout"); }));
  EXPECT_FALSE(store->write([](Batch& batch) { batch.add_outbox(outbox("evt_1", "ops", 99)); }));
  auto rows = value_of(store->load_outbox());
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].attempts, 4u);
  EXPECT_EQ(rows[0].created_at, at_ms(10));
}

TEST(StoreOutbox, MarkDeliveredRemovesOnlyThatSinksRow) {
  TempDir dir;
  auto store = open_ok(dir.path());
  ASSERT_TRUE(store);
  EXPECT_FALSE(store->write([](Batch& batch) {
    batch.add_outbox(outbox("evt_1", "journal", 1));
    batch.add_outbox(outbox("evt_1", "ops", 1));
    batch.add_outbox(outbox("evt_2", "journal", 2));
  }));
  EXPECT_FALSE(store->write([](Batch& batch) {
    batch.mark_delivered("evt_1", "journal");
    batch.mark_delivered("evt_7", "journal");  // already gone: nothing to do
  }));
  EXPECT_EQ(keys_of(value_of(store->load_outbox())),
            (std::vector<std::string>{"evt_1/ops", "evt_2/journal"}));
}

// Issue 11: an event owed to several sinks has its document written once,
// and it goes with the event's last row (delivered or dead-lettered).
TEST(StoreOutbox, ADocumentIsStoredOnceAndGoesWithTheEventsLastRow) {
  TempDir dir;
  auto store = open_ok(dir.path());
  ASSERT_TRUE(store);
  EXPECT_FALSE(store->write([](Batch& batch) {
    batch.add_outbox(outbox("evt_1", "journal", 1));
    batch.add_outbox(outbox("evt_1", "hook", 1));
    batch.add_outbox(outbox("evt_1", "file", 1));
  }));
  const auto documents = [&] {
    return raw_int(dir.db_path(), "SELECT count(*) FROM event_documents");
  };
  EXPECT_EQ(documents(), 1);
  EXPECT_FALSE(store->write([](Batch& batch) { batch.mark_delivered("evt_1", "journal"); }));
  EXPECT_FALSE(store->write(
      [](Batch& batch) { batch.dead_letter("evt_1", "hook", "gave up", 5, at_ms(9)); }));
  EXPECT_EQ(documents(), 1);  // still owed to "file"
  auto rows = value_of(store->load_outbox());
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].document, outbox("evt_1", "file", 1).document);
  EXPECT_FALSE(store->write([](Batch& batch) { batch.mark_delivered("evt_1", "file"); }));
  EXPECT_EQ(documents(), 0);
  // The dead letter keeps its own copy.
  auto dead = value_of(store->load_dead_letters(10));
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].document, outbox("evt_1", "hook", 1).document);
}

// An owed event is never dropped in silence: a row without its document
// (the file edited behind the daemon's back) is damage, named.
TEST(StoreOutbox, AnOwedRowWithoutItsDocumentIsDamage) {
  TempDir dir;
  auto store = open_ok(dir.path());
  ASSERT_TRUE(store);
  EXPECT_FALSE(store->write([](Batch& batch) { batch.add_outbox(outbox("evt_1", "journal", 1)); }));
  raw_exec(dir.db_path(), "DELETE FROM event_documents");
  auto rows = store->load_outbox();
  ASSERT_TRUE(std::holds_alternative<StoreError>(rows));
  EXPECT_NE(std::get<StoreError>(rows).message.find("evt_1: its document is missing"),
            std::string::npos);
}

TEST(StoreOutbox, UpdateAttemptRecordsTheRetryState) {
  TempDir dir;
  auto store = open_ok(dir.path());
  ASSERT_TRUE(store);
  EXPECT_FALSE(store->write([](Batch& batch) {
    batch.add_outbox(outbox("evt_1", "ops", 1));
    batch.add_outbox(outbox("evt_1", "journal", 1));
  }));
  EXPECT_FALSE(store->write([](Batch& batch) {
    batch.update_attempt("evt_1", "ops", 3, at_ms(12'345), "HTTP 502 from hooks.example.com");
  }));
  auto rows = value_of(store->load_outbox());
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].attempts, 3u);
  EXPECT_EQ(rows[0].next_attempt_at, at_ms(12'345));
  EXPECT_EQ(rows[0].last_error, "HTTP 502 from hooks.example.com");
  EXPECT_EQ(rows[1].attempts, 0u);  // the other sink's row is untouched
  EXPECT_EQ(rows[1].last_error, "");
}

TEST(StoreOutbox, DeadLetterMovesTheRow) {
  TempDir dir;
  auto store = open_ok(dir.path());
  ASSERT_TRUE(store);
  const OutboxRow row = outbox("evt_1", "ops", 1, EventType::subjob_failed);
  EXPECT_FALSE(store->write([&](Batch& batch) {
    batch.add_outbox(row);
    batch.add_outbox(outbox("evt_1", "journal", 1, EventType::subjob_failed));
  }));
  EXPECT_FALSE(store->write([](Batch& batch) {
    batch.dead_letter("evt_1", "ops", "HTTP 400 (permanent)", 1, at_ms(777));
  }));
  EXPECT_EQ(keys_of(value_of(store->load_outbox())), (std::vector<std::string>{"evt_1/journal"}));
  EXPECT_EQ(value_of(store->count_dead_letters()), 1);
  auto letters = value_of(store->load_dead_letters(10));
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_EQ(letters[0], (DeadLetterRow{"evt_1", "ops", row.document, EventType::subjob_failed,
                                       "HTTP 400 (permanent)", at_ms(777), 1}));
}

TEST(StoreOutbox, DeadLettersLoadTheMostRecentOldestFirst) {
  TempDir dir;
  auto store = open_ok(dir.path());
  ASSERT_TRUE(store);
  EXPECT_FALSE(store->write([](Batch& batch) {
    for (int i = 0; i < 5; ++i) {
      const std::string id = "evt_" + std::to_string(i);
      batch.add_outbox(outbox(id, "ops", i));
      batch.dead_letter(id, "ops", "max_age", 9, at_ms(100 + i));
    }
  }));
  EXPECT_EQ(value_of(store->count_dead_letters()), 5);
  auto letters = value_of(store->load_dead_letters(3));
  ASSERT_EQ(letters.size(), 3u);
  EXPECT_EQ(letters[0].event_id, "evt_2");
  EXPECT_EQ(letters[1].event_id, "evt_3");
  EXPECT_EQ(letters[2].event_id, "evt_4");
  EXPECT_TRUE(value_of(store->load_outbox()).empty());
  EXPECT_EQ(value_of(store->load_dead_letters(100)).size(), 5u);
}

TEST(StoreOutbox, AFailedBatchLeavesNothingBehind) {
  TempDir dir;
  auto store = open_ok(dir.path());
  ASSERT_TRUE(store);
  EXPECT_FALSE(store->write([](Batch& batch) { batch.add_outbox(outbox("evt_0", "ops", 0)); }));
  bool later_call_ran = false;
  auto error = store->write([&](Batch& batch) {
    batch.upsert_watch(minimal_watch("p", "j", 1));
    batch.add_outbox(outbox("evt_1", "ops", 1));
    batch.mark_delivered("evt_0", "ops");
    batch.add_outbox(outbox("", "ops", 1));  // violates the schema's CHECK
    EXPECT_TRUE(batch.failed());
    batch.add_outbox(outbox("evt_2", "ops", 2));  // skipped after the failure
    later_call_ran = true;
  });
  ASSERT_TRUE(error);
  EXPECT_TRUE(later_call_ran);
  EXPECT_TRUE(contains(error->message, dir.db_path()));
  EXPECT_TRUE(value_of(store->load_watches()).empty());
  EXPECT_EQ(keys_of(value_of(store->load_outbox())), (std::vector<std::string>{"evt_0/ops"}));
  // The store is usable again at once.
  EXPECT_FALSE(store->write([](Batch& batch) { batch.add_outbox(outbox("evt_3", "ops", 3)); }));
  EXPECT_EQ(value_of(store->load_outbox()).size(), 2u);
}

TEST(StoreOutbox, AThrowingFillRollsBackAndPassesTheExceptionOn) {
  TempDir dir;
  auto store = open_ok(dir.path());
  ASSERT_TRUE(store);
  EXPECT_THROW(store->write([](Batch& batch) {
    batch.add_outbox(outbox("evt_1", "ops", 1));
    throw std::runtime_error("caller gave up");
  }),
               std::runtime_error);
  EXPECT_TRUE(value_of(store->load_outbox()).empty());
  EXPECT_FALSE(store->write([](Batch& batch) { batch.add_outbox(outbox("evt_2", "ops", 2)); }));
  EXPECT_EQ(value_of(store->load_outbox()).size(), 1u);
}

TEST(StoreOutbox, WriteInsideWriteIsAnErrorNotACorruption) {
  TempDir dir;
  auto store = open_ok(dir.path());
  ASSERT_TRUE(store);
  std::optional<StoreError> inner;
  auto outer = store->write([&](Batch& batch) {
    batch.add_outbox(outbox("evt_1", "ops", 1));
    inner = store->write([](Batch& nested) { nested.add_outbox(outbox("evt_2", "ops", 2)); });
  });
  EXPECT_TRUE(inner);
  EXPECT_FALSE(outer);
  EXPECT_EQ(keys_of(value_of(store->load_outbox())), (std::vector<std::string>{"evt_1/ops"}));
}

TEST(StoreOutbox, TenThousandRowsInOneBatch) {
  TempDir dir;
  constexpr int count = 10'000;
  {
    auto store = open_ok(dir.path());
    ASSERT_TRUE(store);
    EXPECT_FALSE(store->write([](Batch& batch) {
      for (int i = 0; i < count; ++i)
        batch.add_outbox(outbox("evt_" + std::to_string(i), "archive", 1000));
    }));
  }
  auto store = open_ok(dir.path());
  ASSERT_TRUE(store);
  auto rows = value_of(store->load_outbox());
  ASSERT_EQ(rows.size(), static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i)
    ASSERT_EQ(rows[static_cast<std::size_t>(i)].event_id, "evt_" + std::to_string(i));
}

TEST(StoreOutbox, OutboxRowFromAnEvent) {
  watch::Event event;
  event.id = "evt_abc";
  event.type = EventType::job_failed;
  event.document = R"({"id":"evt_abc"})";
  const OutboxRow row = outbox_row(event, "ops", at_ms(42));
  EXPECT_EQ(row, (OutboxRow{"evt_abc", "ops", event.document, EventType::job_failed, at_ms(42), 0,
                            at_ms(42), ""}));
}

}  // namespace
}  // namespace jobwatch::store::test
