// The replay trace (docs/TRACE-FORMAT.md): the finished jobs the daemon still
// remembers, one JSON object each, times in seconds from the trace's start,
// for bench_policy --trace to replay. Pure: the engine hands in its watches
// and the API clock offsets it has learned.
#pragma once

#include <boost/json/array.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "jobwatch/model/api.hpp"
#include "jobwatch/model/time.hpp"
#include "jobwatch/watch/watch_table.hpp"

namespace jobwatch::watch {

struct TraceSubjob {
  model::WallTime end_at;
  bool succeeded = false;
};

// One finished job, every time in the API's clock.
struct TraceJob {
  std::string project_id;
  model::Api api = model::Api::app_v1;
  std::string job_type;          // as text (job_type_text); empty when the API named none
  model::WallTime submitted_at;  // the watch's created_at, taken to the API's clock
  model::WallTime begin_at;
  std::optional<model::WallTime> expected_end_at;
  model::WallTime end_at;
  bool succeeded = false;
  std::vector<TraceSubjob> subjobs;  // those that ended, with an end_time, in answer order
};

// A watch that succeeded or failed whose `last_answer` (its job object, see
// watch::last_answer) has a begin_time
// and an end_time not before it; none for anything else (running,
// abandoned, times missing). created_at is the host's clock:
// `api_clock_offset` (ApiClock) takes it to the API's, where the job's
// times are, so that submission and begin share one axis.
std::optional<TraceJob> trace_job(const Watch& watch, std::string_view last_answer,
                                  std::chrono::milliseconds api_clock_offset);

// The trace: one object per job, in order of submission, times in seconds
// from the earliest submission or begin among them.
boost::json::array trace_json(std::vector<TraceJob> jobs);

}  // namespace jobwatch::watch
