// The simulator's jobs: a job is a small struct holding its timeline (offsets
// from creation); its status and JobDetail are computed from that timeline
// and the current time on each request, so no timer exists per job.
#pragma once

#include <boost/json/object.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace jobwatch::sim {

using SimTime = std::chrono::sys_time<std::chrono::milliseconds>;
using Millis = std::chrono::milliseconds;

// job_status codes as the API sends them.
inline constexpr int status_failed = 0;
inline constexpr int status_successful = 1;
inline constexpr int status_handling = 2;
inline constexpr int status_initializing = 3;

// "2023-06-06T02:30:06Z" (UTC, whole seconds, as the real API answers).
std::string format_time(SimTime t);

struct SubJob {
  std::uint64_t id = 0;  // rendered as an 18-digit string
  Millis end{0};         // terminal at timeline start + end
  bool success = true;
};

struct Job {
  std::string job_id;
  std::string project_id;  // empty: any project in the path is accepted
  SimTime created{};
  Millis start_delay{0};               // initializing, before the timeline below starts
  Millis initializing{0};              // then initializing for this long
  Millis duration{0};                  // terminal at start_delay + duration
  std::optional<Millis> expected_end;  // from creation; absent: no estimate
  Millis not_found{0};                 // 404 for this long after creation
  bool ghost = false;                  // always 404
  bool success = true;
  std::vector<SubJob> subjobs;
  std::uint64_t requests = 0;  // ShowJob requests naming this job
};

// Whether ShowJob finds the job at `now` (ghosts never, late jobs not yet).
bool is_visible(const Job& job, SimTime now);
int job_status_at(const Job& job, SimTime now);
int subjob_status_at(const Job& job, const SubJob& sub, SimTime now);

// The JobDetail object at `now`, or nullopt while the API answers 404.
std::optional<boost::json::object> render_job_detail(const Job& job, SimTime now);

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
