// Human output for jobwatchctl: tables, pretty JSON, times, colours.
// Everything the daemon sends is escaped before it reaches the terminal.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace jobwatch::ctl {

// Indented JSON (two spaces), for --json and Show's JobDetail.
std::string pretty_json(const boost::json::value& value);
void print_json(const boost::json::value& value);
// The same numbers on one line, for JSON Lines.
std::string compact_json(const boost::json::value& value);

// A string field, escaped for the terminal; `fallback` when absent.
std::string field(const boost::json::object& object, std::string_view key,
                  std::string_view fallback = "-");
std::string number_field(const boost::json::object& object, std::string_view key);

// "1m20s", "2h5m" (whole seconds).
std::string short_duration(std::chrono::seconds d);
// "in 1m20s" / "3s ago" for an RFC 3339 time; the text itself when unparsable.
std::string relative_time(std::string_view rfc3339);

// Columns aligned by display width, two spaces apart.
void print_table(const std::vector<std::vector<std::string>>& rows);

// Display width in code points (escaped text: no control characters).
std::size_t display_width(std::string_view text);
// `text` cut to at most `width` code points, ending in "…" when cut.
std::string fit_width(std::string_view text, std::size_t width);

// ANSI colour for a status word when `enabled`.
std::string colour_status(std::string_view status, bool enabled);
// A terminal that understands cursor movement: a TTY whose TERM is set and
// not "dumb".
bool terminal_capable(std::FILE* stream);
// Colour wanted: a capable terminal and NO_COLOR unset or empty (no-color.org).
bool colour_wanted(std::FILE* stream);

}  // namespace jobwatch::ctl
