// Where the engine records what must survive a crash (SPEC §6). The daemon
// backs it with the SQLite store; an engine without one keeps everything in
// memory (unit tests, and nothing else).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "jobwatch/watch/event.hpp"
#include "jobwatch/watch/timing.hpp"
#include "jobwatch/watch/watch_table.hpp"

namespace jobwatch::watch {

class Journal {
 public:
  virtual ~Journal() = default;

  // New watches. Durable when this returns, because Watch replies right
  // after; an error message when they could not be stored (the engine then
  // creates none of them).
  virtual std::optional<std::string> record_new(const std::vector<const Watch*>& watches) = 0;

  // Each of these takes the watch's unsaved_answer along, and the engine
  // then drops its copy (Watch::unsaved_answer).
  //
  // A watch's statuses changed, maybe with terminal transitions. The journal
  // commits the new state together with the events' outbox rows (and the
  // timing model the job's end taught, when `learned` is set), and only
  // after that commit hands the events to the sinks.
  virtual void record_change(const Watch& watch, const std::vector<Event>& events,
                             const std::optional<TimingUpdate>& learned) = 0;

  // Only the poll bookkeeping of these watches (polls, last and next poll,
  // expected end, last error), which polls change without a transition:
  // the shutdown checkpoint, so it survives a clean restart. Small writes,
  // not whole watches.
  virtual void record_polls(const std::vector<const Watch*>& watches) = 0;

  // A watch's answer changed without a transition (a running job's
  // progress): the answer and the poll bookkeeping, durable soon but not at
  // once — nothing is owed on it.
  virtual void record_answer(const Watch& watch) = 0;

  // A watch was cancelled, or outlived state.retention after finishing.
  virtual void record_removed(const JobRef& job) = 0;

  // The last answer handed over for `job` (record_change, record_answer),
  // whether or not it is committed yet; empty when there is none or it
  // cannot be read.
  virtual std::string last_answer(const JobRef& job) = 0;
};

}  // namespace jobwatch::watch
