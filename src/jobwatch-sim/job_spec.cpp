#include "job_spec.hpp"

#include <algorithm>
#include <boost/json/array.hpp>
#include <cmath>

namespace jobwatch::sim {

namespace json = boost::json;

namespace {

constexpr double max_seconds = 366.0 * 24 * 3600;  // keeps every offset far from overflow
constexpr int max_subjobs = 1000;

Millis to_millis(double seconds) {
  return Millis{std::llround(seconds * 1000.0)};
}

std::optional<double> seconds_field(const json::value& v) {
  auto n = as_number(v);
  if (!n || *n < 0 || *n > max_seconds) return std::nullopt;
  return n;
}

std::optional<bool> parse_outcome(const json::value& v) {
  if (!v.is_string()) return std::nullopt;
  const std::string_view s = v.get_string();
  if (s == "success" || s == "succeeded" || s == "successful") return true;
  if (s == "failure" || s == "failed") return false;
  return std::nullopt;
}

SpecError seconds_error(std::string_view key) {
  return {std::string(key) + ": must be a number of seconds >= 0"};
}

std::variant<SubJobSpec, SpecError> parse_subjob_spec(const json::value& v, std::size_t index) {
  const std::string where = "subjobs[" + std::to_string(index) + "]";
  if (!v.is_object()) return SpecError{where + ": must be an object"};
  SubJobSpec spec;
  for (const auto& [key, value] : v.get_object()) {
    if (key == "duration_s") {
      spec.duration_s = seconds_field(value);
      if (!spec.duration_s)
        return SpecError{where + ".duration_s: must be a number of seconds >= 0"};
    } else if (key == "outcome") {
      spec.success = parse_outcome(value);
      if (!spec.success) return SpecError{where + ".outcome: must be \"success\" or \"failure\""};
    } else {
      return SpecError{where + ": unknown field \"" + std::string(key) + "\""};
    }
  }
  return spec;
}

}  // namespace

std::optional<double> as_number(const json::value& v) {
  double d = 0;
  if (v.is_int64()) {
    d = static_cast<double>(v.get_int64());
  } else if (v.is_uint64()) {
    d = static_cast<double>(v.get_uint64());
  } else if (v.is_double()) {
    d = v.get_double();
  } else {
    return std::nullopt;
  }
  if (!std::isfinite(d)) return std::nullopt;
  return d;
}

// IDs end up as one path segment of the ShowJob URL, so they must not need
// escaping there.
bool valid_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.';
  });
}

std::variant<JobSpec, SpecError> parse_job_spec(const json::value& v) {
  if (!v.is_object()) return SpecError{"a job spec must be an object"};
  JobSpec spec;
  for (const auto& [key, value] : v.get_object()) {
    if (key == "job_id" || key == "project_id") {
      if (!value.is_string() || !valid_id(value.get_string())) {
        return SpecError{std::string(key) + ": must be 1-128 characters of A-Z a-z 0-9 - _ ."};
      }
      if (key == "job_id") {
        spec.job_id = std::string(value.get_string());
      } else {
        spec.project_id = std::string(value.get_string());
      }
    } else if (key == "duration_s" || key == "initializing_s" || key == "not_found_s" ||
               key == "start_delay_s") {
      auto s = seconds_field(value);
      if (!s) return seconds_error(key);
      if (key == "duration_s") spec.duration_s = *s;
      if (key == "initializing_s") spec.initializing_s = *s;
      if (key == "not_found_s") spec.not_found_s = *s;
      if (key == "start_delay_s") spec.start_delay_s = *s;
    } else if (key == "expected_end_offset_s") {
      if (value.is_null()) {
        spec.estimate = JobSpec::Estimate::none;
      } else {
        auto n = as_number(value);
        if (!n || std::abs(*n) > max_seconds)
          return SpecError{"expected_end_offset_s: must be a number or null"};
        spec.estimate = JobSpec::Estimate::offset;
        spec.expected_end_offset_s = *n;
      }
    } else if (key == "outcome") {
      auto ok = parse_outcome(value);
      if (!ok) return SpecError{"outcome: must be \"success\" or \"failure\""};
      spec.success = *ok;
    } else if (key == "ghost") {
      if (!value.is_bool()) return SpecError{"ghost: must be true or false"};
      spec.ghost = value.get_bool();
    } else if (key == "subjobs") {
      if (value.is_array()) {
        const auto& arr = value.get_array();
        if (arr.size() > max_subjobs) return SpecError{"subjobs: at most 1000"};
        std::vector<SubJobSpec> subs;
        for (std::size_t i = 0; i < arr.size(); ++i) {
          auto sub = parse_subjob_spec(arr[i], i);
          if (auto* err = std::get_if<SpecError>(&sub)) return *err;
          subs.push_back(std::get<SubJobSpec>(sub));
        }
        spec.subjobs = std::move(subs);
      } else {
        auto n = as_number(value);
        if (!n || *n < 0 || *n > max_subjobs || *n != std::floor(*n)) {
          return SpecError{"subjobs: must be an array or an integer 0-1000"};
        }
        spec.subjob_count = static_cast<int>(*n);
      }
    } else {
      return SpecError{"unknown field \"" + std::string(key) + "\""};
    }
  }
  return spec;
}

std::variant<std::vector<JobSpec>, SpecError> parse_job_specs(const json::value& v) {
  std::vector<JobSpec> specs;
  const json::object* obj = v.if_object();
  if (obj && obj->size() == 1 && obj->contains("jobs")) {
    const json::array* arr = obj->at("jobs").if_array();
    if (!arr) return SpecError{"jobs: must be an array"};
    specs.reserve(arr->size());
    for (std::size_t i = 0; i < arr->size(); ++i) {
      auto spec = parse_job_spec((*arr)[i]);
      if (auto* err = std::get_if<SpecError>(&spec)) {
        return SpecError{"jobs[" + std::to_string(i) + "]: " + err->message};
      }
      specs.push_back(std::move(std::get<JobSpec>(spec)));
    }
    return specs;
  }
  auto spec = parse_job_spec(v);
  if (auto* err = std::get_if<SpecError>(&spec)) return *err;
  specs.push_back(std::move(std::get<JobSpec>(spec)));
  return specs;
}

Job build_job(const JobSpec& spec, SimTime now, IdGenerator& ids) {
  Job job;
  job.job_id = spec.job_id ? *spec.job_id : std::to_string(ids.next());
  job.project_id = spec.project_id;
  job.created = now;
  job.start_delay = to_millis(spec.start_delay_s);
  job.initializing = to_millis(spec.initializing_s);
  job.duration = to_millis(spec.duration_s);
  job.not_found = to_millis(spec.not_found_s);
  job.ghost = spec.ghost;
  job.success = spec.success;
  switch (spec.estimate) {
    case JobSpec::Estimate::actual_end:
      job.expected_end = job.start_delay + job.duration;
      break;
    case JobSpec::Estimate::offset:
      job.expected_end = to_millis(spec.expected_end_offset_s);
      break;
    case JobSpec::Estimate::none:
      break;
  }

  if (spec.subjob_count && *spec.subjob_count > 0) {
    const int n = *spec.subjob_count;
    const Millis first = std::min(job.initializing, job.duration);
    const Millis span = job.duration - first;
    for (int i = 1; i <= n; ++i) {
      SubJob sub;
      sub.id = ids.next();
      sub.end = first + span * i / n;
      sub.success = i < n || spec.success;
      job.subjobs.push_back(sub);
    }
  } else if (spec.subjobs) {
    bool any_outcome = false;
    for (const SubJobSpec& s : *spec.subjobs) {
      SubJob sub;
      sub.id = ids.next();
      sub.end = s.duration_s ? to_millis(*s.duration_s) : job.duration;
      sub.success = s.success.value_or(true);
      any_outcome = any_outcome || s.success.has_value();
      job.subjobs.push_back(sub);
    }
    if (!spec.success && !any_outcome && !job.subjobs.empty()) job.subjobs.back().success = false;
  }
  return job;
}

std::string_view expected_outcome(const Job& job) {
  if (job.ghost) return "ghost";
  return job.success ? "success" : "failure";
}

json::object describe_expected(const Job& job) {
  json::object o;
  o["outcome"] = expected_outcome(job);
  json::array subs;
  subs.reserve(job.subjobs.size());
  for (const SubJob& sub : job.subjobs) {
    subs.emplace_back(json::object{{"job_id", std::to_string(sub.id)},
                                   {"outcome", sub.success ? "success" : "failure"}});
  }
  o["subjobs"] = std::move(subs);
  o["duration_s"] = static_cast<double>((job.start_delay + job.duration).count()) / 1000.0;
  if (job.not_found.count() > 0)
    o["not_found_s"] = static_cast<double>(job.not_found.count()) / 1000.0;
  if (!job.project_id.empty()) o["project_id"] = job.project_id;
  return o;
}

}  // namespace jobwatch::sim
