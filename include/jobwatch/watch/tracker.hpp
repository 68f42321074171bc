// The tracker turns successive JobSnapshot answers (any API) for one watch into the
// terminal-transition events of SPEC §5. Pure: no clock, no I/O; the caller
// keeps a TrackState beside each watch and passes the time in.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "jobwatch/model/api.hpp"
#include "jobwatch/model/snapshot.hpp"
#include "jobwatch/model/time.hpp"
#include "jobwatch/watch/basics.hpp"
#include "jobwatch/watch/event.hpp"

namespace jobwatch::watch {

struct SubjobSeen {
  std::string subjob_id;
  // The last non-terminal status seen: the event's previous_status.
  std::optional<model::JobStatus> last_nonterminal;
  bool reported = false;  // its subjob.* event was emitted; never again
  friend bool operator==(const SubjobSeen&, const SubjobSeen&) = default;
};

struct TrackState {
  std::optional<model::JobStatus> job_status;  // last seen; empty before the first answer
  std::optional<model::JobStatus> last_nonterminal_job_status;
  std::vector<SubjobSeen> subjobs;  // sorted by subjob_id
  bool finished = false;            // the final event was emitted
  bool abandoned = false;           // ... and it was watch.abandoned
  friend bool operator==(const TrackState&, const TrackState&) = default;
};

// pending before any answer; initializing/handling while running;
// succeeded/failed/abandoned once finished.
WatchStatus watch_status(const TrackState& state);

struct Observation {
  std::vector<Event> events;  // subjob events in answer order, then the job's
  WatchStatus new_status = WatchStatus::pending;
  std::uint32_t subjobs_total = 0;  // subjobs in this answer
  std::uint32_t subjobs_done = 0;   // ... that are terminal
};

// What every event of a watch names besides the transition itself.
struct EventSubject {
  const JobRef& job;
  model::Api api;
  const Labels& labels;
};

// Feeds one parsed 200 answer. Emits one subjob.* event per subjob the first
// time it is seen terminal, and job.* when the job turns terminal, which
// finishes the watch: later calls emit nothing and leave `state` alone.
Observation observe(TrackState& state, const EventSubject& subject,
                    const model::JobSnapshot& snapshot, model::WallTime observed_at);

// The watch.abandoned event; finishes the watch. nullopt when the watch has
// already finished (its one final event is out). `last_job_json` is the last
// answer as received (carried as data.detail) or empty.
std::optional<Event> abandon_event(TrackState& state, const EventSubject& subject,
                                   AbandonReason reason, std::string_view error_code,
                                   std::string_view error_msg, model::WallTime now,
                                   std::string_view last_job_json);

// For persisting the state with the watch. from_json answers nullopt for
// anything that to_json could not have produced.
boost::json::object to_json(const TrackState& state);
std::optional<TrackState> track_state_from_json(const boost::json::object& obj);

}  // namespace jobwatch::watch
