// Timing models in the state store (SPEC §7): rows round trip byte for
// byte, upserts replace, a schema-2 file gains the table, and a model
// buffered with a terminal transition commits (or fails) with it.
#include "jobwatch/store/write_buffer.hpp"
#include "store_test_support.hpp"

namespace jobwatch::store::test {
namespace {

TimingModelRow model_row(std::string project, std::string job_type, std::string blob,
                         std::int64_t updated_ms) {
  return {"app-v2", std::move(project), std::move(job_type), std::move(blob), at_ms(updated_ms)};
}

TEST(StoreTimingModels, RowsRoundTripByteForByte) {
  TempDir dir;
  auto store = open_ok(dir.path());
  ASSERT_TRUE(store);
  EXPECT_TRUE(value_of(store->load_timing_models()).empty());
  std::string blob("\x00\x01\xff binary\x00tail", 15);
  const TimingModelRow a = model_row("p1", "createDesktops", blob, 1'700'000'000'123);
  const TimingModelRow b = model_row("p1", "", "x", 1'700'000'000'456);  // no job type named
  EXPECT_FALSE(store->write([&](Batch& batch) {
    batch.upsert_timing_model(a);
    batch.upsert_timing_model(b);
  }));
  store.reset();
  store = open_ok(dir.path());
  ASSERT_TRUE(store);
  auto rows = value_of(store->load_timing_models());
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0], b);  // ordered by key: "" < "createDesktops"
  EXPECT_EQ(rows[1], a);
  EXPECT_EQ(rows[1].model.size(), 15u);
  EXPECT_EQ(raw_text(dir.db_path(), "SELECT typeof(model) FROM timing_models LIMIT 1"), "blob");
}

TEST(StoreTimingModels, UpsertReplacesTheModelOfTheKey) {
  TempDir dir;
  auto store = open_ok(dir.path());
  ASSERT_TRUE(store);
  EXPECT_FALSE(store->write(
      [&](Batch& batch) { batch.upsert_timing_model(model_row("p", "t", "old", 1)); }));
  EXPECT_FALSE(store->write([&](Batch& batch) {
    batch.upsert_timing_model(model_row("p", "t", "new", 2));
    batch.upsert_timing_model(model_row("q", "t", "other", 3));
  }));
  auto rows = value_of(store->load_timing_models());
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0], model_row("p", "t", "new", 2));
  EXPECT_EQ(rows[1], model_row("q", "t", "other", 3));
}

// A store from before the timing models (schema 2) gains the empty table;
// its watches are untouched.
TEST(StoreTimingModels, SchemaTwoGainsTheTable) {
  TempDir dir;
  {
    auto store = open_ok(dir.path());
    ASSERT_TRUE(store);
    EXPECT_FALSE(
        store->write([&](Batch& batch) { batch.upsert_watch(minimal_watch("p", "j1", 1000)); }));
  }
  raw_exec(dir.db_path(), std::string(kUndoSchemaSix) + kUndoSchemaFive + kDropSchemaFour +
                              "DROP TABLE timing_models; PRAGMA user_version = 2");
  auto store = open_ok(dir.path());
  ASSERT_TRUE(store);
  EXPECT_EQ(raw_int(dir.db_path(), "PRAGMA user_version"), Store::schema_version);
  EXPECT_EQ(value_of(store->load_watches()).size(), 1u);
  EXPECT_TRUE(value_of(store->load_timing_models()).empty());
  EXPECT_FALSE(
      store->write([&](Batch& batch) { batch.upsert_timing_model(model_row("p", "t", "m", 1)); }));
  EXPECT_EQ(value_of(store->load_timing_models()).size(), 1u);
}

// The daemon buffers the model a job's end taught with the watch and the
// terminal event's outbox rows: one flush, one transaction.
TEST(StoreTimingModels, CommitsWithTheTerminalTransitionOrNotAtAll) {
  TempDir dir;
  auto store = open_ok(dir.path());
  ASSERT_TRUE(store);
  {
    WriteBuffer buffer;
    buffer.upsert_watch(minimal_watch("p", "j1", 1));
    buffer.add_outbox(outbox("evt_1", "ops", 1));
    buffer.upsert_timing_model(model_row("p", "t", "m1", 1));
    EXPECT_FALSE(buffer.flush(*store));
    EXPECT_EQ(value_of(store->load_watches()).size(), 1u);
    EXPECT_EQ(value_of(store->load_outbox()).size(), 1u);
    EXPECT_EQ(value_of(store->load_timing_models()).size(), 1u);
  }
  {
    WriteBuffer buffer;
    buffer.upsert_watch(minimal_watch("p", "j2", 2));
    buffer.upsert_timing_model(model_row("p", "t", "m2", 2));
    buffer.add_outbox(outbox("", "ops", 2));  // violates the schema: all is rolled back
    EXPECT_TRUE(buffer.flush(*store));
    EXPECT_EQ(value_of(store->load_watches()).size(), 1u);
    auto rows = value_of(store->load_timing_models());
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].model, "m1");
  }
}

}  // namespace
}  // namespace jobwatch::store::test
