// The replay trace (docs/TRACE-FORMAT.md): JSON Lines, one finished job a
// line, times in seconds from the trace start. What `jobwatchctl timing
// --trace` prints and bench_policy replays.
#pragma once

#include <istream>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "jobwatch/model/api.hpp"

namespace jobwatch::bench {

struct TraceSubjob {
  double end_at;
  bool succeeded;
};

struct TraceJob {
  std::string project_id;
  model::Api api = model::Api::app_v1;
  std::string job_type;
  double submitted_at = 0;  // when the job was handed to the waiter
  double begin_at = 0;
  std::optional<double> expected_end_at;
  double end_at = 0;
  bool succeeded = true;
  std::vector<TraceSubjob> subjobs;
};

struct TraceError {
  std::size_t line;
  std::string message;
};

// Every job of the trace, in file order; the first bad line is an error.
std::variant<std::vector<TraceJob>, TraceError> read_trace(std::istream& in);

// The timing model's key: "api project_id job_type".
std::string key_of(const TraceJob& job);

}  // namespace jobwatch::bench
