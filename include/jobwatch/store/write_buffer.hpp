// Collects the store writes of one event-loop turn so they commit in one
// transaction (one fsync for all of them), and tells each writer when its
// writes are durable. Sans-io: the owner decides when flush() runs (e.g. a
// handler posted to the loop when the buffer turns non-empty).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

#include "jobwatch/model/time.hpp"
#include "jobwatch/store/rows.hpp"
#include "jobwatch/store/store.hpp"
#include "jobwatch/watch/watch_info.hpp"

namespace jobwatch::store {

class WriteBuffer {
 public:
  using Done = std::function<void(const std::optional<StoreError>&)>;

  // Only the last upsert/delete of a watch within one flush is written.
  void upsert_watch(StoredWatch watch);
  void delete_watch(watch::JobRef job);
  // The rest are written in the order given (see Batch for their meaning).
  // A watch's poll bookkeeping supersedes no buffered write of the watch; a
  // later whole-row write supersedes it, in the store.
  void save_polls(WatchPolls polls);
  void add_outbox(OutboxRow row);
  void mark_delivered(std::string event_id, std::string sink);
  void update_attempt(std::string event_id, std::string sink, std::uint32_t attempts,
                      model::WallTime next_attempt_at, std::string last_error);
  void dead_letter(std::string event_id, std::string sink, std::string reason,
                   std::uint32_t attempts, model::WallTime failed_at);
  void upsert_timing_model(TimingModelRow row);

  // The newest answer of `job` buffered here (a whole row's or with its poll
  // bookkeeping), empty when the watch's delete is; nullopt when the buffer
  // has none, and the store's is the newest.
  std::optional<std::string> pending_answer(const watch::JobRef& job) const;

  // Runs after the next flush: with nullopt once everything buffered before
  // it is committed, or with the error when the transaction was rolled back.
  void on_flushed(Done done);

  bool empty() const { return writes_ == 0 && callbacks_.empty(); }
  std::size_t size() const { return writes_; }  // buffered writes, after coalescing

  // Writes everything in one transaction, empties the buffer (also on
  // failure: the writes are dropped and each callback is told), then runs
  // the callbacks in the order they were added. Writes and callbacks added
  // by a callback wait for the next flush.
  std::optional<StoreError> flush(Store& store);

 private:
  struct Delete {
    watch::JobRef job;
  };
  struct Delivered {
    std::string event_id, sink;
  };
  struct Attempt {
    std::string event_id, sink;
    std::uint32_t attempts;
    model::WallTime next_attempt_at;
    std::string last_error;
  };
  struct Dead {
    std::string event_id, sink, reason;
    std::uint32_t attempts;
    model::WallTime failed_at;
  };
  // monostate: a watch write superseded by a later one.
  using Op = std::variant<std::monostate, StoredWatch, Delete, WatchPolls, OutboxRow, Delivered,
                          Attempt, Dead, TimingModelRow>;

  static std::string key_of(const watch::JobRef& job);
  void push_watch_op(const watch::JobRef& job, Op op);

  std::vector<Op> ops_;
  std::unordered_map<std::string, std::size_t> watch_ops_;  // "project\0job" -> index in ops_
  std::size_t writes_ = 0;
  std::vector<Done> callbacks_;
};

}  // namespace jobwatch::store
