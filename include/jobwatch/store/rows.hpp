// The plain records the state store reads and writes (SPEC §6): a watch as it
// survives a restart, an outbox row per (event, sink) not yet delivered, and
// a dead letter. No SQLite here; the engine and the outbox build these.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

#include "jobwatch/model/time.hpp"
#include "jobwatch/watch/event.hpp"
#include "jobwatch/watch/tracker.hpp"
#include "jobwatch/watch/watch_record.hpp"
#include "jobwatch/watch/watch_table.hpp"

namespace jobwatch::store {

// Every failure of the store: the message names the database file and, when
// the file is damaged or not ours, says the way out.
struct StoreError {
  std::string message;
};

// A watch as the store has it: its record, and its last answer — the
// answer's job object exactly as received. Written when set, kept as stored
// when not; load_watches leaves it out (Store::load_answer reads it), so
// that 100k answers are not all in memory at once.
struct StoredWatch : watch::WatchRecord {
  std::optional<std::string> last_job_json;
  friend bool operator==(const StoredWatch&, const StoredWatch&) = default;
};

// One event still owed to one sink.
struct OutboxRow {
  std::string event_id;
  std::string sink;
  std::string document;  // the exact bytes every sink receives
  watch::EventType type = watch::EventType::job_succeeded;
  model::WallTime created_at{};  // wall clock, so max_age holds across restarts
  std::uint32_t attempts = 0;
  model::WallTime next_attempt_at{};
  std::string last_error;
  friend bool operator==(const OutboxRow&, const OutboxRow&) = default;
};

struct DeadLetterRow {
  std::string event_id;
  std::string sink;
  std::string document;
  watch::EventType type = watch::EventType::job_succeeded;
  std::string reason;
  model::WallTime failed_at{};
  std::uint32_t attempts = 0;
  friend bool operator==(const DeadLetterRow&, const DeadLetterRow&) = default;
};

// The learned timing of one (api, project_id, job_type) (SPEC §7). `model`
// is schedule::TimingModel::serialize's blob; the store does not look inside.
struct TimingModelRow {
  std::string api;
  std::string project_id;
  std::string job_type;
  std::string model;
  model::WallTime updated_at{};
  friend bool operator==(const TimingModelRow&, const TimingModelRow&) = default;
};

// An engine watch's record, and back. to_watch leaves the in-memory
// scheduling fields (due, generation, in_flight, backoff) at their defaults
// for the engine to set; `seen` is true once the tracker has a status. Only
// an answer the watch has not handed over yet goes along
// (Watch::unsaved_answer), both ways.
StoredWatch to_stored(const watch::Watch& watch);
watch::Watch to_watch(StoredWatch stored);  // by value: a restore moves its strings

// A watch's poll bookkeeping, what polls change without a transition, and
// its new answer when it has one (a running job's progress).
struct WatchPolls {
  watch::JobRef job;
  std::uint64_t polls = 0;
  std::optional<model::WallTime> last_poll_at;
  std::optional<model::WallTime> next_poll_at;
  std::optional<model::WallTime> expected_end_time;
  std::string last_error;
  std::optional<std::string> last_job_json;
  friend bool operator==(const WatchPolls&, const WatchPolls&) = default;
};
WatchPolls polls_of(const watch::Watch& watch);

// A fresh outbox row for `event` owed to `sink`, due at once.
OutboxRow outbox_row(const watch::Event& event, std::string sink, model::WallTime now);

}  // namespace jobwatch::store
