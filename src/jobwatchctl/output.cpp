#include "output.hpp"

#include <unistd.h>

#include <algorithm>
#include <boost/json/serialize.hpp>
#include <charconv>
#include <cmath>
#include <cstdlib>

#include "jobwatch/control/validation.hpp"
#include "jobwatch/model/time.hpp"
#include "jobwatch/watch/basics.hpp"

namespace jobwatch::ctl {

namespace json = boost::json;
using control::escape_for_display;

namespace {

// Indented by two spaces a level when `pretty`, else on one line.
void append_json(std::string& out, const json::value& value, int depth, bool pretty) {
  const auto newline = [pretty](int level) {
    return pretty ? "\n" + std::string(static_cast<std::size_t>(level) * 2, ' ') : std::string();
  };
  const std::string pad = newline(depth + 1);
  const std::string close_pad = newline(depth);
  if (const auto* object = value.if_object(); object && !object->empty()) {
    out += "{";
    bool first = true;
    for (const auto& entry : *object) {
      if (!first) out += ",";
      first = false;
      out += pad + json::serialize(json::string(entry.key())) + (pretty ? ": " : ":");
      append_json(out, entry.value(), depth + 1, pretty);
    }
    out += close_pad + "}";
  } else if (const auto* array = value.if_array(); array && !array->empty()) {
    out += "[";
    for (std::size_t i = 0; i < array->size(); ++i) {
      if (i > 0) out += ",";
      out += pad;
      append_json(out, (*array)[i], depth + 1, pretty);
    }
    out += close_pad + "]";
  } else if (value.is_double()) {
    // Shortest round-trip form ("20", "0.5"), not Boost's "2E1".
    const double d = value.get_double();
    if (!std::isfinite(d)) {
      out += "null";
      return;
    }
    char buffer[64];
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, d);
    out.append(buffer, result.ptr);
  } else {
    out += json::serialize(value);
  }
}

// SGR colour codes: green for success, red for failure, yellow for
// given up, cyan while running, dim before it runs.
const char* colour_of(watch::WatchStatus status) {
  using watch::WatchStatus;
  switch (status) {
    case WatchStatus::succeeded:
      return "32";
    case WatchStatus::failed:
      return "31";
    case WatchStatus::abandoned:
      return "33";
    case WatchStatus::handling:
      return "36";
    case WatchStatus::initializing:
    case WatchStatus::pending:
      return "2";
  }
  return "0";
}

}  // namespace

// Code points, not bytes: labels and messages may be UTF-8.
std::size_t display_width(std::string_view text) {
  return static_cast<std::size_t>(
      std::count_if(text.begin(), text.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

std::string fit_width(std::string_view text, std::size_t width) {
  if (display_width(text) <= width) return std::string(text);
  if (width == 0) return {};
  // Keep width - 1 code points, then the ellipsis.
  std::size_t points = 0, end = 0;
  for (; end < text.size(); ++end) {
    if ((text[end] & 0xC0) != 0x80 && points++ == width - 1) break;
  }
  return std::string(text.substr(0, end)) + "\xe2\x80\xa6";  // …
}

std::string pretty_json(const json::value& value) {
  std::string out;
  append_json(out, value, 0, true);
  return out;
}

std::string compact_json(const json::value& value) {
  std::string out;
  append_json(out, value, 0, false);
  return out;
}

void print_json(const json::value& value) {
  std::printf("%s\n", pretty_json(value).c_str());
}

std::string field(const json::object& object, std::string_view key, std::string_view fallback) {
  const auto* v = object.if_contains(key);
  if (v == nullptr || v->is_null()) return std::string(fallback);
  if (v->is_string()) return escape_for_display(v->get_string(), 300);
  if (v->is_double()) return pretty_json(*v);
  return escape_for_display(json::serialize(*v), 300);
}

std::string number_field(const json::object& object, std::string_view key) {
  const auto* v = object.if_contains(key);
  if (v == nullptr || !v->is_number()) return "-";
  return pretty_json(*v);
}

std::string short_duration(std::chrono::seconds d) {
  // Two units at most: "1129d10h" reads better than "1129d10h55m50s".
  using namespace std::chrono;
  const auto s = d.count();
  auto two = [](long long a, const char* ua, long long b, const char* ub) {
    std::string out = std::to_string(a) + ua;
    if (b > 0) out += std::to_string(b) + ub;
    return out;
  };
  if (s >= 86400) return two(s / 86400, "d", s % 86400 / 3600, "h");
  if (s >= 3600) return two(s / 3600, "h", s % 3600 / 60, "m");
  if (s >= 60) return two(s / 60, "m", s % 60, "s");
  return std::to_string(s) + "s";
}

std::string relative_time(std::string_view rfc3339) {
  const auto when = model::parse_rfc3339(rfc3339);
  if (!when) return escape_for_display(rfc3339);
  const auto now = std::chrono::system_clock::now();
  const auto diff = std::chrono::duration_cast<std::chrono::seconds>(*when - now);
  if (diff.count() == 0) return "now";
  if (diff.count() > 0) return "in " + short_duration(diff);
  return short_duration(-diff) + " ago";
}

void print_table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> widths;
  for (const auto& row : rows) {
    widths.resize(std::max(widths.size(), row.size()), 0);
    for (std::size_t i = 0; i < row.size(); ++i)
      widths[i] = std::max(widths[i], display_width(row[i]));
  }
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line.append(widths[i] - display_width(row[i]) + 2, ' ');
    }
    std::printf("%s\n", line.c_str());
  }
}

std::string colour_status(std::string_view status, bool enabled) {
  if (!enabled) return std::string(status);
  // A WatchInfo status, or "timeout", which Wait reports besides them.
  const auto known = watch::status_from_name(status);
  const char* code = status == "timeout" ? "33" : "0";
  if (known) code = colour_of(*known);
  return std::string("\x1b[") + code + "m" + std::string(status) + "\x1b[0m";
}

bool terminal_capable(std::FILE* stream) {
  const char* term = std::getenv("TERM");
  return ::isatty(::fileno(stream)) != 0 && term != nullptr && *term != '\0' &&
         std::string_view(term) != "dumb";
}

bool colour_wanted(std::FILE* stream) {
  const char* no_colour = std::getenv("NO_COLOR");
  return terminal_capable(stream) && (no_colour == nullptr || *no_colour == '\0');
}

}  // namespace jobwatch::ctl
