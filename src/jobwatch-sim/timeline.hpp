// The simulator's jobs: a job is a small struct holding its timeline (offsets
// from creation); its status and body are computed from that timeline and
// the current time on each request, so no timer exists per job.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace jobwatch::sim {

using SimTime = std::chrono::sys_time<std::chrono::milliseconds>;
using Millis = std::chrono::milliseconds;

// job_status codes as the app-v1 API sends them.
inline constexpr int status_failed = 0;
inline constexpr int status_successful = 1;
inline constexpr int status_handling = 2;
inline constexpr int status_initializing = 3;

// The job API a job lives in; it answers on that API's path only.
enum class Api { app_v1, app_v2, desktop_v2 };
std::string_view api_name(Api api);  // "app-v1", "app-v2", "desktop-v2"
std::optional<Api> parse_api(std::string_view name);

// "2023-06-06T02:30:06Z" (UTC, whole seconds, as the app-v1 API answers).
std::string format_time(SimTime t);
// "2023-06-06T02:30:06.123Z", as the v2 APIs may answer.
std::string format_time_ms(SimTime t);

// From `at` (offset from the job's creation) the status is `status`: an
// integer for app-v1, a string for the v2 APIs, any value at all.
struct StatusPoint {
  Millis at{0};
  boost::json::value status;
};
using StatusTimeline = std::vector<StatusPoint>;

// What a status means (SPEC §1.3); `other` is a value nobody documented.
enum class Phase { initial, running, succeeded, failed, other };
Phase classify_status(const boost::json::value& status);
inline bool is_terminal(Phase p) {
  return p == Phase::succeeded || p == Phase::failed;
}

// What a spec set beyond durations and outcomes. Shared and usually absent,
// so the plain jobs of a 100k benchmark stay small.
struct Script {
  StatusTimeline timeline;                    // empty: derived from the durations
  boost::json::value job_type;                // null: the API's default
  std::optional<std::string> error_code;      // subjobs: execute_code (v1), error_code (v2)
  std::optional<std::string> error_message;   // app subjobs: execute_message / error_message
  std::optional<std::string> fail_reason;     // desktop-v2 job and subjobs
  std::optional<std::string> message;         // desktop-v2 subjobs
  std::optional<std::string> job_error_code;  // desktop-v2 job
};

struct SubJob {
  std::uint64_t id = 0;  // rendered as an 18-digit string
  Millis end{0};         // terminal at timeline start + end (scripted: from creation)
  bool success = true;   // scripted: the final status is a success
  std::shared_ptr<const Script> script;
};

struct Job {
  std::string job_id;
  std::string project_id;  // empty: any project in the path is accepted
  Api api = Api::app_v1;
  SimTime created{};
  Millis start_delay{0};               // initializing, before the timeline below starts
  Millis initializing{0};              // then initializing for this long
  Millis duration{0};                  // terminal at start_delay + duration
  std::optional<Millis> expected_end;  // from creation; absent: no estimate (app-v1 only)
  Millis not_found{0};                 // 404 for this long after creation
  bool ghost = false;                  // always 404
  bool success = true;                 // scripted: the final status is a success
  std::vector<SubJob> subjobs;
  std::shared_ptr<const Script> script;
  std::uint64_t requests = 0;            // requests naming this job on its API's path
  std::uint64_t wrong_api_requests = 0;  // ... and on another API's path
};

// A job's or subjob's status at one moment, with the offsets (from
// creation) of its begin (once it left WAITING/INIT) and end (once terminal).
struct StatusNow {
  boost::json::value status;
  Phase phase = Phase::initial;
  std::optional<Millis> begin;
  std::optional<Millis> end;
};
StatusNow job_status_now(const Job& job, SimTime now);
StatusNow subjob_status_now(const Job& job, const SubJob& sub, SimTime now);
// The status the API settles on (after the last scripted change).
boost::json::value final_job_status(const Job& job);
boost::json::value final_subjob_status(const Job& job, const SubJob& sub);
// When the last scripted status starts, or the derived end.
Millis job_end_offset(const Job& job);
// When a timeline settles: the first of its trailing terminal entries, else its last entry.
Millis timeline_end(const StatusTimeline& timeline);

// Whether the API finds the job at `now` (ghosts never, late jobs not yet).
bool is_visible(const Job& job, SimTime now);
// app-v1 job_status codes (a scripted non-integer status reads as -1).
int job_status_at(const Job& job, SimTime now);
int subjob_status_at(const Job& job, const SubJob& sub, SimTime now);

// The job as its API describes it at `now` (app-v1: the JobDetail inside
// {"job": …}; v2: the whole body), or nullopt while the API answers 404.
// `path_project` fills project_id for a job that accepts any project.
std::optional<boost::json::object> render_job_detail(const Job& job, SimTime now,
                                                     std::string_view path_project = {});
// The 200 body: app-v1 wraps the detail in {"job": …}.
std::optional<boost::json::object> render_body(const Job& job, SimTime now,
                                               std::string_view path_project = {});

// Unique 18-digit numeric IDs, increasing by small random steps like the
// real API's snowflake-style IDs.
class IdGenerator {
 public:
  explicit IdGenerator(std::uint64_t seed);
  std::uint64_t next();

 private:
  std::uint64_t state_;
  std::uint64_t last_ = 0;
};

}  // namespace jobwatch::sim
