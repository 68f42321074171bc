// The durable state store (SPEC §6): watches, the outbox of events still owed
// to sinks, and dead letters, in one SQLite file `jobwatch.db` in state.dir.
// Synchronous and single-threaded; the caller decides when to write and
// groups writes into one transaction, so one fsync covers a whole batch.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "jobwatch/model/time.hpp"
#include "jobwatch/store/rows.hpp"
#include "jobwatch/watch/watch_info.hpp"

namespace jobwatch::store {

class Store;

// The writes of one transaction. Only lives inside Store::write's callback.
// After the first failure the remaining calls do nothing and the whole
// transaction is rolled back.
class Batch {
 public:
  // Inserts or replaces the watch with the same (project_id, job_id).
  void upsert_watch(const StoredWatch& watch);
  void delete_watch(const watch::JobRef& job);
  // Only a watch's poll bookkeeping (the shutdown checkpoint), and its new
  // answer when it has one (into the watch's row). The bookkeeping is kept apart
  // from its row, which load_watches() reads it over until the row is
  // written again. For a watch that is not stored it is never read, and a
  // new watch of that key drops it.
  void save_polls(const WatchPolls& polls);
  // Idempotent: when (event_id, sink) is already owed, that row (and its
  // retry state) is kept as it is.
  void add_outbox(const OutboxRow& row);
  // Deletes the row; nothing happens when there is none.
  void mark_delivered(std::string_view event_id, std::string_view sink);
  void update_attempt(std::string_view event_id, std::string_view sink, std::uint32_t attempts,
                      model::WallTime next_attempt_at, std::string_view last_error);
  // Moves the outbox row (document included) to the dead letters; nothing
  // happens when the row is not owed.
  void dead_letter(std::string_view event_id, std::string_view sink, std::string_view reason,
                   std::uint32_t attempts, model::WallTime failed_at);
  // Inserts or replaces the model of (api, project_id, job_type).
  void upsert_timing_model(const TimingModelRow& row);

  bool failed() const { return error_.has_value(); }

 private:
  friend class Store;
  explicit Batch(Store& store) : store_(store) {}
  void fail(StoreError error);

  Store& store_;
  std::optional<StoreError> error_;
};

class Store {
 public:
  static constexpr std::string_view file_name = "jobwatch.db";
  static constexpr int schema_version = 6;

  // Opens (creating `dir`, mode 0750, and the file when missing) and migrates
  // the schema. A damaged or foreign file, one made by a newer jobwatch, or
  // one we may not read and write is an error, never a silent fresh start.
  static std::variant<std::unique_ptr<Store>, StoreError> open(const std::string& dir);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // BEGIN IMMEDIATE, `fill`, COMMIT (fsynced: synchronous=FULL). On any
  // failure everything `fill` wrote is rolled back and the error returned;
  // when `fill` throws, the transaction is rolled back and the exception
  // passes through.
  std::optional<StoreError> write(const std::function<void(Batch&)>& fill);

  // Every watch, its last answer left out (load_answer).
  std::variant<std::vector<StoredWatch>, StoreError> load_watches();
  // The watch's last answer's job object; empty before its first 200 or
  // when the watch is not stored.
  std::variant<std::string, StoreError> load_answer(const watch::JobRef& job);
  // In the order the rows were added: events of one answer keep their
  // order (subjob events before the job's).
  std::variant<std::vector<OutboxRow>, StoreError> load_outbox();
  // The most recent `limit`, oldest first.
  std::variant<std::vector<DeadLetterRow>, StoreError> load_dead_letters(std::size_t limit);
  std::variant<std::int64_t, StoreError> count_dead_letters();
  // Every learned timing model, by key.
  std::variant<std::vector<TimingModelRow>, StoreError> load_timing_models();
  // Deletes watches finished before `cutoff` (retention); answers how many.
  std::variant<std::size_t, StoreError> purge_finished_before(model::WallTime cutoff);

  const std::string& path() const;

 private:
  friend class Batch;
  struct Impl;
  explicit Store(std::unique_ptr<Impl> impl);
  void rollback();

  std::unique_ptr<Impl> impl_;
};

}  // namespace jobwatch::store
