// From a parsed spec to a Job, and back to what a watcher should see.
#include <algorithm>
#include <boost/json/array.hpp>
#include <cmath>

#include "job_spec.hpp"
#include "render.hpp"
#include "script_spec.hpp"

namespace jobwatch::sim {

namespace json = boost::json;

namespace {

Millis to_millis(double seconds) {
  return Millis{std::llround(seconds * 1000.0)};
}

std::shared_ptr<const Script> share(const Script& script) {
  if (script_empty(script)) return nullptr;
  return std::make_shared<const Script>(script);
}

bool has_timeline(const std::shared_ptr<const Script>& s) {
  return s && !s->timeline.empty();
}

std::string_view outcome_of(const json::value& final_status) {
  switch (classify_status(final_status)) {
    case Phase::succeeded:
      return "success";
    case Phase::failed:
      return "failure";
    default:
      return "pending";
  }
}

// Unscripted subjobs of a scripted job begin and end with it (unless they
// name their own duration_s), so its subjobs never outlive it.
void align_with_timeline(Job& job) {
  const StatusTimeline& tl = job.script->timeline;
  const Millis end = timeline_end(tl);
  Millis begin = end;
  for (const StatusPoint& p : tl) {
    if (classify_status(p.status) != Phase::initial) {
      begin = std::min(p.at, end);
      break;
    }
  }
  job.duration = std::max(Millis{0}, end - job.start_delay);
  job.initializing = std::max(Millis{0}, begin - job.start_delay);
}

double seconds(Millis ms) {
  return static_cast<double>(ms.count()) / 1000.0;
}

}  // namespace

Job build_job(const JobSpec& spec, SimTime now, IdGenerator& ids) {
  Job job;
  job.job_id = spec.job_id ? *spec.job_id : std::to_string(ids.next());
  job.project_id = spec.project_id;
  job.api = spec.api;
  job.created = now;
  job.start_delay = to_millis(spec.start_delay_s);
  job.initializing = to_millis(spec.initializing_s);
  job.duration = to_millis(spec.duration_s);
  job.not_found = to_millis(spec.not_found_s);
  job.ghost = spec.ghost;
  job.script = share(spec.script);
  if (has_timeline(job.script)) align_with_timeline(job);
  // A scripted job's outcome is where its timeline ends; one that never
  // ends fails no subjob on its behalf.
  std::optional<bool> outcome = spec.success;
  if (has_timeline(job.script)) outcome = timeline_outcome(job.script->timeline);
  job.success = outcome.value_or(false);
  const bool fails = outcome == false;
  switch (spec.estimate) {
    case JobSpec::Estimate::actual_end:
      job.expected_end = job_end_offset(job);
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
      sub.success = i < n || !fails;
      job.subjobs.push_back(std::move(sub));
    }
  } else if (spec.subjobs) {
    bool any_outcome = false;
    for (const SubJobSpec& s : *spec.subjobs) {
      SubJob sub;
      sub.id = ids.next();
      sub.script = share(s.script);
      if (has_timeline(sub.script)) {
        sub.end = timeline_end(sub.script->timeline);
        sub.success = timeline_outcome(sub.script->timeline).value_or(false);
        any_outcome = true;
      } else {
        sub.end = s.duration_s ? to_millis(*s.duration_s) : job.duration;
        sub.success = s.success.value_or(true);
        any_outcome = any_outcome || s.success.has_value();
      }
      job.subjobs.push_back(std::move(sub));
    }
    // Only an unscripted subjob can take the blame.
    if (fails && !any_outcome && !job.subjobs.empty()) job.subjobs.back().success = false;
  }
  return job;
}

std::string_view expected_outcome(const Job& job) {
  if (job.ghost) return "ghost";
  return outcome_of(final_job_status(job));
}

json::object describe_expected(const Job& job) {
  json::object o;
  o["outcome"] = expected_outcome(job);
  json::array subs;
  subs.reserve(job.subjobs.size());
  for (const SubJob& sub : job.subjobs) {
    json::value final_status = final_subjob_status(job, sub);
    json::object d{{"job_id", std::to_string(sub.id)},
                   {"outcome", outcome_of(final_status)},
                   {"job_type", subjob_type_of(job, sub)}};
    for (auto& [key, value] : subjob_error_fields(job, sub, classify_status(final_status)))
      d[key] = value;
    d["upstream_status"] = std::move(final_status);
    subs.emplace_back(std::move(d));
  }
  o["subjobs"] = std::move(subs);
  o["duration_s"] = seconds(job_end_offset(job));
  if (job.not_found.count() > 0) o["not_found_s"] = seconds(job.not_found);
  if (!job.project_id.empty()) o["project_id"] = job.project_id;
  o["api"] = api_name(job.api);
  o["job_type"] = job_type_of(job);
  json::value final_status = final_job_status(job);
  for (auto& [key, value] : job_error_fields(job, classify_status(final_status))) o[key] = value;
  o["upstream_status"] = std::move(final_status);
  return o;
}

}  // namespace jobwatch::sim
