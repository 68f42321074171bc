// Opening the state store: schema versions, and refusing files that are
// damaged, foreign, newer or inaccessible instead of starting fresh.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "store_test_support.hpp"

namespace jobwatch::store::test {
namespace {

TEST(StoreOpen, FreshDatabaseGetsTheLatestSchemaVersion) {
  TempDir dir;
  {
    auto store = open_ok(dir.path());
    ASSERT_TRUE(store);
    EXPECT_EQ(store->path(), dir.db_path());
  }
  EXPECT_EQ(raw_int(dir.db_path(), "PRAGMA user_version"), 6);
  EXPECT_EQ(Store::schema_version, 6);
  EXPECT_EQ(raw_text(dir.db_path(), "PRAGMA journal_mode"), "wal");
  EXPECT_EQ(raw_int(dir.db_path(),
                    "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name IN "
                    "('watches', 'outbox', 'dead_letters', 'timing_models', 'watch_polls', "
                    "'event_documents')"),
            6);
}

TEST(StoreOpen, CreatesTheMissingDirectoryWithMode0750) {
  TempDir dir;
  const mode_t old_mask = ::umask(022);
  const std::string nested = dir.path() + "/var/lib/jobwatch";
  auto store = open_ok(nested);
  ::umask(old_mask);
  ASSERT_TRUE(store);
  struct stat st {};
  ASSERT_EQ(::stat(nested.c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0750u);
  EXPECT_TRUE(std::filesystem::exists(nested + "/jobwatch.db"));
}

TEST(StoreOpen, ReopenKeepsTheData) {
  TempDir dir;
  {
    auto store = open_ok(dir.path());
    ASSERT_TRUE(store);
    EXPECT_FALSE(store->write([](Batch& batch) {
      batch.upsert_watch(minimal_watch("p", "j1", 1000));
      batch.add_outbox(outbox("evt_1", "journal", 1000));
    }));
  }
  auto store = open_ok(dir.path());
  ASSERT_TRUE(store);
  auto watches = value_of(store->load_watches());
  ASSERT_EQ(watches.size(), 1u);
  EXPECT_EQ(watches[0].job.job_id, "j1");
  auto rows = value_of(store->load_outbox());
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].event_id, "evt_1");
  EXPECT_EQ(raw_int(dir.db_path(), "PRAGMA user_version"), Store::schema_version);
}

// A schema-4 store owes events with a document per outbox row: after the
// upgrade each document is kept once, and every owed row still loads with
// it (and dead-letters with it).
TEST(StoreOpen, SchemaFourOutboxRowsKeepTheirDocuments) {
  TempDir dir;
  {
    auto store = open_ok(dir.path());
    ASSERT_TRUE(store);
    EXPECT_FALSE(store->write([](Batch& batch) {
      batch.add_outbox(outbox("evt_1", "journal", 1000));
      batch.add_outbox(outbox("evt_1", "hook", 1000));
      batch.add_outbox(outbox("evt_2", "journal", 1001));
    }));
  }
  raw_exec(dir.db_path(),
           std::string(kUndoSchemaSix) + kUndoSchemaFive + "PRAGMA user_version = 4");
  ASSERT_EQ(raw_int(dir.db_path(), "SELECT count(*) FROM outbox WHERE document LIKE '{%'"), 3);
  auto store = open_ok(dir.path());
  ASSERT_TRUE(store);
  EXPECT_EQ(raw_int(dir.db_path(), "PRAGMA user_version"), Store::schema_version);
  EXPECT_EQ(raw_int(dir.db_path(), "SELECT count(*) FROM event_documents"), 2);
  auto rows = value_of(store->load_outbox());
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0], outbox("evt_1", "journal", 1000));
  EXPECT_EQ(rows[1], outbox("evt_1", "hook", 1000));
  EXPECT_EQ(rows[2], outbox("evt_2", "journal", 1001));
  EXPECT_FALSE(store->write(
      [](Batch& batch) { batch.dead_letter("evt_1", "hook", "gave up", 3, at_ms(2000)); }));
  auto dead = value_of(store->load_dead_letters(10));
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].document, outbox("evt_1", "hook", 1000).document);
}

// A schema-5 store named the columns state, expected_end and
// abandon_reason: after the upgrade they carry SPEC §3's names and every
// value in them, in the watch row and in its poll checkpoint.
TEST(StoreOpen, SchemaFiveColumnsTakeTheSpecsNames) {
  TempDir dir;
  StoredWatch old = minimal_watch("p", "j1", 1000);
  old.status = watch::WatchStatus::abandoned;
  old.reason = watch::AbandonReason::deadline;
  old.expected_end_time = at_ms(5000);
  old.finished_at = at_ms(6000);
  StoredWatch checkpointed = minimal_watch("p", "j2", 1001);
  WatchPolls polls{checkpointed.job, 3, at_ms(1500), at_ms(2500), at_ms(9000), "", {}};
  {
    auto store = open_ok(dir.path());
    ASSERT_TRUE(store);
    EXPECT_FALSE(store->write([&](Batch& batch) {
      batch.upsert_watch(old);
      batch.upsert_watch(checkpointed);
      batch.save_polls(polls);
    }));
  }
  raw_exec(dir.db_path(), std::string(kUndoSchemaSix) + "PRAGMA user_version = 5");
  ASSERT_EQ(raw_text(dir.db_path(), "SELECT state FROM watches WHERE job_id = 'j1'"), "abandoned");
  auto store = open_ok(dir.path());
  ASSERT_TRUE(store);
  EXPECT_EQ(raw_int(dir.db_path(), "PRAGMA user_version"), Store::schema_version);
  EXPECT_EQ(
      raw_text(dir.db_path(), "SELECT status || ' ' || reason FROM watches WHERE job_id = 'j1'"),
      "abandoned deadline");
  auto watches = value_of(store->load_watches());
  ASSERT_EQ(watches.size(), 2u);
  EXPECT_EQ(watches[0], old);
  EXPECT_EQ(watches[1].polls, 3u);
  EXPECT_EQ(watches[1].expected_end_time, at_ms(9000));
}

// A store written before watches named their API (schema 1): its watches
// come back as app-v1 watches, with nothing else lost.
TEST(StoreOpen, SchemaOneWatchesBecomeAppV1) {
  TempDir dir;
  {
    auto store = open_ok(dir.path());
    ASSERT_TRUE(store);
    StoredWatch old = minimal_watch("p", "j1", 1000);
    old.polls = 7;
    EXPECT_FALSE(store->write([&](Batch& batch) { batch.upsert_watch(old); }));
  }
  // Back to what schema 1 was: no api or job_type column.
  raw_exec(dir.db_path(),
           std::string(kUndoSchemaSix) + kUndoSchemaFive + kDropSchemaFour +
               "ALTER TABLE watches DROP COLUMN api; ALTER TABLE watches DROP COLUMN job_type; "
               "DROP TABLE timing_models; PRAGMA user_version = 1");
  auto store = open_ok(dir.path());
  ASSERT_TRUE(store);
  EXPECT_EQ(raw_int(dir.db_path(), "PRAGMA user_version"), Store::schema_version);
  auto watches = value_of(store->load_watches());
  ASSERT_EQ(watches.size(), 1u);
  EXPECT_EQ(watches[0].api, model::Api::app_v1);
  EXPECT_EQ(watches[0].job_type, "");
  EXPECT_EQ(watches[0].polls, 7u);
}

TEST(StoreOpen, UnknownApiInARowIsDamage) {
  TempDir dir;
  {
    auto store = open_ok(dir.path());
    ASSERT_TRUE(store);
    EXPECT_FALSE(
        store->write([](Batch& batch) { batch.upsert_watch(minimal_watch("p", "j", 1)); }));
  }
  raw_exec(dir.db_path(), "UPDATE watches SET api = 'app-v9'");
  auto store = open_ok(dir.path());
  ASSERT_TRUE(store);
  auto loaded = store->load_watches();
  ASSERT_TRUE(std::holds_alternative<StoreError>(loaded));
  EXPECT_TRUE(contains(std::get<StoreError>(loaded).message, "unknown api 'app-v9'"));
}

TEST(StoreOpen, DatabaseFromANewerJobwatchIsRefused) {
  TempDir dir;
  { ASSERT_TRUE(open_ok(dir.path())); }
  const std::string newer = std::to_string(Store::schema_version + 1);
  raw_exec(dir.db_path(), "PRAGMA user_version = " + newer);
  const std::string message = open_error(dir.path());
  EXPECT_TRUE(contains(message, dir.db_path()));
  EXPECT_TRUE(contains(message, "created by a newer jobwatch"));
  EXPECT_EQ(raw_int(dir.db_path(), "PRAGMA user_version"), Store::schema_version + 1);  // as it was
}

TEST(StoreOpen, GarbageFileIsNamedAndLeftAlone) {
  TempDir dir;
  const std::string garbage(8192, 'x');
  write_file(dir.db_path(), garbage);
  const std::string message = open_error(dir.path());
  EXPECT_TRUE(contains(message, dir.db_path()));
  EXPECT_TRUE(contains(message, "is not a jobwatch state database"));
  EXPECT_TRUE(contains(message, "move it aside to start fresh, or restore a backup"));
  EXPECT_EQ(read_file(dir.db_path()), garbage);  // never a silent fresh start
}

TEST(StoreOpen, TruncatedFileIsAnError) {
  TempDir dir;
  {
    auto store = open_ok(dir.path());
    ASSERT_TRUE(store);
    EXPECT_FALSE(store->write([](Batch& batch) {
      for (int i = 0; i < 2000; ++i) {
        auto row = outbox("evt_" + std::to_string(i), "archive", i);
        row.document.append(200, 'd');
        batch.add_outbox(row);
      }
    }));
  }
  const auto size = std::filesystem::file_size(dir.db_path());
  ASSERT_GT(size, 100'000u);
  std::filesystem::resize_file(dir.db_path(), size / 2);
  const std::string message = open_error(dir.path());
  EXPECT_TRUE(contains(message, dir.db_path()));
  EXPECT_TRUE(contains(message, "move it aside to start fresh, or restore a backup"));
}

TEST(StoreOpen, DamagedPageFailsTheIntegrityCheck) {
  TempDir dir;
  {
    auto store = open_ok(dir.path());
    ASSERT_TRUE(store);
    EXPECT_FALSE(store->write([](Batch& batch) {
      for (int i = 0; i < 2000; ++i) {
        auto row = outbox("evt_" + std::to_string(i), "archive", i);
        row.document.append(200, 'd');
        batch.add_outbox(row);
      }
    }));
  }
  {
    // Overwrites one b-tree page in the middle of the file with junk.
    std::fstream file(dir.db_path(), std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(std::streamoff{4096} * 5);
    const std::string junk(4096, 'Z');
    file.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
  const std::string message = open_error(dir.path());
  EXPECT_TRUE(contains(message, dir.db_path() + " is damaged"));
  EXPECT_TRUE(contains(message, "move it aside to start fresh, or restore a backup"));
  EXPECT_EQ(message.find('\n'), std::string::npos);
}

TEST(StoreOpen, ForeignSqliteDatabaseIsRefused) {
  TempDir dir;
  raw_exec(dir.db_path(), "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)");
  const std::string message = open_error(dir.path());
  EXPECT_TRUE(contains(message, dir.db_path()));
  EXPECT_TRUE(contains(message, "is not a jobwatch state database"));
  EXPECT_EQ(raw_int(dir.db_path(), "SELECT count(*) FROM sqlite_schema WHERE name = 'watches'"), 0);
}

TEST(StoreOpen, OtherApplicationIdIsRefused) {
  TempDir dir;
  raw_exec(dir.db_path(), "PRAGMA application_id = 42");
  const std::string message = open_error(dir.path());
  EXPECT_TRUE(contains(message, "is not a jobwatch state database"));
  EXPECT_TRUE(contains(message, "another application"));
}

TEST(StoreOpen, EmptyFileIsAFreshDatabase) {
  // What a crash during the very first open leaves behind: nothing was ever
  // acknowledged from it, so it is not damage.
  TempDir dir;
  write_file(dir.db_path(), "");
  auto store = open_ok(dir.path());
  ASSERT_TRUE(store);
  EXPECT_TRUE(value_of(store->load_watches()).empty());
}

TEST(StoreOpen, StateDirThatIsAFileIsAnError) {
  TempDir dir;
  const std::string file = dir.path() + "/state";
  write_file(file, "not a directory");
  const std::string message = open_error(file);
  EXPECT_TRUE(contains(message, file));
  EXPECT_TRUE(contains(message, "not a directory"));
}

TEST(StoreOpen, StateDirThatCannotBeCreatedIsAnError) {
  TempDir dir;
  const std::string file = dir.path() + "/state";
  write_file(file, "x");
  const std::string wanted = file + "/sub";
  const std::string message = open_error(wanted);
  EXPECT_TRUE(contains(message, "cannot create the state directory " + wanted));
}

TEST(StoreOpen, EmptyStateDirIsAnError) {
  EXPECT_TRUE(contains(open_error(""), "state.dir"));
}

TEST(StoreOpen, UnreadableFileIsAnError) {
  if (::geteuid() == 0) GTEST_SKIP() << "root ignores file modes";
  TempDir dir;
  { ASSERT_TRUE(open_ok(dir.path())); }
  ASSERT_EQ(::chmod(dir.db_path().c_str(), 0), 0);
  const std::string message = open_error(dir.path());
  EXPECT_TRUE(contains(message, dir.db_path()));
  EXPECT_TRUE(contains(message, "read and write"));
}

TEST(StoreOpen, ReadOnlyFileIsAnError) {
  if (::geteuid() == 0) GTEST_SKIP() << "root ignores file modes";
  TempDir dir;
  { ASSERT_TRUE(open_ok(dir.path())); }
  ASSERT_EQ(::chmod(dir.db_path().c_str(), 0400), 0);
  const std::string message = open_error(dir.path());
  EXPECT_TRUE(contains(message, dir.db_path()));
  EXPECT_TRUE(contains(message, "read and write"));
}

TEST(StoreOpen, ReadOnlyDirectoryIsAnError) {
  // WAL needs its -wal and -shm files beside the database.
  if (::geteuid() == 0) GTEST_SKIP() << "root ignores directory modes";
  TempDir dir;
  const std::string state = dir.path() + "/state";
  { ASSERT_TRUE(open_ok(state)); }
  ASSERT_EQ(::chmod(state.c_str(), 0500), 0);
  const std::string message = open_error(state);
  EXPECT_TRUE(contains(message, state + "/jobwatch.db"));
  EXPECT_TRUE(contains(message, "read and write"));
}

TEST(StoreOpen, UnreadableDirectoryIsAnError) {
  if (::geteuid() == 0) GTEST_SKIP() << "root ignores directory modes";
  TempDir dir;
  const std::string state = dir.path() + "/state";
  { ASSERT_TRUE(open_ok(state)); }
  ASSERT_EQ(::chmod(state.c_str(), 0), 0);
  const std::string message = open_error(state);
  EXPECT_TRUE(contains(message, state + "/jobwatch.db"));
  EXPECT_TRUE(contains(message, "Permission denied"));
}

}  // namespace
}  // namespace jobwatch::store::test
