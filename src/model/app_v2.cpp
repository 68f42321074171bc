// app-v2 (ShowJobDetail, SPEC §1.1): JSON -> AppV2Job -> JobSnapshot.
#include "jobwatch/model/app_v2.hpp"

#include <exception>
#include <utility>

#include "field_reader.hpp"
#include "resource_info.hpp"

namespace jobwatch::model {

namespace json = boost::json;
using detail::FieldReader;

namespace {

AppV2SubJob parse_sub_job(const json::object& obj, std::string path, std::string& error) {
  FieldReader r(obj, std::move(path), error);
  AppV2SubJob out;
  json::value upstream;
  r.required_str("id", out.id);
  r.str("job_type", out.job_type);
  r.child("job_resource_info", out.job_resource_info, detail::parse_job_resource_info);
  r.str("begin_time", out.begin_time);
  r.str("end_time", out.end_time);
  detail::required_status_name(r, "status", out.meaning, upstream);
  r.str("error_code", out.error_code);
  r.str("error_message", out.error_message);
  r.str("project_id", out.project_id);
  r.str("job_id", out.job_id);
  if (!r.ok()) return out;
  out.status = upstream.as_string().c_str();
  out.raw = obj;
  return out;
}

}  // namespace

std::variant<AppV2Job, ParseError> parse_app_v2_job(std::string_view body) {
  try {
    auto root = detail::parse_object_body(body);
    if (auto* error = std::get_if<ParseError>(&root)) return std::move(*error);
    json::object& obj = std::get<json::object>(root);
    std::string error;
    FieldReader r(obj, "job", error);
    AppV2Job out;
    json::value upstream;
    r.required_str("id", out.id);
    r.str("job_type", out.job_type);
    r.str("begin_time", out.begin_time);
    r.str("end_time", out.end_time);
    detail::required_status_name(r, "status", out.meaning, upstream);
    r.integer("sub_jobs_total", out.sub_jobs_total);
    r.array("sub_jobs", out.sub_jobs, parse_sub_job);
    if (!r.ok()) return ParseError{std::move(error)};
    out.status = upstream.as_string().c_str();
    out.raw = std::move(obj);
    return out;
  } catch (const std::exception& e) {  // only allocation failure can get here
    return ParseError{std::string("body: ") + e.what()};
  }
}

JobSnapshot to_snapshot(AppV2Job job) {
  JobSnapshot out;
  if (job.sub_jobs) {
    out.subjobs.reserve(job.sub_jobs->size());
    for (AppV2SubJob& sub : *job.sub_jobs) {
      SubjobSnapshot& snap = out.subjobs.emplace_back();
      detail::fill_v2_common(snap, sub);
      snap.execute_code = std::move(sub.error_code);
      snap.execute_message = std::move(sub.error_message);
    }
  }
  detail::fill_v2_common(out, job);
  out.subjobs_total = job.sub_jobs_total;
  return out;
}

SnapshotResult parse_app_v2(std::string_view body) {
  auto parsed = parse_app_v2_job(body);
  if (auto* error = std::get_if<ParseError>(&parsed)) return std::move(*error);
  return to_snapshot(std::get<AppV2Job>(std::move(parsed)));
}

}  // namespace jobwatch::model
