#include "trace.hpp"

#include <boost/json/parse.hpp>
#include <cmath>

namespace jobwatch::bench {
namespace {

namespace json = boost::json;

std::optional<double> seconds_field(const json::object& o, std::string_view name) {
  const json::value* v = o.if_contains(name);
  if (!v || !v->is_number()) return std::nullopt;
  const double s = v->to_number<double>();
  if (!std::isfinite(s)) return std::nullopt;
  return s;
}

std::optional<bool> outcome_field(const json::object& o) {
  const json::value* v = o.if_contains("outcome");
  if (!v || !v->is_string()) return std::nullopt;
  if (v->get_string() == "succeeded") return true;
  if (v->get_string() == "failed") return false;
  return std::nullopt;
}

std::variant<TraceJob, std::string> parse_job(std::string_view line) {
  boost::system::error_code ec;
  const json::value doc = json::parse(line, ec);
  if (ec || !doc.is_object()) return std::string("not a JSON object");
  const json::object& o = doc.get_object();
  TraceJob job;
  const json::value* project = o.if_contains("project_id");
  if (!project || !project->is_string() || project->get_string().empty())
    return std::string("project_id: want a non-empty string");
  job.project_id = std::string(project->get_string());
  const json::value* api = o.if_contains("api");
  if (!api || !api->is_string()) return std::string("api: want app-v1, app-v2 or desktop-v2");
  auto parsed_api = model::api_from_name(api->get_string());
  if (!parsed_api) return std::string("api: want app-v1, app-v2 or desktop-v2");
  job.api = *parsed_api;
  if (const json::value* type = o.if_contains("job_type"); type && type->is_string())
    job.job_type = std::string(type->get_string());
  auto submitted = seconds_field(o, "submitted_at");
  auto begin = seconds_field(o, "begin_at");
  auto end = seconds_field(o, "end_at");
  auto outcome = outcome_field(o);
  if (!submitted || !begin || !end)
    return std::string("submitted_at, begin_at, end_at: want numbers");
  if (*end < *begin) return std::string("end_at is before begin_at");
  if (*end < *submitted) return std::string("end_at is before submitted_at");
  if (!outcome) return std::string("outcome: want \"succeeded\" or \"failed\"");
  job.submitted_at = *submitted;
  job.begin_at = *begin;
  job.end_at = *end;
  job.succeeded = *outcome;
  if (const json::value* expected = o.if_contains("expected_end_at");
      expected && !expected->is_null()) {
    job.expected_end_at = seconds_field(o, "expected_end_at");
    if (!job.expected_end_at) return std::string("expected_end_at: want a number or null");
  }
  if (const json::value* subs = o.if_contains("subjobs"); subs && !subs->is_null()) {
    if (!subs->is_array()) return std::string("subjobs: want an array");
    for (const json::value& s : subs->get_array()) {
      if (!s.is_object()) return std::string("subjobs: want objects");
      auto sub_end = seconds_field(s.get_object(), "end_at");
      auto sub_outcome = outcome_field(s.get_object());
      if (!sub_end || !sub_outcome) return std::string("subjobs: want end_at and outcome");
      if (*sub_end > *end) return std::string("a subjob ends after its job");
      job.subjobs.push_back({*sub_end, *sub_outcome});
    }
  }
  return job;
}

}  // namespace

std::variant<std::vector<TraceJob>, TraceError> read_trace(std::istream& in) {
  std::vector<TraceJob> jobs;
  std::string line;
  std::size_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    auto job = parse_job(line);
    if (auto* error = std::get_if<std::string>(&job)) return TraceError{number, *error};
    jobs.push_back(std::move(std::get<TraceJob>(job)));
  }
  return jobs;
}

std::string key_of(const TraceJob& job) {
  return std::string(model::api_name(job.api)) + " " + job.project_id + " " + job.job_type;
}

}  // namespace jobwatch::bench
