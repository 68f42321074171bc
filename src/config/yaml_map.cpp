#include "yaml_map.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

#include "jobwatch/config/duration.hpp"
#include "syntax.hpp"

namespace jobwatch::config::detail {
namespace {

std::string join(Names names) {
  std::string out;
  for (auto name : names) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

std::string did_you_mean(std::string_view word, Names candidates) {
  auto best = closest(word, candidates);
  return best ? "; did you mean '" + std::string(*best) + "'?" : "";
}

}  // namespace

void Diagnostics::add(const YAML::Mark& mark, std::string message) {
  int line = mark.is_null() ? 1 : mark.line + 1;
  int column = mark.is_null() ? 1 : mark.column + 1;
  list_.push_back(Diagnostic{file_, line, column, std::move(message)});
}

std::vector<Diagnostic> Diagnostics::take() {
  std::stable_sort(list_.begin(), list_.end(), [](const Diagnostic& a, const Diagnostic& b) {
    return a.line != b.line ? a.line < b.line : a.column < b.column;
  });
  return std::move(list_);
}

MapReader::MapReader(Diagnostics& diagnostics, const YAML::Node& node, std::string path,
                     YAML::Mark mark, Names known)
    : diagnostics_(&diagnostics), path_(std::move(path)), mark_(mark) {
  if (!node.IsDefined() || node.IsNull()) return;
  if (!node.IsMap()) {
    diagnostics_->add(node.Mark(), (path_.empty() ? "the document" : path_) +
                                       ": expected a mapping of keys to values");
    return;
  }
  present_ = true;
  for (const auto& pair : node) {
    const YAML::Node& key = pair.first;
    if (!key.IsScalar()) {
      diagnostics_->add(key.Mark(), "keys must be plain names" +
                                        (path_.empty() ? std::string() : " in " + path_));
      continue;
    }
    const std::string& name = key.Scalar();
    std::string where = path_.empty() ? "at the top level" : "in " + path_;
    if (const Entry* first = entry(name)) {
      diagnostics_->add(key.Mark(), "duplicate key '" + name + "' " + where + " (first at line " +
                                        std::to_string(first->key_node.Mark().line + 1) + ")");
      continue;
    }
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      diagnostics_->add(key.Mark(),
                        "unknown key '" + name + "' " + where + did_you_mean(name, known));
      continue;
    }
    entries_.push_back(Entry{name, key, pair.second});
  }
}

MapReader MapReader::section(std::string_view key, Names known) const {
  const Entry* e = entry(key);
  if (e == nullptr) return MapReader(*diagnostics_, YAML::Node(), path(key), mark_, known);
  return MapReader(*diagnostics_, e->value, path(key), e->key_node.Mark(), known);
}

const MapReader::Entry* MapReader::entry(std::string_view key) const {
  for (const Entry& e : entries_) {
    if (e.key == key) return &e;
  }
  return nullptr;
}

const YAML::Node* MapReader::find(std::string_view key) const {
  const Entry* e = entry(key);
  return e ? &e->value : nullptr;
}

YAML::Mark MapReader::key_mark(std::string_view key) const {
  const Entry* e = entry(key);
  return e ? e->key_node.Mark() : mark_;
}

YAML::Mark MapReader::value_mark(std::string_view key) const {
  const Entry* e = entry(key);
  if (e == nullptr) return mark_;
  return e->value.IsNull() ? e->key_node.Mark() : e->value.Mark();
}

std::string MapReader::path(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

void MapReader::error(std::string_view key, const std::string& message) const {
  diagnostics_->add(value_mark(key), path(key) + ": " + message);
}

void MapReader::error_at_key(std::string_view key, const std::string& message) const {
  diagnostics_->add(key_mark(key), path(key) + ": " + message);
}

void MapReader::error_here(const std::string& message) const {
  diagnostics_->add(mark_, (path_.empty() ? "config" : path_) + ": " + message);
}

// Type errors name the key and the expected type only: the value may be a
// secret put in the wrong place.
const std::string* MapReader::scalar(std::string_view key, std::string_view what) const {
  const Entry* e = entry(key);
  if (e == nullptr) return nullptr;
  if (e->value.IsScalar()) return &e->value.Scalar();
  std::string got = e->value.IsNull()       ? "the value is empty"
                    : e->value.IsSequence() ? "got a list"
                    : e->value.IsMap()      ? "got a mapping"
                                            : "got something else";
  error(key, "expected " + std::string(what) + ", but " + got);
  return nullptr;
}

std::optional<std::string> MapReader::string(std::string_view key) const {
  const std::string* text = scalar(key, "a string");
  if (text == nullptr) return std::nullopt;
  return *text;
}

std::optional<std::string> MapReader::nonempty_string(std::string_view key) const {
  auto text = string(key);
  if (text && text->empty()) {
    error(key, "must not be empty");
    return std::nullopt;
  }
  return text;
}

std::optional<long long> MapReader::integer(std::string_view key, long long min,
                                            long long max) const {
  const std::string* text = scalar(key, "an integer");
  if (text == nullptr) return std::nullopt;
  std::string_view digits = *text;
  if (!digits.empty() && digits.front() == '+') digits.remove_prefix(1);
  long long value = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (digits.empty() || ec == std::errc::invalid_argument || end != digits.data() + digits.size()) {
    error(key, "expected an integer");
    return std::nullopt;
  }
  if (ec == std::errc::result_out_of_range || value < min || value > max) {
    if (max == std::numeric_limits<long long>::max()) {
      error(key, "must be at least " + std::to_string(min));
    } else {
      error(key, "must be between " + std::to_string(min) + " and " + std::to_string(max));
    }
    return std::nullopt;
  }
  return value;
}

std::optional<double> MapReader::number(std::string_view key) const {
  const std::string* text = scalar(key, "a number");
  if (text == nullptr) return std::nullopt;
  std::string_view digits = *text;
  if (!digits.empty() && digits.front() == '+') digits.remove_prefix(1);
  double value = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (digits.empty() || ec != std::errc{} || end != digits.data() + digits.size() ||
      !std::isfinite(value)) {
    error(key, "expected a number");
    return std::nullopt;
  }
  return value;
}

std::optional<bool> MapReader::boolean(std::string_view key) const {
  const std::string* text = scalar(key, "true or false");
  if (text == nullptr) return std::nullopt;
  bool value = false;
  if (!YAML::convert<bool>::decode(YAML::Node(*text), value)) {
    error(key, "expected true or false");
    return std::nullopt;
  }
  return value;
}

std::optional<Duration> MapReader::duration(std::string_view key) const {
  const std::string* text = scalar(key, "a duration");
  if (text == nullptr) return std::nullopt;
  auto value = parse_duration(*text);
  if (!value) {
    error(key, "'" + *text + "' is not a duration (write e.g. 500ms, 30s, 5m, 2h, 1d)");
    return std::nullopt;
  }
  if (value->count() == 0) {
    error(key, "must be longer than zero");
    return std::nullopt;
  }
  return value;
}

std::optional<std::string> MapReader::choice(std::string_view key, Names options) const {
  const std::string* text = scalar(key, "one of " + join(options));
  if (text == nullptr) return std::nullopt;
  if (std::find(options.begin(), options.end(), *text) != options.end()) return *text;
  error(key, "'" + *text + "' is not one of " + join(options) + did_you_mean(*text, options));
  return std::nullopt;
}

SecretRef MapReader::secret(std::string_view key, std::string_view file_key) const {
  SecretRef ref;
  if (auto value = scalar(key, "a string")) {
    if (value->empty()) {
      error(key, "must not be empty");
    } else {
      ref.inline_value = *value;
    }
  }
  if (auto file = nonempty_string(file_key)) ref.file = *file;
  if (has(key) && has(file_key)) {
    // Reported at whichever of the two comes second in the file.
    auto second = key_mark(key).pos > key_mark(file_key).pos ? key : file_key;
    error_at_key(second,
                 "give either " + std::string(key) + " or " + std::string(file_key) + ", not both");
  }
  return ref;
}

}  // namespace jobwatch::config::detail
