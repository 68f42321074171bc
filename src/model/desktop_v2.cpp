// desktop-v2 (Workspace ShowJob, SPEC §1.2): JSON -> DesktopJob -> JobSnapshot.
#include "jobwatch/model/desktop_v2.hpp"

#include <exception>
#include <utility>

#include "field_reader.hpp"

namespace jobwatch::model {

namespace json = boost::json;
using detail::FieldReader;

namespace {

DesktopEntities parse_entities(const json::object& obj, std::string path, std::string& error) {
  FieldReader r(obj, std::move(path), error);
  DesktopEntities out;
  r.str("desktop_id", out.desktop_id);
  r.str("product_id", out.product_id);
  r.str("user_name", out.user_name);
  r.str("desktop_name", out.desktop_name);
  r.str("ip_address", out.ip_address);
  return out;
}

DesktopSubJob parse_sub_job(const json::object& obj, std::string path, std::string& error) {
  FieldReader r(obj, std::move(path), error);
  DesktopSubJob out;
  json::value upstream;
  r.required_str("id", out.id);
  r.str("job_type", out.job_type);
  r.child("entities", out.entities, parse_entities);
  r.str("begin_time", out.begin_time);
  r.str("end_time", out.end_time);
  detail::required_status_name(r, "status", out.meaning, upstream);
  r.str("error_code", out.error_code);
  r.str("fail_reason", out.fail_reason);
  r.str("message", out.message);
  r.str("job_id", out.job_id);
  r.integer("process", out.process);
  if (!r.ok()) return out;
  out.status = upstream.as_string().c_str();
  out.raw = obj;
  return out;
}

}  // namespace

std::variant<DesktopJob, ParseError> parse_desktop_job(std::string_view body) {
  try {
    auto root = detail::parse_object_body(body);
    if (auto* error = std::get_if<ParseError>(&root)) return std::move(*error);
    json::object& obj = std::get<json::object>(root);
    std::string error;
    FieldReader r(obj, "job", error);
    DesktopJob out;
    json::value upstream;
    r.required_str("id", out.id);
    r.str("job_type", out.job_type);
    r.str("begin_time", out.begin_time);
    r.str("end_time", out.end_time);
    detail::required_status_name(r, "status", out.meaning, upstream);
    r.str("job_error_code", out.job_error_code);
    r.str("fail_reason", out.fail_reason);
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

JobSnapshot to_snapshot(DesktopJob job) {
  JobSnapshot out;
  if (job.sub_jobs) {
    out.subjobs.reserve(job.sub_jobs->size());
    for (DesktopSubJob& sub : *job.sub_jobs) {
      SubjobSnapshot& snap = out.subjobs.emplace_back();
      detail::fill_v2_common(snap, sub);
      snap.execute_code = std::move(sub.error_code);
      snap.execute_message = std::move(sub.fail_reason);
      snap.process = sub.process;
    }
  }
  detail::fill_v2_common(out, job);
  out.execute_code = std::move(job.job_error_code);
  out.execute_message = std::move(job.fail_reason);
  out.subjobs_total = job.sub_jobs_total;
  return out;
}

SnapshotResult parse_desktop_v2(std::string_view body) {
  auto parsed = parse_desktop_job(body);
  if (auto* error = std::get_if<ParseError>(&parsed)) return std::move(*error);
  return to_snapshot(std::get<DesktopJob>(std::move(parsed)));
}

}  // namespace jobwatch::model
