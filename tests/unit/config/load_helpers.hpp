// Shared by the config tests: load YAML text and look at the diagnostics as
// the FILE:LINE:COL lines that --check-config prints.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "jobwatch/config/loader.hpp"

namespace jobwatch::config::testing {

inline std::vector<std::string> errors_of(std::string_view yaml) {
  std::vector<std::string> lines;
  for (const Diagnostic& d : load_string(yaml, "t.yaml").errors) lines.push_back(d.to_string());
  return lines;
}

// A valid api section to put in front of the part a test is about (two lines).
inline std::string with_api(std::string_view rest) {
  return "api:\n  endpoint: http://127.0.0.1:8080\n" + std::string(rest);
}

}  // namespace jobwatch::config::testing
