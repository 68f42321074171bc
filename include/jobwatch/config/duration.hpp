// Human durations as written in the config file and on jobwatchctl's command
// line: "500ms", "30s", "5m", "2h", "1d", "1h30m", "1.5s", or a bare number
// of seconds.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace jobwatch::config {

// The longest duration accepted (100 years): anything longer
// is a typo, and it keeps `now + d` far from overflowing a nanosecond clock.
inline constexpr std::chrono::milliseconds max_duration = std::chrono::hours(24 * 36'500);

// nullopt for anything that is not a non-negative duration: empty text,
// signs, unknown units, units out of order ("5s1m") or repeated, precision
// finer than a millisecond, more than `max_duration`.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

// The exact duration with the largest units: "2m", "1h30m", "1d", "0s";
// "1500ms" when it is not a whole number of seconds. parse_duration reads it
// back unchanged.
std::string format_duration(std::chrono::milliseconds duration);

}  // namespace jobwatch::config
