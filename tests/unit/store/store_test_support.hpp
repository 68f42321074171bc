// Helpers for the store tests: a temporary state directory, raw SQLite access
// to inspect or tamper with the file, and unwrapping of results.
#pragma once

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <variant>

#include "jobwatch/store/store.hpp"

namespace jobwatch::store::test {

class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "jobwatch-store-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    // Restore modes a test took away, so cleanup can descend.
    std::error_code ec;
    for (auto it = std::filesystem::recursive_directory_iterator(
             path_, std::filesystem::directory_options::skip_permission_denied, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
      ::chmod(it->path().c_str(), 0700);
    }
    ::chmod(path_.c_str(), 0700);
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string db_path() const { return path_ + "/jobwatch.db"; }

 private:
  std::string path_;
};

// EXPECT_TRUE(contains(message, "…")) prints both on failure.
inline ::testing::AssertionResult contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << text << "\" does not contain \"" << part << "\"";
}

inline std::unique_ptr<Store> open_ok(const std::string& dir) {
  auto opened = Store::open(dir);
  if (auto* error = std::get_if<StoreError>(&opened)) {
    ADD_FAILURE() << "open failed: " << error->message;
    return nullptr;
  }
  return std::move(std::get<std::unique_ptr<Store>>(opened));
}

inline std::string open_error(const std::string& dir) {
  auto opened = Store::open(dir);
  if (auto* error = std::get_if<StoreError>(&opened)) return error->message;
  ADD_FAILURE() << "open of " << dir << " succeeded but should have failed";
  return {};
}

template <class T>
T value_of(std::variant<T, StoreError> result) {
  if (auto* error = std::get_if<StoreError>(&result)) {
    ADD_FAILURE() << "store error: " << error->message;
    return T{};
  }
  return std::move(std::get<T>(result));
}

// Runs SQL on the file directly (the store must be closed).
inline void raw_exec(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* message = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message);
  EXPECT_EQ(rc, SQLITE_OK) << (message ? message : "");
  sqlite3_free(message);
  sqlite3_close(db);
}

inline std::int64_t raw_int(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  std::int64_t result = -1;
  if (sqlite3_open(path.c_str(), &db) == SQLITE_OK) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW) {
      result = sqlite3_column_int64(stmt, 0);
    }
    sqlite3_finalize(stmt);
  }
  sqlite3_close(db);
  return result;
}

inline std::string raw_text(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  std::string result;
  if (sqlite3_open(path.c_str(), &db) == SQLITE_OK) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW) {
      if (const auto* text = sqlite3_column_text(stmt, 0))
        result = reinterpret_cast<const char*>(text);
    }
    sqlite3_finalize(stmt);
  }
  sqlite3_close(db);
  return result;
}

inline void write_file(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline model::WallTime at_ms(std::int64_t ms) {
  return model::WallTime{std::chrono::milliseconds{ms}};
}

inline OutboxRow outbox(std::string id, std::string sink, std::int64_t created_ms,
                        watch::EventType type = watch::EventType::job_succeeded) {
  OutboxRow row;
  row.document = R"({"id":")" + id + R"(","type":"job.succeeded"})";
  row.event_id = std::move(id);
  row.sink = std::move(sink);
  row.type = type;
  row.created_at = at_ms(created_ms);
  row.next_attempt_at = at_ms(created_ms);
  return row;
}

inline StoredWatch minimal_watch(std::string project, std::string job, std::int64_t created_ms) {
  StoredWatch w;
  w.job = {std::move(project), std::move(job)};
  w.created_at = at_ms(created_ms);
  w.deadline_at = at_ms(created_ms + 86'400'000);
  return w;
}

// SQL that takes a current database back to schema 5: the columns' names
// from before they were SPEC §3's.
inline constexpr const char* kUndoSchemaSix =
    "ALTER TABLE watches RENAME COLUMN status TO state; "
    "ALTER TABLE watches RENAME COLUMN expected_end_time TO expected_end; "
    "ALTER TABLE watches RENAME COLUMN reason TO abandon_reason; "
    "ALTER TABLE watch_polls RENAME COLUMN expected_end_time TO expected_end; ";

// SQL that takes a schema-5 database back to schema 4: each outbox row
// with its own copy of the document again.
inline constexpr const char* kUndoSchemaFive =
    "DROP TRIGGER event_documents_owed_no_more; "
    "ALTER TABLE outbox ADD COLUMN document TEXT NOT NULL DEFAULT ''; "
    "UPDATE outbox SET document = (SELECT document FROM event_documents d "
    "WHERE d.event_id = outbox.event_id); "
    "DROP TABLE event_documents; ";

// SQL that takes a schema-4 database back to schema 3 (before watch_polls),
// for tests that rebuild an older schema by hand (after kUndoSchemaFive).
inline constexpr const char* kDropSchemaFour =
    "DROP TRIGGER watch_polls_superseded; DROP TRIGGER watch_polls_stale; "
    "DROP TRIGGER watch_polls_gone; "
    "DROP TABLE watch_polls; ";

}  // namespace jobwatch::store::test
