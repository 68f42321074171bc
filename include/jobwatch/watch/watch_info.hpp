// What the control protocol shows about a watch (SPEC §3 WatchInfo): its
// record, and what the engine knows beyond it without storing it.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>

#include "jobwatch/watch/basics.hpp"
#include "jobwatch/watch/watch_record.hpp"

namespace jobwatch::watch {

// A look at one watch, not a copy of it: `record` points into the engine's
// table and is good until the engine next runs. Render it (to_json) or read
// it right away; a List of 100k copies no track or final event.
struct WatchInfo {
  const WatchRecord* record = nullptr;
  // desktop-v2: the mean of the subjobs' `process` percentages, when given.
  std::optional<std::uint8_t> progress;
  std::optional<PredictedEnd> predicted_end;
  bool created = false;  // Watch replies: was this call the one that created it
};

// SPEC §3 field names; optional fields are omitted when absent.
boost::json::object to_json(const WatchInfo& info);

}  // namespace jobwatch::watch
