// A watch as it survives a restart (SPEC §6): the one struct the store
// writes and reads, the engine's Watch is built on and WatchInfo is
// rendered from. Field names are SPEC §3's where the protocol shows them.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

#include "jobwatch/model/api.hpp"
#include "jobwatch/model/time.hpp"
#include "jobwatch/watch/basics.hpp"
#include "jobwatch/watch/event.hpp"
#include "jobwatch/watch/tracker.hpp"

namespace jobwatch::watch {

struct WatchRecord {
  JobRef job;
  model::Api api = model::Api::app_v1;
  std::string job_type;  // as text (job_type_text), once an answer named it
  Labels labels;
  uid_t submitter = 0;
  model::WallTime created_at{};
  model::WallTime deadline_at{};
  WatchStatus status = WatchStatus::pending;
  // The last status seen per job and per subjob.
  TrackState track;
  std::uint32_t subjobs_total = 0;
  std::uint32_t subjobs_done = 0;
  std::uint64_t polls = 0;
  std::optional<model::WallTime> last_poll_at;
  std::optional<model::WallTime> next_poll_at;  // wall-clock view of the engine's due time
  std::optional<model::WallTime> expected_end_time;
  std::string last_error;  // empty when the last poll went well
  std::optional<AbandonReason> reason;
  std::string final_event;                     // the final event's document, once finished
  std::optional<model::WallTime> finished_at;  // set once finished; retention purges on it
  friend bool operator==(const WatchRecord&, const WatchRecord&) = default;
};

}  // namespace jobwatch::watch
