// Loading and validating the config file (SPEC §4). Every problem found is
// reported with its place in the file, all at once, in file order.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "jobwatch/config/config.hpp"

namespace jobwatch::config {

struct Diagnostic {
  std::string file;
  int line = 0;         // 1-based; 0 when the problem is the file itself
  int column = 0;       // 1-based
  std::string message;  // never contains a secret value
  // "FILE:LINE:COL: message", the format of `jobwatchd --check-config`.
  std::string to_string() const;
};

struct LoadResult {
  std::optional<Config> config;    // set exactly when `errors` is empty
  std::vector<Diagnostic> errors;  // sorted by line, then column
  bool ok() const { return config.has_value(); }
};

// Reads and validates `path`. An unreadable file gives one diagnostic
// "FILE:0:0: cannot read: <reason>". Never throws.
LoadResult load_file(const std::string& path);

// Validates YAML text; `file_name` only labels the diagnostics. An empty
// document means all defaults (which still lack the required api.endpoint
// or api.region). Never throws.
LoadResult load_string(std::string_view yaml, const std::string& file_name);

}  // namespace jobwatch::config
