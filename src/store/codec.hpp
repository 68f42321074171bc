// How the fields of the store's rows map to SQLite columns: times as unix
// milliseconds, enums by their SPEC names, labels and track state as JSON.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "jobwatch/model/time.hpp"
#include "jobwatch/watch/tracker.hpp"
#include "jobwatch/watch/watch_info.hpp"

namespace jobwatch::store::detail {

inline std::int64_t to_ms(model::WallTime t) {
  return t.time_since_epoch().count();
}
inline model::WallTime from_ms(std::int64_t ms) {
  return model::WallTime{std::chrono::milliseconds{ms}};
}
inline std::optional<std::int64_t> to_ms(const std::optional<model::WallTime>& t) {
  if (!t) return std::nullopt;
  return to_ms(*t);
}
inline std::optional<model::WallTime> from_ms(const std::optional<std::int64_t>& ms) {
  if (!ms) return std::nullopt;
  return from_ms(*ms);
}

std::string labels_to_json(const watch::Labels& labels);
// nullopt unless a JSON object of strings.
std::optional<watch::Labels> labels_from_json(std::string_view text);

std::string track_to_json(const watch::TrackState& track);
std::optional<watch::TrackState> track_from_json(std::string_view text);

}  // namespace jobwatch::store::detail
