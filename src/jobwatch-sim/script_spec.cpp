#include "script_spec.hpp"

#include <boost/json/array.hpp>
#include <cmath>

namespace jobwatch::sim {

namespace json = boost::json;

namespace {

constexpr double max_seconds = 366.0 * 24 * 3600;
constexpr std::size_t max_entries = 1000;
constexpr std::size_t max_status_length = 64;
constexpr std::size_t max_text_length = 1024;

std::string at_key(const std::string& where, std::string_view key) {
  return where.empty() ? std::string(key) : where + "." + std::string(key);
}

std::variant<StatusPoint, SpecError> parse_point(const json::value& v, const std::string& where) {
  const json::object* obj = v.if_object();
  if (!obj) return SpecError{where + ": must be {\"at_s\": seconds, \"status\": value}"};
  StatusPoint point;
  bool have_at = false;
  bool have_status = false;
  for (const auto& [key, value] : *obj) {
    if (key == "at_s") {
      auto n = as_number(value);
      if (!n || *n < 0 || *n > max_seconds)
        return SpecError{where + ".at_s: must be a number of seconds >= 0"};
      point.at = Millis{std::llround(*n * 1000.0)};
      have_at = true;
    } else if (key == "status") {
      // Any string or integer: tests use undocumented values on purpose.
      if (value.is_string() && value.get_string().size() <= max_status_length) {
        point.status = value.get_string();
      } else if (value.is_int64()) {
        point.status = value.get_int64();
      } else {
        return SpecError{where + ".status: must be a string (at most 64 characters) or an integer"};
      }
      have_status = true;
    } else {
      return SpecError{where + ": unknown field \"" + std::string(key) + "\""};
    }
  }
  if (!have_at) return SpecError{where + ".at_s: required"};
  if (!have_status) return SpecError{where + ".status: required"};
  return point;
}

std::variant<StatusTimeline, SpecError> parse_timeline(const json::value& v,
                                                       const std::string& where) {
  const json::array* arr = v.if_array();
  if (!arr || arr->empty() || arr->size() > max_entries)
    return SpecError{where + ": must be an array of 1-1000 {\"at_s\", \"status\"} entries"};
  StatusTimeline timeline;
  timeline.reserve(arr->size());
  for (std::size_t i = 0; i < arr->size(); ++i) {
    auto point = parse_point((*arr)[i], where + "[" + std::to_string(i) + "]");
    if (auto* err = std::get_if<SpecError>(&point)) return *err;
    if (!timeline.empty() && std::get<StatusPoint>(point).at < timeline.back().at)
      return SpecError{where + "[" + std::to_string(i) + "].at_s: must not be before the entry " +
                       "above it"};
    timeline.push_back(std::move(std::get<StatusPoint>(point)));
  }
  return timeline;
}

// The keys each API allows beyond the timeline and job_type.
bool key_allowed(std::string_view key, Api api, bool subjob) {
  if (key == "error_code") return subjob;
  if (key == "error_message") return subjob && api != Api::desktop_v2;
  if (key == "message") return subjob && api == Api::desktop_v2;
  if (key == "fail_reason") return api == Api::desktop_v2;
  if (key == "job_error_code") return !subjob && api == Api::desktop_v2;
  return false;
}

std::string allowed_hint(std::string_view key) {
  if (key == "error_code") return "subjobs only";
  if (key == "error_message") return "app-v1/app-v2 subjobs only";
  if (key == "message") return "desktop-v2 subjobs only";
  if (key == "fail_reason") return "desktop-v2 jobs and subjobs only";
  return "desktop-v2 jobs only";
}

}  // namespace

std::variant<bool, SpecError> parse_script_field(std::string_view key, const json::value& value,
                                                 Script& script, const std::string& where) {
  const std::string name = at_key(where, key);
  if (key == "timeline") {
    auto timeline = parse_timeline(value, name);
    if (auto* err = std::get_if<SpecError>(&timeline)) return *err;
    script.timeline = std::move(std::get<StatusTimeline>(timeline));
    return true;
  }
  if (key == "job_type") {
    if (value.is_int64() || (value.is_string() && !value.get_string().empty() &&
                             value.get_string().size() <= max_status_length)) {
      script.job_type = value;
      return true;
    }
    return SpecError{name + ": must be an integer (app-v1) or a string of 1-64 characters"};
  }
  std::optional<std::string>* text = key == "error_code"       ? &script.error_code
                                     : key == "error_message"  ? &script.error_message
                                     : key == "fail_reason"    ? &script.fail_reason
                                     : key == "message"        ? &script.message
                                     : key == "job_error_code" ? &script.job_error_code
                                                               : nullptr;
  if (!text) return false;
  if (!value.is_string() || value.get_string().size() > max_text_length)
    return SpecError{name + ": must be a string of at most 1024 characters"};
  *text = std::string(value.get_string());
  return true;
}

std::optional<SpecError> check_script(const Script& script, Api api, bool subjob,
                                      const std::string& where) {
  const bool v1 = api == Api::app_v1;
  for (std::size_t i = 0; i < script.timeline.size(); ++i) {
    if (script.timeline[i].status.is_int64() != v1) {
      return SpecError{at_key(where, "timeline") + "[" + std::to_string(i) + "].status: must be " +
                       (v1 ? "an integer" : "a string") + " for " + std::string(api_name(api)) +
                       " jobs"};
    }
  }
  if (!script.job_type.is_null() && script.job_type.is_int64() != v1) {
    return SpecError{at_key(where, "job_type") + ": must be " + (v1 ? "an integer" : "a string") +
                     " for " + std::string(api_name(api)) + " jobs"};
  }
  const std::pair<std::string_view, const std::optional<std::string>*> texts[] = {
      {"error_code", &script.error_code},
      {"error_message", &script.error_message},
      {"fail_reason", &script.fail_reason},
      {"message", &script.message},
      {"job_error_code", &script.job_error_code}};
  for (const auto& [key, value] : texts) {
    if (*value && !key_allowed(key, api, subjob)) {
      return SpecError{at_key(where, key) + ": not sent by " + std::string(api_name(api)) + " (" +
                       allowed_hint(key) + ")"};
    }
  }
  return std::nullopt;
}

std::optional<bool> timeline_outcome(const StatusTimeline& timeline) {
  if (timeline.empty()) return std::nullopt;
  const Phase p = classify_status(timeline.back().status);
  if (!is_terminal(p)) return std::nullopt;
  return p == Phase::succeeded;
}

bool script_empty(const Script& s) {
  return s.timeline.empty() && s.job_type.is_null() && !s.error_code && !s.error_message &&
         !s.fail_reason && !s.message && !s.job_error_code;
}

}  // namespace jobwatch::sim
