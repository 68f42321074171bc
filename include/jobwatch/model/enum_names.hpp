// One table per enum that has words on the wire or in the store: both
// directions (value → word, word → value) read the same table, so a word
// cannot be spelled one way when written and another when read back.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string_view>
#include <utility>

namespace jobwatch::model {

template <class Enum, std::size_t N>
struct EnumNames {
  std::array<std::pair<Enum, std::string_view>, N> entries;

  // "unknown" only for a value outside the table (a cast from a bad int).
  constexpr std::string_view name(Enum value) const {
    for (const auto& [entry, word] : entries)
      if (entry == value) return word;
    return "unknown";
  }
  constexpr std::optional<Enum> parse(std::string_view word) const {
    for (const auto& [entry, entry_word] : entries)
      if (entry_word == word) return entry;
    return std::nullopt;
  }
};

template <class Enum, std::size_t N>
EnumNames(std::array<std::pair<Enum, std::string_view>, N>) -> EnumNames<Enum, N>;

}  // namespace jobwatch::model
