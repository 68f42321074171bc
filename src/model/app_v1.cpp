// app-v1 (ShowJob, seed tables 3-7): JSON -> JobDetail -> JobSnapshot.
#include "jobwatch/model/app_v1.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <cmath>
#include <exception>
#include <limits>
#include <utility>

#include "field_reader.hpp"
#include "resource_info.hpp"

namespace jobwatch::model {

namespace json = boost::json;
using detail::FieldReader;
using detail::kind_name;

namespace {

// job_status: one of the four integer codes.
void required_status(FieldReader& r, std::string_view key, JobStatus& out) {
  std::optional<std::int64_t> code;
  r.integer(key, code);
  if (!r.ok()) return;
  if (!code) return r.fail(key, "missing");
  if (auto status = status_from_code(*code)) {
    out = *status;
  } else {
    r.fail(key, "unknown value " + std::to_string(*code));
  }
}

RelativeResource parse_relative(const json::object& obj, std::string path, std::string& error) {
  FieldReader r(obj, std::move(path), error);
  RelativeResource out;
  r.str("relative_resource_id", out.relative_resource_id);
  r.str("relative_resource_name", out.relative_resource_name);
  r.integer("relative_type", out.relative_type);
  r.str("relative_cloud_service_type", out.relative_cloud_service_type);
  r.str("relative_resource_type", out.relative_resource_type);
  r.str("extend_params", out.extend_params);
  return out;
}

}  // namespace

JobResourceInfo detail::parse_job_resource_info(const json::object& obj, std::string path,
                                                std::string& error) {
  FieldReader r(obj, std::move(path), error);
  JobResourceInfo out;
  r.str("resource_id", out.resource_id);
  r.str("resource_name", out.resource_name);
  r.str("cloud_service_type", out.cloud_service_type);
  r.str("resource_type", out.resource_type);
  r.str("resource_spec_code", out.resource_spec_code);
  r.object("spec_type", out.spec_type);
  r.number("spec_size", out.spec_size);
  r.integer("measure", out.measure);
  r.str("processed_time", out.processed_time);
  r.integer("is_main_resource", out.is_main_resource);
  r.array("main_resources", out.main_resources, parse_relative);
  r.str("extend_params", out.extend_params);
  r.str("old_resource_id", out.old_resource_id);
  r.str("old_cloud_service_type", out.old_cloud_service_type);
  r.str("old_resource_type", out.old_resource_type);
  return out;
}

namespace {

SubJobInfo parse_sub_job(const json::object& obj, std::string path, std::string& error) {
  FieldReader r(obj, std::move(path), error);
  SubJobInfo out;
  r.required_str("job_id", out.job_id);
  r.integer("job_type", out.job_type);
  required_status(r, "job_status", out.job_status);
  r.array("entities", out.entities, detail::parse_job_resource_info);
  r.str("begin_time", out.begin_time);
  r.str("end_time", out.end_time);
  r.str("expected_end_time", out.expected_end_time);
  r.str("execute_code", out.execute_code);
  r.str("execute_message", out.execute_message);
  if (r.ok()) out.raw = obj;
  return out;
}

template <class T>
void put(json::object& obj, std::string_view key, const std::optional<T>& value) {
  if (value) obj[key] = *value;
}

template <class T>
void put_array(json::object& obj, std::string_view key,
               const std::optional<std::vector<T>>& items) {
  if (!items) return;
  json::array arr;
  arr.reserve(items->size());
  for (const auto& item : *items) arr.emplace_back(to_json(item));
  obj[key] = std::move(arr);
}

}  // namespace

ParseResult parse_job_detail(const json::object& job) {
  try {
    std::string error;
    FieldReader r(job, "job", error);
    JobDetail out;
    r.required_str("job_id", out.job_id);
    r.integer("job_type", out.job_type);
    required_status(r, "job_status", out.job_status);
    r.array("sub_jobs", out.sub_jobs, parse_sub_job);
    r.str("begin_time", out.begin_time);
    r.str("end_time", out.end_time);
    r.str("expected_end_time", out.expected_end_time);
    r.str("execute_code", out.execute_code);
    r.str("execute_message", out.execute_message);
    if (!r.ok()) return ParseError{std::move(error)};
    out.raw = job;
    return out;
  } catch (const std::exception& e) {  // only allocation failure can get here
    return ParseError{std::string("job: ") + e.what()};
  }
}

ParseResult parse_show_job_response(std::string_view body) {
  try {
    boost::system::error_code ec;
    const json::value root = json::parse(body, ec);
    if (ec) return ParseError{"body: malformed JSON: " + ec.message()};
    const auto* obj = root.if_object();
    if (!obj) return ParseError{"body: expected object, got " + std::string(kind_name(root))};
    const json::value* job = obj->if_contains("job");
    if (!job || job->is_null()) return ParseError{"job: missing"};
    const auto* job_obj = job->if_object();
    if (!job_obj) return ParseError{"job: expected object, got " + std::string(kind_name(*job))};
    return parse_job_detail(*job_obj);
  } catch (const std::exception& e) {
    return ParseError{std::string("body: ") + e.what()};
  }
}

json::object to_json(const RelativeResource& resource) {
  json::object obj;
  put(obj, "relative_resource_id", resource.relative_resource_id);
  put(obj, "relative_resource_name", resource.relative_resource_name);
  put(obj, "relative_type", resource.relative_type);
  put(obj, "relative_cloud_service_type", resource.relative_cloud_service_type);
  put(obj, "relative_resource_type", resource.relative_resource_type);
  put(obj, "extend_params", resource.extend_params);
  return obj;
}

json::object to_json(const JobResourceInfo& entity) {
  json::object obj;
  put(obj, "resource_id", entity.resource_id);
  put(obj, "resource_name", entity.resource_name);
  put(obj, "cloud_service_type", entity.cloud_service_type);
  put(obj, "resource_type", entity.resource_type);
  put(obj, "resource_spec_code", entity.resource_spec_code);
  put(obj, "spec_type", entity.spec_type);
  put(obj, "spec_size", entity.spec_size);
  put(obj, "measure", entity.measure);
  put(obj, "processed_time", entity.processed_time);
  put(obj, "is_main_resource", entity.is_main_resource);
  put_array(obj, "main_resources", entity.main_resources);
  put(obj, "extend_params", entity.extend_params);
  put(obj, "old_resource_id", entity.old_resource_id);
  put(obj, "old_cloud_service_type", entity.old_cloud_service_type);
  put(obj, "old_resource_type", entity.old_resource_type);
  return obj;
}

json::object to_json(const SubJobInfo& sub) {
  json::object obj;
  obj["job_id"] = sub.job_id;
  put(obj, "job_type", sub.job_type);
  obj["job_status"] = static_cast<std::int64_t>(sub.job_status);
  put_array(obj, "entities", sub.entities);
  put(obj, "begin_time", sub.begin_time);
  put(obj, "end_time", sub.end_time);
  put(obj, "expected_end_time", sub.expected_end_time);
  put(obj, "execute_code", sub.execute_code);
  put(obj, "execute_message", sub.execute_message);
  return obj;
}

json::object to_json(const JobDetail& job) {
  json::object obj;
  obj["job_id"] = job.job_id;
  put(obj, "job_type", job.job_type);
  obj["job_status"] = static_cast<std::int64_t>(job.job_status);
  put_array(obj, "sub_jobs", job.sub_jobs);
  put(obj, "begin_time", job.begin_time);
  put(obj, "end_time", job.end_time);
  put(obj, "expected_end_time", job.expected_end_time);
  put(obj, "execute_code", job.execute_code);
  put(obj, "execute_message", job.execute_message);
  return obj;
}

namespace {

// Moves out of `in`: the parsed detail is not needed once mapped.
template <class Info>
void fill_common(StatusSnapshot& out, Info& in) {
  out.raw = in.raw.empty() ? to_json(in) : std::move(in.raw);
  out.id = std::move(in.job_id);
  out.status = in.job_status;
  out.upstream_status = static_cast<std::int64_t>(in.job_status);
  if (in.job_type) out.job_type = *in.job_type;
  out.begin_time = std::move(in.begin_time);
  out.end_time = std::move(in.end_time);
  out.expected_end_time = std::move(in.expected_end_time);
  out.execute_code = std::move(in.execute_code);
  out.execute_message = std::move(in.execute_message);
}

}  // namespace

JobSnapshot to_snapshot(JobDetail job) {
  JobSnapshot out;
  // Before the subjobs are moved out: a hand-built job's detail includes them.
  if (job.raw.empty()) job.raw = to_json(job);
  if (job.sub_jobs) {
    out.subjobs.reserve(job.sub_jobs->size());
    for (SubJobInfo& sub : *job.sub_jobs) fill_common(out.subjobs.emplace_back(), sub);
  }
  fill_common(out, job);
  return out;
}

SnapshotResult parse_app_v1(std::string_view body) {
  ParseResult parsed = parse_show_job_response(body);
  if (auto* error = std::get_if<ParseError>(&parsed)) return std::move(*error);
  return to_snapshot(std::get<JobDetail>(std::move(parsed)));
}

}  // namespace jobwatch::model
