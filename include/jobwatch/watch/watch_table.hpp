// The engine's data: every watch is a small struct in one table, and what is
// due next lives in one min-heap. No timer, socket or coroutine per watch —
// 100k watches cost a few hundred bytes each.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <queue>
#include <string>
#include <unordered_set>
#include <vector>

#include "jobwatch/model/api.hpp"
#include "jobwatch/model/time.hpp"
#include "jobwatch/watch/tracker.hpp"
#include "jobwatch/watch/watch_info.hpp"
#include "jobwatch/watch/watch_record.hpp"

namespace jobwatch::watch {

using SteadyTime = std::chrono::steady_clock::time_point;

// A watch in the engine: its record (what the store keeps) and what only a
// running engine needs — when it is due, the schedule's working figures,
// the last answer until the journal has it.
struct Watch : WatchRecord {
  std::optional<std::uint8_t> progress;  // see WatchInfo::progress
  // From the timing model at the last usable answer; not stored (the first
  // poll after a restart predicts again).
  std::optional<PredictedEnd> predicted_end;
  SteadyTime due{};
  // The chance per second since the last poll that a poll finds the job
  // ended, as the schedule saw it when it set `due` (the chance at due over
  // the gap): SPEC §7's priority when the rate budget binds, for a watch
  // that has been seen.
  float change_rate = 0;
  // The last gap as planned before any call price, and for a watch whose
  // gap the price may stretch (gap_priceable) the end's chance per second
  // over it: what the engine solves the price from when the budget binds.
  float planned_gap_s = 0;
  float planned_hazard = 0;
  std::uint16_t backoff_step = 0;
  bool seen = false;       // a 200 has come at least once
  bool in_flight = false;  // a poll is out
  bool gap_priceable = false;
  // Polls, last/next poll, estimate or last error changed since the journal
  // last had this watch: what the shutdown checkpoint writes.
  bool polls_unsaved = false;
  // Bumped on cancel and re-use of the slot, so stale heap entries and late
  // answers for a previous occupant are recognised and dropped.
  std::uint32_t generation = 0;
  // The last answer's job object exactly as received, until the journal has
  // it: kept for every watch it would be most of the daemon's memory. Empty
  // once handed over (the journal then answers for it: last_answer) and
  // before the first 200; an engine without a journal keeps it here.
  std::string unsaved_answer;
  // Of the last answer's text (0 before one): an answer equal to the one
  // the journal has is not handed over again.
  std::uint64_t answer_digest = 0;
};

// What the control protocol shows of `watch` (see WatchInfo: a look, not a
// copy).
WatchInfo info_of(const Watch& watch);

// Takes `text` as the watch's last answer. A running job's answer is mostly
// the one before it: only a text that differs from the last is kept (in
// unsaved_answer, for the journal, which has the rest).
void remember_answer(Watch& watch, std::string text);

// The journal has the watch's answer now: its copy and the memory it held
// go.
void answer_handed_over(Watch& watch);

// Where a watch's last answer is once the watch no longer holds it: the
// journal's copy. Empty for an engine without a journal.
using StoredAnswer = std::function<std::string(const JobRef&)>;

// The last answer's job object of `watch` as received: its own copy while it
// holds one, else `stored`'s; empty before the first 200.
std::string last_answer(const Watch& watch, const StoredAnswer& stored);

// Every watch by slot number, and the slot of each job. Per watch: one heap
// block for the watch (a freed slot holds nothing, and a growing table
// moves pointers, not watches) and one small node in the key set, which
// holds the slot number only — the key is the watch's own JobRef.
class WatchTable {
 public:
  using Index = std::uint32_t;

  WatchTable();
  // The key set's hash and equality point back at this table.
  WatchTable(const WatchTable&) = delete;
  WatchTable& operator=(const WatchTable&) = delete;

  std::optional<Index> find(const JobRef& job) const;
  // The job must not be in the table (find first).
  Index insert(Watch watch);
  // Room for `count` watches in all, so a restore of 100k grows nothing.
  void reserve(std::size_t count);
  void erase(Index index);
  Watch& at(Index index) { return *slots_[index]; }
  const Watch& at(Index index) const { return *slots_[index]; }
  bool contains(Index index) const { return index < slots_.size() && slots_[index] != nullptr; }
  std::size_t size() const { return by_key_.size(); }

  template <class F>
  void for_each(F&& visit) const {
    for (const auto& slot : slots_)
      if (slot) visit(*slot);
  }
  template <class F>
  void for_each_index(F&& visit) const {
    for (Index i = 0; i < slots_.size(); ++i)
      if (slots_[i]) visit(i);
  }

 private:
  // A slot is hashed and compared by its watch's job, so that find() looks
  // a JobRef up among slot numbers (transparent: no key is built).
  struct KeyHash {
    using is_transparent = void;
    const WatchTable* table;
    std::size_t operator()(const JobRef& job) const;
    std::size_t operator()(Index slot) const { return (*this)(table->at(slot).job); }
  };
  struct KeyEqual {
    using is_transparent = void;
    const WatchTable* table;
    bool operator()(Index a, Index b) const { return table->at(a).job == table->at(b).job; }
    bool operator()(const JobRef& job, Index slot) const { return table->at(slot).job == job; }
    bool operator()(Index slot, const JobRef& job) const { return table->at(slot).job == job; }
  };

  std::vector<std::unique_ptr<Watch>> slots_;
  std::vector<Index> free_slots_;
  std::vector<std::uint32_t> slot_generations_;  // survives erase, so re-used slots get a new one
  std::unordered_set<Index, KeyHash, KeyEqual> by_key_;
};

// Min-heap of (due time, watch). Entries are never removed in place: an
// entry whose generation or due time no longer matches its watch is stale
// and skipped when it reaches the top.
class DueQueue {
 public:
  struct Entry {
    SteadyTime due;
    WatchTable::Index index;
    std::uint32_t generation;
    bool operator>(const Entry& other) const { return due > other.due; }
  };

  void push(Entry entry) { heap_.push(entry); }
  bool empty() const { return heap_.empty(); }
  const Entry& top() const { return heap_.top(); }
  void pop() { heap_.pop(); }
  std::size_t size() const { return heap_.size(); }

 private:
  std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> heap_;
};

}  // namespace jobwatch::watch
