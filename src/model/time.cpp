// RFC 3339 timestamps: the strict profile the job API and the events use.
#include "jobwatch/model/time.hpp"

#include <cstdio>

namespace jobwatch::model {

namespace {

// Reads exactly `width` decimal digits at `pos`.
std::optional<int> read_digits(std::string_view text, std::size_t& pos, std::size_t width) {
  if (pos + width > text.size()) return std::nullopt;
  int value = 0;
  for (std::size_t i = 0; i < width; ++i) {
    const char c = text[pos + i];
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  pos += width;
  return value;
}

bool expect(std::string_view text, std::size_t& pos, char c) {
  if (pos >= text.size() || text[pos] != c) return false;
  ++pos;
  return true;
}

}  // namespace

std::optional<WallTime> parse_rfc3339(std::string_view text) {
  using namespace std::chrono;
  std::size_t pos = 0;
  const auto year = read_digits(text, pos, 4);
  if (!year || !expect(text, pos, '-')) return std::nullopt;
  const auto month = read_digits(text, pos, 2);
  if (!month || !expect(text, pos, '-')) return std::nullopt;
  const auto day = read_digits(text, pos, 2);
  if (!day) return std::nullopt;
  // RFC 3339 §5.6 allows a lowercase 't' (and, by its note, a space).
  if (pos >= text.size() || (text[pos] != 'T' && text[pos] != 't' && text[pos] != ' ')) {
    return std::nullopt;
  }
  ++pos;
  const auto hour = read_digits(text, pos, 2);
  if (!hour || !expect(text, pos, ':')) return std::nullopt;
  const auto minute = read_digits(text, pos, 2);
  if (!minute || !expect(text, pos, ':')) return std::nullopt;
  const auto second = read_digits(text, pos, 2);
  if (!second) return std::nullopt;

  int millis = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    std::size_t digits = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (digits < 3) millis = millis * 10 + (text[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0) return std::nullopt;
    for (std::size_t i = digits; i < 3; ++i) millis *= 10;  // ".5" is 500 ms
  }

  minutes offset{0};
  if (pos >= text.size()) return std::nullopt;  // RFC 3339 requires an offset
  if (text[pos] == 'Z' || text[pos] == 'z') {
    ++pos;
  } else if (text[pos] == '+' || text[pos] == '-') {
    const bool negative = text[pos] == '-';
    ++pos;
    const auto off_h = read_digits(text, pos, 2);
    if (!off_h || !expect(text, pos, ':')) return std::nullopt;
    const auto off_m = read_digits(text, pos, 2);
    if (!off_m || *off_h > 23 || *off_m > 59) return std::nullopt;
    offset = hours{*off_h} + minutes{*off_m};
    if (negative) offset = -offset;
  } else {
    return std::nullopt;
  }
  if (pos != text.size()) return std::nullopt;

  const year_month_day date{std::chrono::year{*year},
                            std::chrono::month{static_cast<unsigned>(*month)},
                            std::chrono::day{static_cast<unsigned>(*day)}};
  // A leap second (:60) is accepted and lands on the next minute's :00.
  if (!date.ok() || *hour > 23 || *minute > 59 || *second > 60) return std::nullopt;

  const auto local =
      sys_days{date} + hours{*hour} + minutes{*minute} + seconds{*second} + milliseconds{millis};
  return WallTime{local - offset};
}

std::string format_rfc3339(WallTime t, bool with_millis) {
  using namespace std::chrono;
  const auto day_point = floor<days>(t);
  const year_month_day date{day_point};
  const hh_mm_ss<milliseconds> tod{t - day_point};
  char buffer[40];
  const long long millis = tod.subseconds().count();
  int n = 0;
  if (with_millis && millis != 0) {
    n = std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02uT%02lld:%02lld:%02lld.%03lldZ",
                      static_cast<int>(date.year()), static_cast<unsigned>(date.month()),
                      static_cast<unsigned>(date.day()),
                      static_cast<long long>(tod.hours().count()),
                      static_cast<long long>(tod.minutes().count()),
                      static_cast<long long>(tod.seconds().count()), millis);
  } else {
    n = std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02uT%02lld:%02lld:%02lldZ",
                      static_cast<int>(date.year()), static_cast<unsigned>(date.month()),
                      static_cast<unsigned>(date.day()),
                      static_cast<long long>(tod.hours().count()),
                      static_cast<long long>(tod.minutes().count()),
                      static_cast<long long>(tod.seconds().count()));
  }
  return std::string(buffer, n > 0 ? static_cast<std::size_t>(n) : 0);
}

}  // namespace jobwatch::model
