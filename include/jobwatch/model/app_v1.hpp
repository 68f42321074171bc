// app-v1, the ShowJob API (seed tables 3-7): what GET /v1/{project}/job/{id}
// answers, mapped field by field, and its JobSnapshot. Optional fields stay absent when the API
// leaves them out; the verbatim JSON is kept beside the parsed fields so
// events can carry the detail exactly as received.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "jobwatch/model/snapshot.hpp"

namespace jobwatch::model {

// Table 7.
struct RelativeResource {
  std::optional<std::string> relative_resource_id;
  std::optional<std::string> relative_resource_name;
  std::optional<std::int64_t> relative_type;
  std::optional<std::string> relative_cloud_service_type;
  std::optional<std::string> relative_resource_type;
  std::optional<std::string> extend_params;
};

// Table 6.
struct JobResourceInfo {
  std::optional<std::string> resource_id;
  std::optional<std::string> resource_name;
  std::optional<std::string> cloud_service_type;
  std::optional<std::string> resource_type;
  std::optional<std::string> resource_spec_code;
  std::optional<boost::json::object> spec_type;  // Map<String,Object>
  std::optional<double> spec_size;
  std::optional<std::int64_t> measure;
  std::optional<std::string> processed_time;
  std::optional<std::int64_t> is_main_resource;
  std::optional<std::vector<RelativeResource>> main_resources;
  std::optional<std::string> extend_params;
  std::optional<std::string> old_resource_id;
  std::optional<std::string> old_cloud_service_type;
  std::optional<std::string> old_resource_type;
};

// Table 5.
struct SubJobInfo {
  std::string job_id;
  std::optional<std::int64_t> job_type;
  JobStatus job_status = JobStatus::initializing;
  std::optional<std::vector<JobResourceInfo>> entities;
  std::optional<std::string> begin_time;
  std::optional<std::string> end_time;
  std::optional<std::string> expected_end_time;
  std::optional<std::string> execute_code;
  std::optional<std::string> execute_message;
  boost::json::object raw;  // the SubJobInfo object exactly as received
};

// Table 4.
struct JobDetail {
  std::string job_id;
  std::optional<std::int64_t> job_type;
  JobStatus job_status = JobStatus::initializing;
  std::optional<std::vector<SubJobInfo>> sub_jobs;
  std::optional<std::string> begin_time;
  std::optional<std::string> end_time;
  std::optional<std::string> expected_end_time;
  std::optional<std::string> execute_code;
  std::optional<std::string> execute_message;
  boost::json::object raw;  // the JobDetail object exactly as received
};

using ParseResult = std::variant<JobDetail, ParseError>;

// Parses a ShowJob 200 body: {"job": JobDetail}. Unknown fields are ignored,
// wrong types and unknown job_status values are a ParseError. Never throws.
ParseResult parse_show_job_response(std::string_view body);
// The same for an already parsed JobDetail object (used by the tracker tests).
ParseResult parse_job_detail(const boost::json::object& job);

// Serializes back to JSON (only present fields), for round-trip tests and
// the simulator.
boost::json::object to_json(const JobDetail& job);
boost::json::object to_json(const SubJobInfo& sub);
boost::json::object to_json(const JobResourceInfo& entity);
boost::json::object to_json(const RelativeResource& resource);

// The common view: job_status is already a meaning; `raw` falls back to
// to_json() for a hand-built detail, so events always carry a detail.
JobSnapshot to_snapshot(JobDetail job);
// parse_show_job_response, then to_snapshot: the app-v1 row of api.cpp.
SnapshotResult parse_app_v1(std::string_view body);

}  // namespace jobwatch::model
