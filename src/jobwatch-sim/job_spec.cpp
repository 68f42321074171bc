#include "job_spec.hpp"

#include <algorithm>
#include <boost/json/array.hpp>
#include <cmath>

#include "script_spec.hpp"

namespace jobwatch::sim {

namespace json = boost::json;

namespace {

constexpr double max_seconds = 366.0 * 24 * 3600;  // keeps every offset far from overflow
constexpr int max_subjobs = 1000;

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
      auto scripted = parse_script_field(key, value, spec.script, where);
      if (auto* err = std::get_if<SpecError>(&scripted)) return *err;
      if (!std::get<bool>(scripted))
        return SpecError{where + ": unknown field \"" + std::string(key) + "\""};
    }
  }
  return spec;
}

// A timeline decides the outcome; a named outcome must agree with it.
std::optional<SpecError> check_outcome(const Script& script, std::optional<bool> named,
                                       const std::string& where) {
  if (script.timeline.empty() || !named) return std::nullopt;
  const auto ends = timeline_outcome(script.timeline);
  if (ends == named) return std::nullopt;
  const std::string prefix = where.empty() ? "" : where + ".";
  return SpecError{prefix + "outcome: contradicts the timeline, which " +
                   (ends ? std::string("ends in ") + (*ends ? "success" : "failure")
                         : std::string("never reaches a terminal status"))};
}

std::optional<SpecError> check_against_api(const JobSpec& spec) {
  if (auto err = check_script(spec.script, spec.api, false, "")) return err;
  if (auto err = check_outcome(spec.script,
                               spec.outcome_given ? std::optional(spec.success) : std::nullopt, ""))
    return err;
  if (!spec.subjobs) return std::nullopt;
  for (std::size_t i = 0; i < spec.subjobs->size(); ++i) {
    const SubJobSpec& sub = (*spec.subjobs)[i];
    const std::string where = "subjobs[" + std::to_string(i) + "]";
    if (auto err = check_script(sub.script, spec.api, true, where)) return err;
    if (auto err = check_outcome(sub.script, sub.success, where)) return err;
  }
  return std::nullopt;
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
      spec.outcome_given = true;
    } else if (key == "api") {
      const auto api = value.is_string() ? parse_api(value.get_string()) : std::nullopt;
      if (!api) return SpecError{"api: must be \"app-v1\", \"app-v2\" or \"desktop-v2\""};
      spec.api = *api;
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
      auto scripted = parse_script_field(key, value, spec.script, "");
      if (auto* err = std::get_if<SpecError>(&scripted)) return *err;
      if (!std::get<bool>(scripted)) return SpecError{"unknown field \"" + std::string(key) + "\""};
    }
  }
  if (auto err = check_against_api(spec)) return *err;
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

}  // namespace jobwatch::sim
