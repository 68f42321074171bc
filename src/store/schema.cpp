// The versioned schema. Each migration takes the database from version i to
// i + 1 (PRAGMA user_version); released migrations are never edited, only
// appended to.
#include "schema.hpp"

#include <array>
#include <cstdio>
#include <string>

#include "jobwatch/store/store.hpp"

namespace jobwatch::store::detail {

namespace {

// Times are unix milliseconds. JSON columns hold what the engine produced
// (labels object, watch::to_json(TrackState)) or received (last_job_json).
constexpr const char* migration_1 = R"sql(
CREATE TABLE watches (
  project_id     TEXT NOT NULL CHECK (project_id <> ''),
  job_id         TEXT NOT NULL CHECK (job_id <> ''),
  labels         TEXT NOT NULL,
  submitter      INTEGER NOT NULL,
  created_at     INTEGER NOT NULL,
  deadline_at    INTEGER NOT NULL,
  state          TEXT NOT NULL,
  track          TEXT NOT NULL,
  subjobs_total  INTEGER NOT NULL,
  subjobs_done   INTEGER NOT NULL,
  polls          INTEGER NOT NULL,
  last_poll_at   INTEGER,
  next_poll_at   INTEGER,
  expected_end   INTEGER,
  last_error     TEXT NOT NULL,
  last_job_json  TEXT NOT NULL,
  abandon_reason TEXT,
  final_event    TEXT NOT NULL,
  finished_at    INTEGER,
  PRIMARY KEY (project_id, job_id)
) STRICT;
CREATE INDEX watches_finished_at ON watches (finished_at) WHERE finished_at IS NOT NULL;

-- seq keeps the order events were added in (a subjob's event before its
-- job's); rowid order alone could change under VACUUM.
CREATE TABLE outbox (
  seq             INTEGER PRIMARY KEY,
  event_id        TEXT NOT NULL CHECK (event_id <> ''),
  sink            TEXT NOT NULL CHECK (sink <> ''),
  document        TEXT NOT NULL,
  event_type      TEXT NOT NULL,
  created_at      INTEGER NOT NULL,
  attempts        INTEGER NOT NULL,
  next_attempt_at INTEGER NOT NULL,
  last_error      TEXT NOT NULL,
  UNIQUE (event_id, sink)
) STRICT;

CREATE TABLE dead_letters (
  seq        INTEGER PRIMARY KEY,
  event_id   TEXT NOT NULL,
  sink       TEXT NOT NULL,
  document   TEXT NOT NULL,
  event_type TEXT NOT NULL,
  reason     TEXT NOT NULL,
  failed_at  INTEGER NOT NULL,
  attempts   INTEGER NOT NULL
) STRICT;

PRAGMA application_id = 1786209378;
)sql";

// Watches name their job API (SPEC §1); those from before it are app-v1.
constexpr const char* migration_2 = R"sql(
ALTER TABLE watches ADD COLUMN api TEXT NOT NULL DEFAULT 'app-v1';
ALTER TABLE watches ADD COLUMN job_type TEXT NOT NULL DEFAULT '';
)sql";

// The learned poll timing (SPEC §7), one row per (api, project_id, job_type):
// the model is a fixed-size blob schedule::TimingModel serialises.
constexpr const char* migration_3 = R"sql(
CREATE TABLE timing_models (
  api        TEXT NOT NULL,
  project_id TEXT NOT NULL,
  job_type   TEXT NOT NULL,
  model      BLOB NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (api, project_id, job_type)
) STRICT;
)sql";

// Poll bookkeeping saved apart from the watch row (the shutdown checkpoint):
// SQLite rewrites a whole row on UPDATE, last answer included, so saving
// the poll count of 100k watches in their rows rewrote ~170 MB. A row here
// is newer than its watch row's copy of these columns; any write of the
// watch row (a transition, a new watch) or its deletion drops it. There is
// no check that the watch exists when a row is saved (it would cost a
// lookup per row, ~40 % of the checkpoint): load_watches joins from
// `watches`, so a row without its watch is never read, and a new watch of
// that key drops it.
constexpr const char* migration_4 = R"sql(
CREATE TABLE watch_polls (
  project_id   TEXT NOT NULL,
  job_id       TEXT NOT NULL,
  polls        INTEGER NOT NULL,
  last_poll_at INTEGER,
  next_poll_at INTEGER,
  expected_end INTEGER,
  last_error   TEXT NOT NULL,
  PRIMARY KEY (project_id, job_id)
) STRICT, WITHOUT ROWID;
CREATE TRIGGER watch_polls_superseded AFTER UPDATE ON watches BEGIN
  DELETE FROM watch_polls WHERE project_id = OLD.project_id AND job_id = OLD.job_id;
END;
CREATE TRIGGER watch_polls_stale AFTER INSERT ON watches BEGIN
  DELETE FROM watch_polls WHERE project_id = NEW.project_id AND job_id = NEW.job_id;
END;
CREATE TRIGGER watch_polls_gone AFTER DELETE ON watches BEGIN
  DELETE FROM watch_polls WHERE project_id = OLD.project_id AND job_id = OLD.job_id;
END;
)sql";

// Each event's document once, not once per sink it is owed to: with a file
// and a webhook sink every document was written twice, and documents are
// most of what the store writes (a job event carries every subjob's
// detail). The document goes when the event's last outbox row does
// (delivered or dead-lettered, which copies it first).
constexpr const char* migration_5 = R"sql(
CREATE TABLE event_documents (
  event_id TEXT PRIMARY KEY CHECK (event_id <> ''),
  document TEXT NOT NULL
) STRICT;
INSERT INTO event_documents (event_id, document)
  SELECT event_id, document FROM outbox WHERE true
  ON CONFLICT (event_id) DO NOTHING;
ALTER TABLE outbox DROP COLUMN document;
CREATE TRIGGER event_documents_owed_no_more AFTER DELETE ON outbox
WHEN NOT EXISTS (SELECT 1 FROM outbox WHERE event_id = OLD.event_id) BEGIN
  DELETE FROM event_documents WHERE event_id = OLD.event_id;
END;
)sql";

// The columns take SPEC §3's names, the ones watch::WatchRecord has.
constexpr const char* migration_6 = R"sql(
ALTER TABLE watches RENAME COLUMN state TO status;
ALTER TABLE watches RENAME COLUMN expected_end TO expected_end_time;
ALTER TABLE watches RENAME COLUMN abandon_reason TO reason;
ALTER TABLE watch_polls RENAME COLUMN expected_end TO expected_end_time;
)sql";

constexpr std::array<const char*, 6> migrations = {migration_1, migration_2, migration_3,
                                                   migration_4, migration_5, migration_6};
static_assert(migrations.size() == Store::schema_version, "Store::schema_version is the count");

static_assert(application_id == 1786209378, "migration_1 writes the application id literally");

std::variant<std::int64_t, StoreError> query_int(Database& db, const char* sql) {
  auto prepared = db.prepare(sql, false);
  if (auto* error = std::get_if<StoreError>(&prepared)) return std::move(*error);
  auto& stmt = std::get<Statement>(prepared);
  const int rc = stmt.step();
  if (rc != SQLITE_ROW) return db.error(rc, "open");
  return stmt.int64(0);
}

std::variant<std::string, StoreError> query_text(Database& db, const char* sql) {
  auto prepared = db.prepare(sql, false);
  if (auto* error = std::get_if<StoreError>(&prepared)) return std::move(*error);
  auto& stmt = std::get<Statement>(prepared);
  const int rc = stmt.step();
  if (rc != SQLITE_ROW) return db.error(rc, "open");
  return std::string(stmt.text(0));
}

StoreError not_ours(const Database& db, const std::string& why) {
  return {db.path() + " is not a jobwatch state database (" + why + "); " + std::string(way_out)};
}

std::optional<StoreError> check_ownership(Database& db, std::int64_t version) {
  // The first read of the file: a file that is not SQLite fails here.
  auto app = query_int(db, "PRAGMA application_id");
  if (auto* error = std::get_if<StoreError>(&app)) return std::move(*error);
  const std::int64_t app_id = std::get<std::int64_t>(app);
  if (app_id != 0 && app_id != application_id) {
    char hex[32];
    std::snprintf(hex, sizeof hex, "0x%08llx", static_cast<unsigned long long>(app_id));
    return not_ours(db, std::string("it belongs to another application, id ") + hex);
  }
  if (version > latest_schema_version()) {
    return StoreError{db.path() + " was created by a newer jobwatch (schema version " +
                      std::to_string(version) + ", this jobwatch knows up to " +
                      std::to_string(latest_schema_version()) +
                      "); run the newer jobwatch, or move the file aside to start fresh"};
  }
  if (version > 0 && app_id != application_id) {
    return not_ours(db, "no jobwatch application id");
  }
  if (version == 0) {
    auto objects = query_int(db, "SELECT count(*) FROM sqlite_schema");
    if (auto* error = std::get_if<StoreError>(&objects)) return std::move(*error);
    if (std::get<std::int64_t>(objects) > 0) {
      return not_ours(db, "it holds tables but no jobwatch schema version");
    }
  }
  return std::nullopt;
}

std::optional<StoreError> quick_check(Database& db) {
  auto result = query_text(db, "PRAGMA quick_check(1)");
  if (auto* error = std::get_if<StoreError>(&result)) return std::move(*error);
  auto first = std::get<std::string>(result);
  if (first != "ok") {
    // SQLite's report spans lines; an error message is one line.
    for (char& c : first)
      if (c == '\n') c = ' ';
    return StoreError{db.path() + " is damaged (integrity check: " + first + "); " +
                      std::string(way_out)};
  }
  return std::nullopt;
}

std::optional<StoreError> migrate(Database& db, std::int64_t from) {
  for (auto version = from; version < latest_schema_version(); ++version) {
    const std::string step = std::string("BEGIN IMMEDIATE;") + migrations[version] +
                             "PRAGMA user_version = " + std::to_string(version + 1) + ";COMMIT;";
    if (auto error = db.exec(step.c_str(), "upgrade the schema of")) {
      if (!sqlite3_get_autocommit(db.handle())) sqlite3_exec(db.handle(), "ROLLBACK", {}, {}, {});
      return error;
    }
  }
  return std::nullopt;
}

}  // namespace

int latest_schema_version() {
  return static_cast<int>(migrations.size());
}

std::optional<StoreError> prepare_database(Database& db) {
  // A second daemon (or a checkpoint) holding a lock is waited for briefly
  // rather than failing the first statement at once.
  sqlite3_busy_timeout(db.handle(), 5000);

  auto version = query_int(db, "PRAGMA user_version");
  if (auto* error = std::get_if<StoreError>(&version)) return std::move(*error);
  if (auto error = check_ownership(db, std::get<std::int64_t>(version))) return error;

  auto mode = query_text(db, "PRAGMA journal_mode = WAL");
  if (auto* error = std::get_if<StoreError>(&mode)) return std::move(*error);
  if (std::get<std::string>(mode) != "wal") {
    return StoreError{"cannot use write-ahead logging for " + db.path() + " (journal mode stays " +
                      std::get<std::string>(mode) + "); put state.dir on a local file system"};
  }
  // FULL: a commit is on disk when it returns, so an acknowledged watch or
  // a committed event survives power loss, not just a crash of the daemon.
  // A checkpoint every 10,000 pages (~40 MB of WAL) rather than SQLite's
  // 1,000: an outbox row is written and, once delivered, deleted within
  // seconds, and a page changed many times between two checkpoints is
  // copied into the database once (docs/BENCHMARKS.md: +25-30 % events/s).
  if (auto error = db.exec(
          "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA wal_autocheckpoint = 10000;",
          "configure")) {
    return error;
  }
  if (auto error = quick_check(db)) return error;
  return migrate(db, std::get<std::int64_t>(version));
}

}  // namespace jobwatch::store::detail
