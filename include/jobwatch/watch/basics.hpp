// The words every part of a watch is addressed and described by (SPEC §3):
// which job, its labels, and the watch's status.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "jobwatch/model/time.hpp"

namespace jobwatch::watch {

struct JobRef {
  std::string project_id;
  std::string job_id;
  friend bool operator==(const JobRef&, const JobRef&) = default;
};

// Sorted by key, keys unique.
using Labels = std::vector<std::pair<std::string, std::string>>;

// SPEC §3 WatchInfo.status.
enum class WatchStatus : std::uint8_t {
  pending,
  initializing,
  handling,
  succeeded,
  failed,
  abandoned
};
std::string_view status_name(WatchStatus status);  // "pending", "handling", …
std::optional<WatchStatus> status_from_name(std::string_view name);
bool is_finished(WatchStatus status);  // succeeded, failed, abandoned

// SPEC §7: when the job is likely to end, given it has not ended yet.
struct PredictedEnd {
  model::WallTime p10;
  model::WallTime p50;
  model::WallTime p90;
  friend bool operator==(const PredictedEnd&, const PredictedEnd&) = default;
};

}  // namespace jobwatch::watch
