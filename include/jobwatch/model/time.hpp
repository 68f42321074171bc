// RFC 3339 timestamps as the API and the events use them.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace jobwatch::model {

using WallTime = std::chrono::sys_time<std::chrono::milliseconds>;

// Accepts "2023-06-06T02:30:06Z", fractional seconds and numeric offsets
// ("+08:00"); returns nullopt for anything else.
std::optional<WallTime> parse_rfc3339(std::string_view text);
// "2026-11-28T12:01:02Z" (UTC, whole seconds) or with ".123" when millis != 0
// and with_millis is set.
std::string format_rfc3339(WallTime t, bool with_millis = false);

}  // namespace jobwatch::model
