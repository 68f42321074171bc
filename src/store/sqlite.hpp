// A thin RAII layer over the SQLite C API: one connection, statements that
// are prepared once and reused, and error messages that name the file.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "jobwatch/store/rows.hpp"

namespace jobwatch::store::detail {

class Statement {
 public:
  Statement() = default;
  explicit Statement(sqlite3_stmt* stmt) : stmt_(stmt) {}
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(Statement&& other) noexcept
      : stmt_(std::exchange(other.stmt_, nullptr)), bind_rc_(other.bind_rc_) {}
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Text is bound without a copy: it must stay alive until reset().
  void bind(int index, std::string_view text);
  void bind(int index, std::int64_t value);
  void bind(int index, const std::optional<std::int64_t>& value);
  void bind_null(int index);
  // A BLOB, bound without a copy like text.
  void bind_blob(int index, std::string_view bytes);

  // SQLITE_ROW, SQLITE_DONE or an error code (also a failed bind's).
  int step();
  // Back to the start with no bindings, so no read stays open between uses.
  void reset();

  bool is_null(int column) const;
  std::int64_t int64(int column) const;
  std::optional<std::int64_t> optional_int64(int column) const;
  std::string_view text(int column) const;
  std::string_view blob(int column) const;

 private:
  void check(int rc) {
    if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  }

  sqlite3_stmt* stmt_ = nullptr;
  int bind_rc_ = SQLITE_OK;
};

// Resets the statement at scope exit, whatever path leaves the scope.
class Use {
 public:
  explicit Use(Statement& stmt) : stmt_(stmt) {}
  ~Use() { stmt_.reset(); }
  Use(const Use&) = delete;
  Use& operator=(const Use&) = delete;
  Statement* operator->() { return &stmt_; }
  Statement& operator*() { return stmt_; }

 private:
  Statement& stmt_;
};

class Database {
 public:
  static std::variant<std::unique_ptr<Database>, StoreError> open(std::string path);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  sqlite3* handle() const { return db_; }
  const std::string& path() const { return path_; }

  // Persistent statements are kept for the life of the connection.
  std::variant<Statement, StoreError> prepare(std::string_view sql, bool persistent = true);
  // Runs SQL without results (pragmas, DDL); may hold several statements.
  std::optional<StoreError> exec(const char* sql, std::string_view doing);

  // A message for `rc` naming the file; `doing` is a verb: "open", "write to"…
  StoreError error(int rc, std::string_view doing) const;

 private:
  Database(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}

  sqlite3* db_ = nullptr;
  std::string path_;
};

// The way out for a file that is damaged or not ours.
inline constexpr std::string_view way_out = "move it aside to start fresh, or restore a backup";

}  // namespace jobwatch::store::detail
