// Retry-After values (RFC 9110 §10.2.3): delta-seconds or an HTTP-date.
#include <array>
#include <cstdint>
#include <vector>

#include "jobwatch/upstream/answer.hpp"

namespace jobwatch::upstream {
namespace {

using namespace std::chrono;

constexpr milliseconds max_retry_after = hours(1);

bool is_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

std::optional<int> small_number(std::string_view s) {
  if (!is_digits(s) || s.size() > 4) return std::nullopt;
  int value = 0;
  for (char c : s) value = value * 10 + (c - '0');
  return value;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> split_words(std::string_view s, bool dashes_too) {
  std::vector<std::string_view> words;
  std::size_t i = 0;
  auto is_sep = [&](char c) { return c == ' ' || (dashes_too && c == '-'); };
  while (i < s.size()) {
    while (i < s.size() && is_sep(s[i])) ++i;
    std::size_t start = i;
    while (i < s.size() && !is_sep(s[i])) ++i;
    if (i > start) words.push_back(s.substr(start, i - start));
  }
  return words;
}

std::optional<unsigned> month_number(std::string_view name) {
  static constexpr std::array<std::string_view, 12> names = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  for (unsigned i = 0; i < names.size(); ++i) {
    if (name == names[i]) return i + 1;
  }
  return std::nullopt;
}

bool is_day_name(std::string_view name, bool long_form) {
  static constexpr std::array<std::string_view, 7> short_names = {"Mon", "Tue", "Wed", "Thu",
                                                                  "Fri", "Sat", "Sun"};
  static constexpr std::array<std::string_view, 7> long_names = {
      "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"};
  for (auto candidate : long_form ? long_names : short_names) {
    if (name == candidate) return true;
  }
  return false;
}

std::optional<system_clock::time_point> make_time(int year, std::string_view month_name,
                                                  std::string_view day_text,
                                                  std::string_view clock) {
  auto month = month_number(month_name);
  auto day = small_number(day_text);
  if (!month || !day || clock.size() != 8 || clock[2] != ':' || clock[5] != ':') {
    return std::nullopt;
  }
  auto hh = small_number(clock.substr(0, 2));
  auto mm = small_number(clock.substr(3, 2));
  auto ss = small_number(clock.substr(6, 2));
  if (!hh || !mm || !ss || *hh > 23 || *mm > 59 || *ss > 60) return std::nullopt;
  year_month_day date{std::chrono::year{year}, std::chrono::month{*month},
                      std::chrono::day{static_cast<unsigned>(*day)}};
  if (!date.ok()) return std::nullopt;
  return sys_days{date} + hours{*hh} + minutes{*mm} + seconds{*ss == 60 ? 59 : *ss};
}

}  // namespace

std::optional<system_clock::time_point> parse_http_date(std::string_view value) {
  value = trim(value);
  auto comma = value.find(',');
  if (comma != std::string_view::npos) {
    auto day_name = value.substr(0, comma);
    auto rest = value.substr(comma + 1);
    bool rfc850 = day_name.size() > 3;
    if (!is_day_name(day_name, rfc850)) return std::nullopt;
    // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"
    // RFC 850:     "Sunday, 06-Nov-94 08:49:37 GMT"
    auto words = split_words(rest, rfc850);
    if (words.size() != 5 || words[4] != "GMT") return std::nullopt;
    if (!rfc850 && words[0].size() != 2) return std::nullopt;
    auto year = small_number(words[2]);
    if (!year) return std::nullopt;
    if (rfc850) {
      if (words[2].size() != 2) return std::nullopt;
      // Two-digit years pivot at 70 like most HTTP stacks (curl, Go): a
      // sender still using this obsolete form is writing a year near now.
      *year += *year >= 70 ? 1900 : 2000;
    } else if (words[2].size() != 4) {
      return std::nullopt;
    }
    return make_time(*year, words[1], words[0], words[3]);
  }
  // asctime: "Sun Nov  6 08:49:37 1994"
  auto words = split_words(value, false);
  if (words.size() != 5 || !is_day_name(words[0], false) || words[4].size() != 4) {
    return std::nullopt;
  }
  auto year = small_number(words[4]);
  if (!year) return std::nullopt;
  return make_time(*year, words[1], words[2], words[3]);
}

std::optional<milliseconds> parse_retry_after(std::string_view value,
                                              system_clock::time_point now) {
  value = trim(value);
  if (value.empty()) return std::nullopt;
  if (is_digits(value)) {
    // Saturate instead of overflowing: anything past an hour is an hour.
    std::uint64_t secs = 0;
    for (char c : value) {
      secs = secs * 10 + static_cast<std::uint64_t>(c - '0');
      if (secs > 3600) return max_retry_after;
    }
    return milliseconds(seconds(secs));
  }
  auto when = parse_http_date(value);
  if (!when) return std::nullopt;
  if (*when <= now) return milliseconds(0);
  auto delta = duration_cast<milliseconds>(*when - now);
  return delta > max_retry_after ? max_retry_after : delta;
}

}  // namespace jobwatch::upstream
