// What the control protocol shows about a watch (SPEC §3 WatchInfo) and the
// identifiers it is addressed by.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "jobwatch/model/api.hpp"
#include "jobwatch/model/time.hpp"
#include "jobwatch/watch/event.hpp"

namespace jobwatch::watch {

struct JobRef {
  std::string project_id;
  std::string job_id;
  friend bool operator==(const JobRef&, const JobRef&) = default;
};

// Sorted by key, keys unique.
using Labels = std::vector<std::pair<std::string, std::string>>;

enum class WatchState : std::uint8_t {
  pending,
  initializing,
  handling,
  succeeded,
  failed,
  abandoned
};
std::string_view state_name(WatchState state);  // "pending", "handling", …
bool is_finished(WatchState state);             // succeeded, failed, abandoned

// SPEC §7: when the job is likely to end, given it has not ended yet.
struct PredictedEnd {
  model::WallTime p10;
  model::WallTime p50;
  model::WallTime p90;
  friend bool operator==(const PredictedEnd&, const PredictedEnd&) = default;
};

struct WatchInfo {
  JobRef job;
  model::Api api = model::Api::app_v1;
  std::string job_type;  // empty until an answer names it
  Labels labels;
  WatchState status = WatchState::pending;
  std::uint32_t subjobs_total = 0;
  std::uint32_t subjobs_done = 0;
  // desktop-v2: the mean of the subjobs' `process` percentages, when given.
  std::optional<std::uint8_t> progress;
  std::uint64_t polls = 0;
  std::optional<model::WallTime> last_poll_at;
  std::optional<model::WallTime> next_poll_at;
  std::optional<model::WallTime> expected_end_time;
  std::optional<PredictedEnd> predicted_end;
  std::string last_error;  // empty when the last poll went well
  std::optional<AbandonReason> abandon_reason;
  bool created = false;  // Watch replies: was this call the one that created it
};

// SPEC §3 field names; optional fields are omitted when absent.
boost::json::object to_json(const WatchInfo& info);

}  // namespace jobwatch::watch
