// The Store: opening, the statement cache, transactions and the queries.
#include "jobwatch/store/store.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <system_error>
#include <tuple>

#include "codec.hpp"
#include "schema.hpp"
#include "sqlite.hpp"

namespace jobwatch::store {

using detail::from_ms;
using detail::to_ms;
using detail::Use;

struct Store::Impl {
  // Declared first so it is closed after every statement is finalized.
  std::unique_ptr<detail::Database> db;
  detail::Statement begin, commit, rollback;
  detail::Statement upsert_watch, delete_watch, save_polls, save_answer, load_answer;
  detail::Statement load_watches, purge_finished;
  detail::Statement add_document, add_outbox, delete_outbox, update_attempt, load_outbox;
  detail::Statement copy_to_dead_letters, load_dead_letters, count_dead_letters;
  detail::Statement upsert_timing_model, load_timing_models;

  std::optional<StoreError> prepare_statements();
};

namespace {

// mkdir -p, each new level 0750 (the state is not for other users).
std::optional<StoreError> ensure_directory(const std::string& dir) {
  for (std::size_t pos = 1; pos <= dir.size(); ++pos) {
    if (pos != dir.size() && dir[pos] != '/') continue;
    const std::string prefix = dir.substr(0, pos);
    if (::mkdir(prefix.c_str(), 0750) != 0 && errno != EEXIST) {
      const int err = errno;
      std::string message =
          "cannot create the state directory " + dir + ": " + std::generic_category().message(err);
      if (prefix != dir) message += " (at " + prefix + ")";
      return StoreError{std::move(message)};
    }
  }
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) {
    return StoreError{"cannot use the state directory " + dir + ": " +
                      std::generic_category().message(errno)};
  }
  if (!S_ISDIR(st.st_mode)) {
    return StoreError{"cannot use the state directory " + dir + ": it is not a directory"};
  }
  return std::nullopt;
}

StoreError damaged(const std::string& path, const std::string& what) {
  return {path + " is damaged (" + what + "); " + std::string(detail::way_out)};
}

// Steps a statement that returns no rows.
std::optional<StoreError> run(detail::Database& db, detail::Statement& stmt,
                              std::string_view doing) {
  const int rc = stmt.step();
  if (rc != SQLITE_DONE) return db.error(rc, doing);
  return std::nullopt;
}

}  // namespace

// Every statement is prepared once, at open, and reused for the life of the
// connection; a typo in SQL fails the first open in any test.
std::optional<StoreError> Store::Impl::prepare_statements() {
  struct StatementSql {
    detail::Statement Impl::*member;
    const char* sql;
  };
  const StatementSql statements[] = {
      {&Impl::begin, "BEGIN IMMEDIATE"},
      {&Impl::commit, "COMMIT"},
      {&Impl::rollback, "ROLLBACK"},
      {&Impl::upsert_watch,
       "INSERT INTO watches (project_id, job_id, labels, submitter, created_at, deadline_at, "
       "status, track, subjobs_total, subjobs_done, polls, last_poll_at, next_poll_at, "
       "expected_end_time, last_error, last_job_json, reason, final_event, finished_at, api, "
       "job_type) "
       "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, "
       "COALESCE(?16, ''), ?17, "
       "?18, ?19, ?20, ?21) ON CONFLICT (project_id, job_id) DO UPDATE SET labels = ?3, "
       "submitter = ?4, created_at = ?5, deadline_at = ?6, status = ?7, track = ?8, "
       "subjobs_total = ?9, subjobs_done = ?10, polls = ?11, last_poll_at = ?12, "
       "next_poll_at = ?13, expected_end_time = ?14, last_error = ?15, "
       "last_job_json = COALESCE(?16, last_job_json), "
       "reason = ?17, final_event = ?18, finished_at = ?19, api = ?20, job_type = ?21"},
      {&Impl::delete_watch, "DELETE FROM watches WHERE project_id = ?1 AND job_id = ?2"},
      {&Impl::save_answer,
       "UPDATE watches SET last_job_json = ?3 WHERE project_id = ?1 AND job_id = ?2"},
      {&Impl::load_answer,
       "SELECT last_job_json FROM watches WHERE project_id = ?1 AND job_id = ?2"},
      {&Impl::save_polls,
       "INSERT INTO watch_polls (project_id, job_id, polls, last_poll_at, next_poll_at, "
       "expected_end_time, last_error) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT "
       "(project_id, "
       "job_id) DO UPDATE SET polls = ?3, last_poll_at = ?4, next_poll_at = ?5, "
       "expected_end_time = ?6, last_error = ?7"},
      // A watch_polls row is newer than the row's own copy (schema.cpp). Rowid
      // order (an upsert keeps its rowid) is nearly creation order and costs
      // SQLite no sort; load_watches puts it right.
      {&Impl::load_watches,
       "SELECT w.project_id, w.job_id, labels, submitter, created_at, deadline_at, status, track, "
       "subjobs_total, subjobs_done, "
       "CASE WHEN p.job_id IS NULL THEN w.polls ELSE p.polls END, "
       "CASE WHEN p.job_id IS NULL THEN w.last_poll_at ELSE p.last_poll_at END, "
       "CASE WHEN p.job_id IS NULL THEN w.next_poll_at ELSE p.next_poll_at END, "
       "CASE WHEN p.job_id IS NULL THEN w.expected_end_time ELSE p.expected_end_time END, "
       "CASE WHEN p.job_id IS NULL THEN w.last_error ELSE p.last_error END, "
       "reason, final_event, finished_at, api, job_type "
       "FROM watches w LEFT JOIN watch_polls p ON p.project_id = w.project_id AND "
       "p.job_id = w.job_id ORDER BY w.rowid"},
      {&Impl::purge_finished,
       "DELETE FROM watches WHERE finished_at IS NOT NULL AND finished_at < ?1"},
      {&Impl::add_document,
       "INSERT INTO event_documents (event_id, document) VALUES (?1, ?2) "
       "ON CONFLICT (event_id) DO NOTHING"},
      {&Impl::add_outbox,
       "INSERT INTO outbox (event_id, sink, event_type, created_at, attempts, "
       "next_attempt_at, last_error) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
       "ON CONFLICT (event_id, sink) DO NOTHING"},
      {&Impl::delete_outbox, "DELETE FROM outbox WHERE event_id = ?1 AND sink = ?2"},
      {&Impl::update_attempt,
       "UPDATE outbox SET attempts = ?3, next_attempt_at = ?4, last_error = ?5 "
       "WHERE event_id = ?1 AND sink = ?2"},
      {&Impl::load_outbox,
       "SELECT o.event_id, sink, document, event_type, created_at, attempts, next_attempt_at, "
       "last_error FROM outbox o LEFT JOIN event_documents d ON d.event_id = o.event_id "
       "ORDER BY seq"},
      {&Impl::copy_to_dead_letters,
       "INSERT INTO dead_letters (event_id, sink, document, event_type, reason, failed_at, "
       "attempts) SELECT o.event_id, sink, document, event_type, ?3, ?4, ?5 FROM outbox o "
       "JOIN event_documents d ON d.event_id = o.event_id WHERE o.event_id = ?1 AND sink = ?2"},
      {&Impl::load_dead_letters,
       "SELECT event_id, sink, document, event_type, reason, failed_at, attempts FROM "
       "(SELECT * FROM dead_letters ORDER BY seq DESC LIMIT ?1) ORDER BY seq"},
      {&Impl::count_dead_letters, "SELECT count(*) FROM dead_letters"},
      {&Impl::upsert_timing_model,
       "INSERT INTO timing_models (api, project_id, job_type, model, updated_at) "
       "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (api, project_id, job_type) DO UPDATE SET "
       "model = ?4, updated_at = ?5"},
      {&Impl::load_timing_models,
       "SELECT api, project_id, job_type, model, updated_at FROM timing_models "
       "ORDER BY api, project_id, job_type"},
  };
  for (const auto& [member, sql] : statements) {
    auto prepared = db->prepare(sql);
    if (auto* error = std::get_if<StoreError>(&prepared)) return std::move(*error);
    this->*member = std::move(std::get<detail::Statement>(prepared));
  }
  return std::nullopt;
}

Store::Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Store::~Store() = default;

const std::string& Store::path() const {
  return impl_->db->path();
}

std::variant<std::unique_ptr<Store>, StoreError> Store::open(const std::string& dir) {
  if (dir.empty()) return StoreError{"the state directory is not set (state.dir)"};
  if (auto error = ensure_directory(dir)) return std::move(*error);
  std::string path = dir;
  if (path.back() != '/') path += '/';
  path += file_name;

  auto opened = detail::Database::open(std::move(path));
  if (auto* error = std::get_if<StoreError>(&opened)) return std::move(*error);
  auto impl = std::make_unique<Impl>();
  impl->db = std::move(std::get<std::unique_ptr<detail::Database>>(opened));
  if (auto error = detail::prepare_database(*impl->db)) return std::move(*error);
  if (auto error = impl->prepare_statements()) return std::move(*error);
  return std::unique_ptr<Store>(new Store(std::move(impl)));
}

void Store::rollback() {
  if (sqlite3_get_autocommit(impl_->db->handle())) return;  // already rolled back by SQLite
  Use use(impl_->rollback);
  use->step();
}

std::optional<StoreError> Store::write(const std::function<void(Batch&)>& fill) {
  {
    Use use(impl_->begin);
    if (auto error = run(*impl_->db, *use, "write to")) return error;
  }
  Batch batch(*this);
  try {
    fill(batch);
  } catch (...) {
    rollback();
    throw;
  }
  if (batch.error_) {
    rollback();
    return std::move(batch.error_);
  }
  Use use(impl_->commit);
  if (auto error = run(*impl_->db, *use, "commit to")) {
    rollback();
    return error;
  }
  return std::nullopt;
}

void Batch::fail(StoreError error) {
  if (!error_) error_ = std::move(error);
}

void Batch::upsert_watch(const StoredWatch& w) {
  if (failed()) return;
  auto& impl = *store_.impl_;
  const std::string labels = detail::labels_to_json(w.labels);
  const std::string track = detail::track_to_json(w.track);
  Use use(impl.upsert_watch);
  use->bind(1, w.job.project_id);
  use->bind(2, w.job.job_id);
  use->bind(3, labels);
  use->bind(4, static_cast<std::int64_t>(w.submitter));
  use->bind(5, to_ms(w.created_at));
  use->bind(6, to_ms(w.deadline_at));
  use->bind(7, watch::status_name(w.status));
  use->bind(8, track);
  use->bind(9, static_cast<std::int64_t>(w.subjobs_total));
  use->bind(10, static_cast<std::int64_t>(w.subjobs_done));
  use->bind(11, static_cast<std::int64_t>(w.polls));
  use->bind(12, to_ms(w.last_poll_at));
  use->bind(13, to_ms(w.next_poll_at));
  use->bind(14, to_ms(w.expected_end_time));
  use->bind(15, w.last_error);
  if (w.last_job_json)
    use->bind(16, *w.last_job_json);
  else
    use->bind_null(16);
  if (w.reason)
    use->bind(17, watch::reason_name(*w.reason));
  else
    use->bind_null(17);
  use->bind(18, w.final_event);
  use->bind(19, to_ms(w.finished_at));
  use->bind(20, model::api_name(w.api));
  use->bind(21, w.job_type);
  if (auto error = run(*impl.db, *use, "write to")) fail(std::move(*error));
}

void Batch::save_polls(const WatchPolls& p) {
  if (failed()) return;
  auto& impl = *store_.impl_;
  if (p.last_job_json) {
    // Into the row itself (load_answer reads nothing else; the next
    // whole-row write keeps it unless it brings a newer one), and first:
    // updating the row drops its watch_polls row (schema.cpp).
    Use answer(impl.save_answer);
    answer->bind(1, p.job.project_id);
    answer->bind(2, p.job.job_id);
    answer->bind(3, *p.last_job_json);
    if (auto error = run(*impl.db, *answer, "write to")) {
      fail(std::move(*error));
      return;
    }
  }
  Use use(impl.save_polls);
  use->bind(1, p.job.project_id);
  use->bind(2, p.job.job_id);
  use->bind(3, static_cast<std::int64_t>(p.polls));
  use->bind(4, to_ms(p.last_poll_at));
  use->bind(5, to_ms(p.next_poll_at));
  use->bind(6, to_ms(p.expected_end_time));
  use->bind(7, p.last_error);
  if (auto error = run(*impl.db, *use, "write to")) fail(std::move(*error));
}

void Batch::delete_watch(const watch::JobRef& job) {
  if (failed()) return;
  auto& impl = *store_.impl_;
  Use use(impl.delete_watch);
  use->bind(1, job.project_id);
  use->bind(2, job.job_id);
  if (auto error = run(*impl.db, *use, "write to")) fail(std::move(*error));
}

void Batch::add_outbox(const OutboxRow& row) {
  if (failed()) return;
  auto& impl = *store_.impl_;
  {
    // Once per event: the rows of its other sinks find it there.
    Use document(impl.add_document);
    document->bind(1, row.event_id);
    document->bind(2, row.document);
    if (auto error = run(*impl.db, *document, "write to")) {
      fail(std::move(*error));
      return;
    }
  }
  Use use(impl.add_outbox);
  use->bind(1, row.event_id);
  use->bind(2, row.sink);
  use->bind(3, watch::type_name(row.type));
  use->bind(4, to_ms(row.created_at));
  use->bind(5, static_cast<std::int64_t>(row.attempts));
  use->bind(6, to_ms(row.next_attempt_at));
  use->bind(7, row.last_error);
  if (auto error = run(*impl.db, *use, "write to")) fail(std::move(*error));
}

void Batch::mark_delivered(std::string_view event_id, std::string_view sink) {
  if (failed()) return;
  auto& impl = *store_.impl_;
  Use use(impl.delete_outbox);
  use->bind(1, event_id);
  use->bind(2, sink);
  if (auto error = run(*impl.db, *use, "write to")) fail(std::move(*error));
}

void Batch::update_attempt(std::string_view event_id, std::string_view sink, std::uint32_t attempts,
                           model::WallTime next_attempt_at, std::string_view last_error) {
  if (failed()) return;
  auto& impl = *store_.impl_;
  Use use(impl.update_attempt);
  use->bind(1, event_id);
  use->bind(2, sink);
  use->bind(3, static_cast<std::int64_t>(attempts));
  use->bind(4, to_ms(next_attempt_at));
  use->bind(5, last_error);
  if (auto error = run(*impl.db, *use, "write to")) fail(std::move(*error));
}

void Batch::dead_letter(std::string_view event_id, std::string_view sink, std::string_view reason,
                        std::uint32_t attempts, model::WallTime failed_at) {
  if (failed()) return;
  auto& impl = *store_.impl_;
  {
    Use use(impl.copy_to_dead_letters);
    use->bind(1, event_id);
    use->bind(2, sink);
    use->bind(3, reason);
    use->bind(4, to_ms(failed_at));
    use->bind(5, static_cast<std::int64_t>(attempts));
    if (auto error = run(*impl.db, *use, "write to")) {
      fail(std::move(*error));
      return;
    }
  }
  mark_delivered(event_id, sink);
}

void Batch::upsert_timing_model(const TimingModelRow& row) {
  if (failed()) return;
  auto& impl = *store_.impl_;
  Use use(impl.upsert_timing_model);
  use->bind(1, row.api);
  use->bind(2, row.project_id);
  use->bind(3, row.job_type);
  use->bind_blob(4, row.model);
  use->bind(5, to_ms(row.updated_at));
  if (auto error = run(*impl.db, *use, "write to")) fail(std::move(*error));
}

std::variant<std::vector<StoredWatch>, StoreError> Store::load_watches() {
  auto& impl = *impl_;
  const std::string& file = path();
  std::vector<StoredWatch> watches;
  Use stmt(impl.load_watches);
  int rc = SQLITE_ROW;
  while ((rc = stmt->step()) == SQLITE_ROW) {
    StoredWatch w;
    w.job.project_id = stmt->text(0);
    w.job.job_id = stmt->text(1);
    // Only a damaged row pays for naming itself.
    auto which = [&w] { return "watch " + w.job.project_id + "/" + w.job.job_id + ": "; };
    auto labels = detail::labels_from_json(stmt->text(2));
    if (!labels) return damaged(file, which() + "unreadable labels");
    w.labels = std::move(*labels);
    w.submitter = static_cast<uid_t>(stmt->int64(3));
    w.created_at = from_ms(stmt->int64(4));
    w.deadline_at = from_ms(stmt->int64(5));
    auto status = watch::status_from_name(stmt->text(6));
    if (!status)
      return damaged(file, which() + "unknown status '" + std::string(stmt->text(6)) + "'");
    w.status = *status;
    auto track = detail::track_from_json(stmt->text(7));
    if (!track) return damaged(file, which() + "unreadable track state");
    w.track = std::move(*track);
    w.subjobs_total = static_cast<std::uint32_t>(stmt->int64(8));
    w.subjobs_done = static_cast<std::uint32_t>(stmt->int64(9));
    w.polls = static_cast<std::uint64_t>(stmt->int64(10));
    w.last_poll_at = from_ms(stmt->optional_int64(11));
    w.next_poll_at = from_ms(stmt->optional_int64(12));
    w.expected_end_time = from_ms(stmt->optional_int64(13));
    w.last_error = stmt->text(14);
    if (!stmt->is_null(15)) {
      w.reason = watch::reason_from_name(stmt->text(15));
      if (!w.reason) return damaged(file, which() + "unknown abandon reason");
    }
    w.final_event = stmt->text(16);
    w.finished_at = from_ms(stmt->optional_int64(17));
    auto api = model::api_from_name(stmt->text(18));
    if (!api) return damaged(file, which() + "unknown api '" + std::string(stmt->text(18)) + "'");
    w.api = *api;
    w.job_type = stmt->text(19);
    watches.push_back(std::move(w));
  }
  if (rc != SQLITE_DONE) return impl.db->error(rc, "read");
  // Creation order, ties by key. Sorted here, not by SQL: its sorter copies
  // every row (a tenth of a second at 100k rows, when rows still carried
  // their answers), and rows in rowid order are close to sorted already.
  auto created_before = [](const StoredWatch& a, const StoredWatch& b) {
    return std::tie(a.created_at, a.job.project_id, a.job.job_id) <
           std::tie(b.created_at, b.job.project_id, b.job.job_id);
  };
  if (!std::is_sorted(watches.begin(), watches.end(), created_before))
    std::stable_sort(watches.begin(), watches.end(), created_before);
  return watches;
}

std::variant<std::string, StoreError> Store::load_answer(const watch::JobRef& job) {
  Use stmt(impl_->load_answer);
  stmt->bind(1, job.project_id);
  stmt->bind(2, job.job_id);
  const int rc = stmt->step();
  if (rc == SQLITE_DONE) return std::string();
  if (rc != SQLITE_ROW) return impl_->db->error(rc, "read");
  return std::string(stmt->text(0));
}

std::variant<std::vector<OutboxRow>, StoreError> Store::load_outbox() {
  auto& impl = *impl_;
  std::vector<OutboxRow> rows;
  Use stmt(impl.load_outbox);
  int rc = SQLITE_ROW;
  while ((rc = stmt->step()) == SQLITE_ROW) {
    OutboxRow row;
    row.event_id = stmt->text(0);
    row.sink = stmt->text(1);
    // Owed but without its document: the trigger and the transactions rule
    // it out, so the file was changed behind our back. Said, not skipped.
    if (stmt->is_null(2))
      return damaged(path(), "outbox event " + row.event_id + ": its document is missing");
    row.document = stmt->text(2);
    auto type = watch::type_from_name(stmt->text(3));
    if (!type) return damaged(path(), "outbox event " + row.event_id + ": unknown event type");
    row.type = *type;
    row.created_at = from_ms(stmt->int64(4));
    row.attempts = static_cast<std::uint32_t>(stmt->int64(5));
    row.next_attempt_at = from_ms(stmt->int64(6));
    row.last_error = stmt->text(7);
    rows.push_back(std::move(row));
  }
  if (rc != SQLITE_DONE) return impl.db->error(rc, "read");
  return rows;
}

std::variant<std::vector<DeadLetterRow>, StoreError> Store::load_dead_letters(std::size_t limit) {
  auto& impl = *impl_;
  std::vector<DeadLetterRow> rows;
  Use stmt(impl.load_dead_letters);
  stmt->bind(1, static_cast<std::int64_t>(std::min<std::size_t>(limit, INT64_MAX)));
  int rc = SQLITE_ROW;
  while ((rc = stmt->step()) == SQLITE_ROW) {
    DeadLetterRow row;
    row.event_id = stmt->text(0);
    row.sink = stmt->text(1);
    row.document = stmt->text(2);
    auto type = watch::type_from_name(stmt->text(3));
    if (!type) return damaged(path(), "dead letter " + row.event_id + ": unknown event type");
    row.type = *type;
    row.reason = stmt->text(4);
    row.failed_at = from_ms(stmt->int64(5));
    row.attempts = static_cast<std::uint32_t>(stmt->int64(6));
    rows.push_back(std::move(row));
  }
  if (rc != SQLITE_DONE) return impl.db->error(rc, "read");
  return rows;
}

std::variant<std::int64_t, StoreError> Store::count_dead_letters() {
  Use stmt(impl_->count_dead_letters);
  const int rc = stmt->step();
  if (rc != SQLITE_ROW) return impl_->db->error(rc, "read");
  return stmt->int64(0);
}

std::variant<std::vector<TimingModelRow>, StoreError> Store::load_timing_models() {
  auto& impl = *impl_;
  std::vector<TimingModelRow> rows;
  Use stmt(impl.load_timing_models);
  int rc = SQLITE_ROW;
  while ((rc = stmt->step()) == SQLITE_ROW) {
    TimingModelRow row;
    row.api = stmt->text(0);
    row.project_id = stmt->text(1);
    row.job_type = stmt->text(2);
    row.model = stmt->blob(3);
    row.updated_at = from_ms(stmt->int64(4));
    rows.push_back(std::move(row));
  }
  if (rc != SQLITE_DONE) return impl.db->error(rc, "read");
  return rows;
}

std::variant<std::size_t, StoreError> Store::purge_finished_before(model::WallTime cutoff) {
  Use stmt(impl_->purge_finished);
  stmt->bind(1, to_ms(cutoff));
  if (auto error = run(*impl_->db, *stmt, "write to")) return std::move(*error);
  return static_cast<std::size_t>(sqlite3_changes64(impl_->db->handle()));
}

}  // namespace jobwatch::store
