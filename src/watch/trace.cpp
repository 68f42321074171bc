#include "jobwatch/watch/trace.hpp"

#include <algorithm>
#include <boost/json/object.hpp>

namespace jobwatch::watch {
namespace {

std::optional<model::WallTime> time_of(const std::optional<std::string>& text) {
  if (!text) return std::nullopt;
  return model::parse_rfc3339(*text);
}

std::string_view outcome_word(bool succeeded) {
  return succeeded ? "succeeded" : "failed";
}

}  // namespace

std::optional<TraceJob> trace_job(const Watch& watch, std::string_view last_answer,
                                  std::chrono::milliseconds api_clock_offset) {
  if (watch.status != WatchStatus::succeeded && watch.status != WatchStatus::failed)
    return std::nullopt;
  // The last answer through its API's mapping, so that each API's subjob
  // statuses mean what they mean everywhere else (SPEC §1.3).
  auto parsed = model::parse_job_object(watch.api, last_answer);
  const auto* job = std::get_if<model::JobSnapshot>(&parsed);
  if (!job) return std::nullopt;
  const auto begin = time_of(job->begin_time);
  const auto end = time_of(job->end_time);
  if (!begin || !end || *end < *begin) return std::nullopt;

  TraceJob out;
  out.project_id = watch.job.project_id;
  out.api = watch.api;
  out.job_type = watch.job_type;
  out.submitted_at = watch.created_at + api_clock_offset;
  out.begin_at = *begin;
  out.expected_end_at = time_of(job->expected_end_time);
  out.end_at = *end;
  out.succeeded = watch.status == WatchStatus::succeeded;
  for (const model::SubjobSnapshot& sub : job->subjobs) {
    const auto sub_end = time_of(sub.end_time);
    if (!model::is_terminal(sub.status) || !sub_end) continue;
    out.subjobs.push_back({*sub_end, sub.status == model::JobStatus::successful});
  }
  return out;
}

boost::json::array trace_json(std::vector<TraceJob> jobs) {
  std::stable_sort(jobs.begin(), jobs.end(), [](const TraceJob& a, const TraceJob& b) {
    return a.submitted_at < b.submitted_at;
  });
  boost::json::array out;
  if (jobs.empty()) return out;
  model::WallTime start = jobs.front().submitted_at;
  for (const TraceJob& job : jobs) start = std::min({start, job.submitted_at, job.begin_at});
  const auto at = [start](model::WallTime t) {
    return std::chrono::duration<double>(t - start).count();
  };
  out.reserve(jobs.size());
  for (const TraceJob& job : jobs) {
    boost::json::object line{
        {"project_id", job.project_id}, {"api", model::api_name(job.api)},
        {"job_type", job.job_type},     {"submitted_at", at(job.submitted_at)},
        {"begin_at", at(job.begin_at)}, {"expected_end_at", nullptr},
        {"end_at", at(job.end_at)},     {"outcome", outcome_word(job.succeeded)}};
    if (job.expected_end_at) line["expected_end_at"] = at(*job.expected_end_at);
    if (!job.subjobs.empty()) {
      boost::json::array subjobs;
      for (const TraceSubjob& sub : job.subjobs)
        subjobs.push_back(boost::json::object{{"end_at", at(sub.end_at)},
                                              {"outcome", outcome_word(sub.succeeded)}});
      line["subjobs"] = std::move(subjobs);
    }
    out.push_back(std::move(line));
  }
  return out;
}

}  // namespace jobwatch::watch
