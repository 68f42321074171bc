// Reading one YAML mapping of the config with typed getters that report
// wrong types and bad values as diagnostics (at the offending key or value)
// and carry on, so that one run reports every problem in the file.
#pragma once

#include <yaml-cpp/yaml.h>

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "jobwatch/config/config.hpp"
#include "jobwatch/config/loader.hpp"

namespace jobwatch::config::detail {

using Names = std::initializer_list<std::string_view>;

class Diagnostics {
 public:
  explicit Diagnostics(std::string file) : file_(std::move(file)) {}
  void add(const YAML::Mark& mark, std::string message);
  bool empty() const { return list_.empty(); }
  // Sorted by position; ties keep the order they were found in.
  std::vector<Diagnostic> take();

 private:
  std::string file_;
  std::vector<Diagnostic> list_;
};

class MapReader {
 public:
  // `node` may be undefined or null (an absent or empty section): no keys.
  // Any other non-map is reported as a wrong type. `mark` locates the map
  // for errors about the map as a whole; `path` is its dotted name ("" at the
  // top level).
  MapReader(Diagnostics& diagnostics, const YAML::Node& node, std::string path, YAML::Mark mark,
            Names known);

  // The mapping under `key`, located at that key.
  MapReader section(std::string_view key, Names known) const;

  bool present() const { return present_; }  // the node was a mapping
  bool has(std::string_view key) const { return find(key) != nullptr; }
  const YAML::Node* find(std::string_view key) const;
  YAML::Mark mark() const { return mark_; }
  YAML::Mark key_mark(std::string_view key) const;
  // The value's position; an empty value (`key:`) is placed at its key.
  YAML::Mark value_mark(std::string_view key) const;
  const std::string& path() const { return path_; }
  std::string path(std::string_view key) const;

  // Absent keys give nullopt without a diagnostic.
  std::optional<std::string> string(std::string_view key) const;
  std::optional<std::string> nonempty_string(std::string_view key) const;
  std::optional<long long> integer(std::string_view key, long long min, long long max) const;
  std::optional<double> number(std::string_view key) const;
  std::optional<bool> boolean(std::string_view key) const;
  std::optional<Duration> duration(std::string_view key) const;  // > 0
  // One of `options`; a near miss gets a "did you mean".
  std::optional<std::string> choice(std::string_view key, Names options) const;
  // A secret given as `key` (inline) or `file_key`; its value is never quoted.
  SecretRef secret(std::string_view key, std::string_view file_key) const;

  // "path.key: message" at the value / at the key; "path: message" at the map.
  void error(std::string_view key, const std::string& message) const;
  void error_at_key(std::string_view key, const std::string& message) const;
  void error_here(const std::string& message) const;
  Diagnostics& diagnostics() const { return *diagnostics_; }

 private:
  struct Entry {
    std::string key;
    YAML::Node key_node;
    YAML::Node value;
  };
  const Entry* entry(std::string_view key) const;
  // The value as a scalar, or a "expected <what>" diagnostic.
  const std::string* scalar(std::string_view key, std::string_view what) const;

  Diagnostics* diagnostics_;
  std::string path_;
  YAML::Mark mark_;
  std::vector<Entry> entries_;
  bool present_ = false;
};

}  // namespace jobwatch::config::detail
