// app-v2, Application Streaming ShowJobDetail (SPEC §1.1):
// GET /v2/{project_id}/job/{job_id} answers the job object itself (no
// wrapper), with string statuses and no expected_end_time.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "jobwatch/model/app_v1.hpp"  // JobResourceInfo, shared with app-v1
#include "jobwatch/model/snapshot.hpp"

namespace jobwatch::model {

// JobDetailInfo: one subjob.
struct AppV2SubJob {
  std::string id;
  std::optional<std::string> job_type;
  std::optional<JobResourceInfo> job_resource_info;
  std::optional<std::string> begin_time;
  std::optional<std::string> end_time;
  std::string status;  // as sent: WAITING, RUNNING, SUCCESS, FAILED, ABNORMAL, ROLLBACK, ABORTING
  JobStatus meaning = JobStatus::initializing;
  std::optional<std::string> error_code;
  std::optional<std::string> error_message;
  std::optional<std::string> project_id;
  std::optional<std::string> job_id;  // the parent job's id
  boost::json::object raw;
};

struct AppV2Job {
  std::string id;
  std::optional<std::string> job_type;  // CREATE_SERVER, … (any value kept)
  std::optional<std::string> begin_time;
  std::optional<std::string> end_time;
  std::string status;  // as sent: WAITING, RUNNING, SUCCESS, FAILED
  JobStatus meaning = JobStatus::initializing;
  std::optional<std::int64_t> sub_jobs_total;
  std::optional<std::vector<AppV2SubJob>> sub_jobs;
  boost::json::object raw;
};

// Unknown fields are ignored; wrong types and statuses outside SPEC §1.3's
// table are a ParseError. Never throws.
std::variant<AppV2Job, ParseError> parse_app_v2_job(std::string_view body);
JobSnapshot to_snapshot(AppV2Job job);
// parse_app_v2_job, then to_snapshot: the app-v2 row of api.cpp.
SnapshotResult parse_app_v2(std::string_view body);

}  // namespace jobwatch::model
