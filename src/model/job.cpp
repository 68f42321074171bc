// ShowJob model: status helpers and the JSON -> JobDetail mapping (tables 3-7).
#include "jobwatch/model/job.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <cmath>
#include <exception>
#include <limits>
#include <utility>

namespace jobwatch::model {

namespace json = boost::json;

bool is_terminal(JobStatus status) {
  return status == JobStatus::failed || status == JobStatus::successful;
}

std::string_view status_word(JobStatus status) {
  switch (status) {
    case JobStatus::failed:
      return "failed";
    case JobStatus::successful:
      return "succeeded";
    case JobStatus::handling:
      return "handling";
    case JobStatus::initializing:
      return "initializing";
  }
  return "unknown";
}

std::optional<JobStatus> status_from_code(std::int64_t code) {
  switch (code) {
    case 0:
      return JobStatus::failed;
    case 1:
      return JobStatus::successful;
    case 2:
      return JobStatus::handling;
    case 3:
      return JobStatus::initializing;
    default:
      return std::nullopt;
  }
}

namespace {

std::string_view kind_name(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      return "null";
    case json::kind::bool_:
      return "boolean";
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_:
      return "number";
    case json::kind::string:
      return "string";
    case json::kind::array:
      return "array";
    case json::kind::object:
      return "object";
  }
  return "value";
}

// JSON does not tell integers from reals, so an integral double (1.0, 1e0)
// is accepted where the table says Integer; 1.5 is not.
std::optional<std::int64_t> as_integer(const json::value& v) {
  if (const auto* i = v.if_int64()) return *i;
  if (const auto* u = v.if_uint64()) {
    if (*u <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      return static_cast<std::int64_t>(*u);
    }
    return std::nullopt;
  }
  if (const auto* d = v.if_double()) {
    // 2^63 is exactly representable; anything at or beyond it does not fit.
    if (std::isfinite(*d) && std::trunc(*d) == *d && *d >= -9223372036854775808.0 &&
        *d < 9223372036854775808.0) {
      return static_cast<std::int64_t>(*d);
    }
  }
  return std::nullopt;
}

// Reads the fields of one JSON object. The first problem wins: later reads
// do nothing once `error` is set, so callers check ok() once at the end.
class FieldReader {
 public:
  FieldReader(const json::object& obj, std::string path, std::string& error)
      : obj_(obj), path_(std::move(path)), error_(error) {}

  bool ok() const { return error_.empty(); }
  std::string child_path(std::string_view key) const { return path_ + "." + std::string(key); }

  void str(std::string_view key, std::optional<std::string>& out) {
    const json::value* v = get(key);
    if (!v) return;
    if (const auto* s = v->if_string()) {
      out.emplace(s->data(), s->size());
    } else {
      wrong_type(key, "string", *v);
    }
  }

  void integer(std::string_view key, std::optional<std::int64_t>& out) {
    const json::value* v = get(key);
    if (!v) return;
    if (auto i = as_integer(*v)) {
      out = *i;
    } else {
      wrong_type(key, "integer", *v);
    }
  }

  void number(std::string_view key, std::optional<double>& out) {
    const json::value* v = get(key);
    if (!v) return;
    if (const auto* d = v->if_double()) {
      out = *d;
    } else if (const auto* i = v->if_int64()) {
      out = static_cast<double>(*i);
    } else if (const auto* u = v->if_uint64()) {
      out = static_cast<double>(*u);
    } else {
      wrong_type(key, "number", *v);
    }
  }

  void object(std::string_view key, std::optional<json::object>& out) {
    const json::value* v = get(key);
    if (!v) return;
    if (const auto* o = v->if_object()) {
      out = *o;
    } else {
      wrong_type(key, "object", *v);
    }
  }

  // parse_element(const json::object&, std::string path, std::string& error) -> T
  template <class T, class ParseElement>
  void array(std::string_view key, std::optional<std::vector<T>>& out, ParseElement parse_element) {
    const json::value* v = get(key);
    if (!v) return;
    const auto* arr = v->if_array();
    if (!arr) {
      wrong_type(key, "array", *v);
      return;
    }
    std::vector<T> items;
    items.reserve(arr->size());
    for (std::size_t i = 0; i < arr->size() && ok(); ++i) {
      std::string path = child_path(key) + "[" + std::to_string(i) + "]";
      const auto* element = (*arr)[i].if_object();
      if (!element) {
        error_ = path + ": expected object, got " + std::string(kind_name((*arr)[i]));
        return;
      }
      items.push_back(parse_element(*element, std::move(path), error_));
    }
    if (ok()) out = std::move(items);
  }

  void required_str(std::string_view key, std::string& out) {
    std::optional<std::string> value;
    str(key, value);
    if (!ok()) return;
    if (!value) {
      error_ = child_path(key) + ": missing";
      return;
    }
    out = std::move(*value);
  }

  void required_status(std::string_view key, JobStatus& out) {
    std::optional<std::int64_t> code;
    integer(key, code);
    if (!ok()) return;
    if (!code) {
      error_ = child_path(key) + ": missing";
      return;
    }
    if (auto status = status_from_code(*code)) {
      out = *status;
    } else {
      error_ = child_path(key) + ": unknown value " + std::to_string(*code);
    }
  }

 private:
  // null counts as absent: the API is not consistent about omitting fields.
  const json::value* get(std::string_view key) const {
    if (!ok()) return nullptr;
    const json::value* v = obj_.if_contains(key);
    if (!v || v->is_null()) return nullptr;
    return v;
  }

  void wrong_type(std::string_view key, std::string_view expected, const json::value& got) {
    error_ = child_path(key) + ": expected " + std::string(expected) + ", got " +
             std::string(kind_name(got));
  }

  const json::object& obj_;
  std::string path_;
  std::string& error_;
};

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

JobResourceInfo parse_entity(const json::object& obj, std::string path, std::string& error) {
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

SubJobInfo parse_sub_job(const json::object& obj, std::string path, std::string& error) {
  FieldReader r(obj, std::move(path), error);
  SubJobInfo out;
  r.required_str("job_id", out.job_id);
  r.integer("job_type", out.job_type);
  r.required_status("job_status", out.job_status);
  r.array("entities", out.entities, parse_entity);
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
    r.required_status("job_status", out.job_status);
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

}  // namespace jobwatch::model
