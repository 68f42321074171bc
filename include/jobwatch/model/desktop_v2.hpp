// desktop-v2, Workspace desktops ShowJob (SPEC §1.2):
// GET /v2/{project_id}/workspace-jobs/{job_id} answers the job object itself
// (no wrapper), with string statuses, per-subjob progress and no estimate.
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

struct DesktopEntities {
  std::optional<std::string> desktop_id;
  std::optional<std::string> product_id;
  std::optional<std::string> user_name;
  std::optional<std::string> desktop_name;
  std::optional<std::string> ip_address;
};

struct DesktopSubJob {
  std::string id;
  std::optional<std::string> job_type;
  std::optional<DesktopEntities> entities;
  std::optional<std::string> begin_time;
  std::optional<std::string> end_time;
  std::string status;  // as sent
  JobStatus meaning = JobStatus::initializing;
  std::optional<std::string> error_code;
  std::optional<std::string> fail_reason;
  std::optional<std::string> message;
  std::optional<std::string> job_id;    // the parent job's id
  std::optional<std::int64_t> process;  // percent
  boost::json::object raw;
};

struct DesktopJob {
  std::string id;
  std::optional<std::string> job_type;  // createDesktops, deleteDesktops, …
  std::optional<std::string> begin_time;
  std::optional<std::string> end_time;
  std::string status;  // as sent
  JobStatus meaning = JobStatus::initializing;
  std::optional<std::string> job_error_code;
  std::optional<std::string> fail_reason;
  std::optional<std::int64_t> sub_jobs_total;
  std::optional<std::vector<DesktopSubJob>> sub_jobs;
  boost::json::object raw;
};

// Unknown fields are ignored; wrong types and statuses outside SPEC §1.3's
// table are a ParseError. Never throws.
std::variant<DesktopJob, ParseError> parse_desktop_job(std::string_view body);
JobSnapshot to_snapshot(DesktopJob job);
// parse_desktop_job, then to_snapshot: the desktop-v2 row of api.cpp.
SnapshotResult parse_desktop_v2(std::string_view body);

}  // namespace jobwatch::model
