// One internal view of a job answer, whatever API it came from (SPEC §1.3):
// the tracker, the policy, the store and the sinks see only this. Each API's
// mapping file (app_v1, app_v2, desktop_v2) turns its own body into it.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace jobwatch::model {

// The meaning of a status. The values are app-v1's job_status codes, which
// events carry as `status_code` for every API.
enum class JobStatus : std::int8_t { failed = 0, successful = 1, handling = 2, initializing = 3 };

bool is_terminal(JobStatus status);
// "failed", "succeeded", "handling", "initializing" (SPEC §3 WatchInfo.status words).
std::string_view status_word(JobStatus status);
// app-v1's integer codes; nullopt for any other value.
std::optional<JobStatus> status_from_code(std::int64_t code);
// app-v2 and desktop-v2 status strings, SPEC §1.3's table; nullopt for any
// value not in it (a protocol error for that poll, never an end).
std::optional<JobStatus> status_from_name(std::string_view name);

// Why a 200 body could not be used. The poll that got it is classified as
// malformed; the watch carries on.
struct ParseError {
  std::string message;  // e.g. "job.sub_jobs[2].status: unknown value \"PAUSED\""
};

// What a job and a subjob have in common once mapped.
struct StatusSnapshot {
  std::string id;
  JobStatus status = JobStatus::initializing;
  boost::json::value upstream_status;  // exactly as sent: 0, "FAILED", "ABNORMAL"…
  boost::json::value job_type;         // exactly as sent; null when absent
  std::optional<std::string> begin_time;
  std::optional<std::string> end_time;
  std::optional<std::string> expected_end_time;  // app-v1 only
  // app-v1 execute_code/execute_message; v2 error_code/job_error_code and
  // error_message/fail_reason (SPEC §5).
  std::optional<std::string> execute_code;
  std::optional<std::string> execute_message;
  std::optional<std::int64_t> process;  // desktop-v2 subjob progress, percent
  boost::json::object raw;              // the object exactly as received (event `detail`)
};

using SubjobSnapshot = StatusSnapshot;

struct JobSnapshot : StatusSnapshot {
  std::vector<SubjobSnapshot> subjobs;  // in answer order
  // The API's own count (v2 `sub_jobs_total`); may exceed subjobs.size().
  std::optional<std::int64_t> subjobs_total;
};

using SnapshotResult = std::variant<JobSnapshot, ParseError>;

// job_type as text for keys and WatchInfo: a string as is, an integer in
// decimal, empty when absent.
std::string job_type_text(const boost::json::value& job_type);

}  // namespace jobwatch::model
