// The SQLite RAII wrapper and the error wording.
#include "sqlite.hpp"

#include <cerrno>
#include <climits>
#include <system_error>

namespace jobwatch::store::detail {

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(stmt_);
    stmt_ = std::exchange(other.stmt_, nullptr);
    bind_rc_ = other.bind_rc_;
  }
  return *this;
}

void Statement::bind(int index, std::string_view text) {
  if (text.size() > static_cast<std::size_t>(INT_MAX)) {
    check(SQLITE_TOOBIG);
    return;
  }
  // A non-null pointer even for "" so the value is '' and not NULL.
  const char* data = text.data() ? text.data() : "";
  check(sqlite3_bind_text(stmt_, index, data, static_cast<int>(text.size()), SQLITE_STATIC));
}

void Statement::bind(int index, std::int64_t value) {
  check(sqlite3_bind_int64(stmt_, index, value));
}

void Statement::bind(int index, const std::optional<std::int64_t>& value) {
  if (value)
    bind(index, *value);
  else
    bind_null(index);
}

void Statement::bind_blob(int index, std::string_view bytes) {
  if (bytes.size() > static_cast<std::size_t>(INT_MAX)) {
    check(SQLITE_TOOBIG);
    return;
  }
  const char* data = bytes.data() ? bytes.data() : "";
  check(sqlite3_bind_blob(stmt_, index, data, static_cast<int>(bytes.size()), SQLITE_STATIC));
}

void Statement::bind_null(int index) {
  check(sqlite3_bind_null(stmt_, index));
}

int Statement::step() {
  if (bind_rc_ != SQLITE_OK) return bind_rc_;
  return sqlite3_step(stmt_);
}

void Statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  bind_rc_ = SQLITE_OK;
}

bool Statement::is_null(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

std::int64_t Statement::int64(int column) const {
  return sqlite3_column_int64(stmt_, column);
}

std::optional<std::int64_t> Statement::optional_int64(int column) const {
  if (is_null(column)) return std::nullopt;
  return int64(column);
}

std::string_view Statement::text(int column) const {
  const auto* data = sqlite3_column_text(stmt_, column);
  if (!data) return {};
  return {reinterpret_cast<const char*>(data),
          static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column))};
}

std::string_view Statement::blob(int column) const {
  const void* data = sqlite3_column_blob(stmt_, column);
  if (!data) return {};
  return {static_cast<const char*>(data),
          static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column))};
}

std::variant<std::unique_ptr<Database>, StoreError> Database::open(std::string path) {
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(
      path.c_str(), &db,
      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE,
      nullptr);
  // The handle exists even on failure (it carries the message); the
  // Database owns it from here so it is closed on every path.
  std::unique_ptr<Database> database(new Database(db, std::move(path)));
  if (rc != SQLITE_OK) {
    if (!db) return StoreError{"cannot open " + database->path_ + ": out of memory"};
    return database->error(rc, "open");
  }
  // SQLite silently falls back to read-only when the file is not writable;
  // every later write would fail, so say it now.
  if (sqlite3_db_readonly(db, "main") == 1) {
    return StoreError{"cannot open " + database->path_ +
                      " for writing: permission denied; jobwatchd's user must be able to read "
                      "and write it and its directory"};
  }
  return database;
}

Database::~Database() {
  // Statements are finalized by their owners before this runs.
  sqlite3_close(db_);
}

std::variant<Statement, StoreError> Database::prepare(std::string_view sql, bool persistent) {
  sqlite3_stmt* stmt = nullptr;
  const int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                    persistent ? SQLITE_PREPARE_PERSISTENT : 0, &stmt, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(stmt);
    return error(rc, "open");
  }
  return Statement(stmt);
}

std::optional<StoreError> Database::exec(const char* sql, std::string_view doing) {
  const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return error(rc, doing);
  return std::nullopt;
}

StoreError Database::error(int rc, std::string_view doing) const {
  const std::string detail = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
  const int primary = rc & 0xff;
  // The OS error is only about this failure for I/O and open errors; after
  // others it may be a stale one from a harmless probe.
  const int sys = db_ && (primary == SQLITE_IOERR || primary == SQLITE_CANTOPEN)
                      ? sqlite3_system_errno(db_)
                      : 0;
  std::string text;
  switch (primary) {
    case SQLITE_NOTADB:
      return {path_ + " is not a jobwatch state database (" + detail + "); " +
              std::string(way_out)};
    case SQLITE_CORRUPT:
      return {path_ + " is damaged (" + detail + "); " + std::string(way_out)};
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return {path_ + " is locked (" + detail +
              "); is another jobwatchd using the same state directory?"};
    default:
      break;
  }
  text.append("cannot ").append(doing).append(" ").append(path_).append(": ").append(detail);
  const bool access = primary == SQLITE_PERM || primary == SQLITE_READONLY ||
                      primary == SQLITE_AUTH || sys == EACCES || sys == EPERM || sys == EROFS;
  if (sys != 0) text.append(" (").append(std::generic_category().message(sys)).append(")");
  if (access) {
    text.append("; jobwatchd's user must be able to read and write it and its directory");
  } else if (primary == SQLITE_FULL) {
    text.append("; free some disk space");
  }
  return {std::move(text)};
}

}  // namespace jobwatch::store::detail
