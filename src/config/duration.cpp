#include "jobwatch/config/duration.hpp"

#include <array>
#include <cstdint>

namespace jobwatch::config {
namespace {

struct Unit {
  std::string_view suffix;
  std::int64_t ms;
};

// Largest first: a compound duration must name its units in this order.
constexpr std::array<Unit, 5> units{{
    {"d", 86'400'000},
    {"h", 3'600'000},
    {"m", 60'000},
    {"s", 1'000},
    {"ms", 1},
}};

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

struct Number {
  std::int64_t whole;
  std::int64_t frac_nano;  // the fraction in units of 10^-9, so it stays exact
};

// Reads "123" or "1.25" at `pos`.
std::optional<Number> read_number(std::string_view text, std::size_t& pos) {
  constexpr std::int64_t limit = 10'000'000'000'000;  // past max_duration even in ms
  std::int64_t whole = 0;
  std::size_t start = pos;
  while (pos < text.size() && is_digit(text[pos])) {
    whole = whole * 10 + (text[pos] - '0');
    if (whole > limit) return std::nullopt;
    ++pos;
  }
  bool has_whole = pos > start;
  std::int64_t frac = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    std::size_t frac_start = pos;
    std::int64_t scale = 100'000'000;
    while (pos < text.size() && is_digit(text[pos])) {
      if (scale == 0) {
        if (text[pos] != '0') return std::nullopt;  // finer than a nanosecond of anything
      } else {
        frac += (text[pos] - '0') * scale;
        scale /= 10;
      }
      ++pos;
    }
    if (pos == frac_start) return std::nullopt;  // "1." is not a number
  } else if (!has_whole) {
    return std::nullopt;
  }
  return Number{whole, frac};
}

}  // namespace

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  if (text.empty()) return std::nullopt;
  std::size_t pos = 0;
  std::size_t next_unit = 0;  // index into `units` of the smallest unit still allowed
  std::int64_t total = 0;
  bool first = true;
  while (pos < text.size()) {
    auto number = read_number(text, pos);
    if (!number) return std::nullopt;
    std::size_t unit_index = units.size();
    if (pos == text.size()) {
      if (!first) return std::nullopt;  // "1m30" is ambiguous; only a lone number means seconds
      unit_index = 3;
    } else {
      for (std::size_t i = next_unit; i < units.size(); ++i) {
        auto suffix = units[i].suffix;
        if (text.substr(pos, suffix.size()) != suffix) continue;
        // "m" must not swallow the "m" of "ms".
        std::size_t after = pos + suffix.size();
        if (suffix == "m" && after < text.size() && text[after] == 's') continue;
        unit_index = i;
        break;
      }
      if (unit_index == units.size()) return std::nullopt;
      pos += units[unit_index].suffix.size();
    }
    std::int64_t unit_ms = units[unit_index].ms;
    std::int64_t whole = number->whole;
    if (whole > max_duration.count() / unit_ms) return std::nullopt;
    std::int64_t frac_scaled = number->frac_nano * unit_ms;     // < 1e9 * 8.64e7: fits
    if (frac_scaled % 1'000'000'000 != 0) return std::nullopt;  // finer than 1 ms
    total += whole * unit_ms + frac_scaled / 1'000'000'000;
    if (total > max_duration.count()) return std::nullopt;
    next_unit = unit_index + 1;
    first = false;
  }
  return std::chrono::milliseconds(total);
}

std::string format_duration(std::chrono::milliseconds duration) {
  std::int64_t ms = duration.count();
  if (ms == 0) return "0s";
  std::string out;
  if (ms < 0) {
    out = "-";
    ms = -ms;
  }
  if (ms % 1000 != 0) return out + std::to_string(ms) + "ms";
  for (std::size_t i = 0; i < 4; ++i) {
    std::int64_t n = ms / units[i].ms;
    if (n == 0) continue;
    out += std::to_string(n);
    out += units[i].suffix;
    ms -= n * units[i].ms;
  }
  return out;
}

}  // namespace jobwatch::config
