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

// ANSI colour for a status word when `enabled` (TTY and no NO_COLOR).
std::string colour_status(std::string_view status, bool enabled);
bool colour_wanted(std::FILE* stream);

}  // namespace jobwatch::ctl
