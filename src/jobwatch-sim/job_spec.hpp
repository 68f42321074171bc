// Job specs as the admin API takes them (POST /admin/jobs), their validation,
// and turning a spec into a Job with a concrete timeline.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "timeline.hpp"

namespace jobwatch::sim {

struct SubJobSpec {
  std::optional<double> duration_s;  // default: the job's duration
  std::optional<bool> success;       // default: see build_job (scripted: its timeline's end)
  // timeline, job_type and the error texts; all empty: none scripted.
  Script script;
};

struct JobSpec {
  std::optional<std::string> job_id;  // default: a generated 18-digit ID
  std::string project_id;             // empty: any project accepted
  double duration_s = 10;
  bool success = true;
  double initializing_s = 1;
  // expected_end_offset_s: absent → the job's actual end; null → no estimate.
  enum class Estimate { actual_end, none, offset } estimate = Estimate::actual_end;
  double expected_end_offset_s = 0;
  std::optional<int> subjob_count;                 // subjobs: N
  std::optional<std::vector<SubJobSpec>> subjobs;  // subjobs: [...]
  double not_found_s = 0;
  bool ghost = false;
  double start_delay_s = 0;
  Api api = Api::app_v1;
  bool outcome_given = false;  // `outcome` named, not just defaulted
  Script script;               // timeline, job_type, desktop job_error_code / fail_reason
};

// An error message for the admin client, e.g. "duration_s: must be a number >= 0".
struct SpecError {
  std::string message;
};

std::variant<JobSpec, SpecError> parse_job_spec(const boost::json::value& v);
// One spec or {"jobs": [spec, ...]}.
std::variant<std::vector<JobSpec>, SpecError> parse_job_specs(const boost::json::value& v);

// The job a spec describes, created at `now`. N subjobs end spread evenly up
// to the job's end, the last one with the job's outcome. A failing job whose
// subjob list names no outcome at all gets its last subjob failed.
Job build_job(const JobSpec& spec, SimTime now, IdGenerator& ids);

// "success", "failure", "ghost", or "pending" for a scripted job that never
// reaches a terminal status: what a watcher should conclude.
std::string_view expected_outcome(const Job& job);
// {"outcome", "subjobs": [{"job_id", "outcome", "job_type", "upstream_status",
//  error fields…}], "duration_s", "not_found_s"?, "project_id"?, "api",
//  "job_type", "upstream_status", error fields…}: what tests need to predict
// the events for this job. "upstream_status" is the last status the API
// sends; the error fields are those its final answer carries.
boost::json::object describe_expected(const Job& job);

// Shared validation helpers for admin request bodies.
std::optional<double> as_number(const boost::json::value& v);
bool valid_id(std::string_view id);

}  // namespace jobwatch::sim
