#include "trace_api.hpp"

#include <boost/json/array.hpp>
#include <cmath>

#include "jobwatch/model/time.hpp"

namespace jobwatch::bench {
namespace {

namespace json = boost::json;
using model::JobStatus;

// Before begin_at a job is initializing, then handling until end_at.
JobStatus status_at(double begin_at, double end_at, bool succeeded, double now_s) {
  if (now_s >= end_at) return succeeded ? JobStatus::successful : JobStatus::failed;
  if (now_s >= begin_at) return JobStatus::handling;
  return JobStatus::initializing;
}

json::value upstream_status(model::Api api, JobStatus status) {
  if (api == model::Api::app_v1) return static_cast<std::int64_t>(status);
  switch (status) {
    case JobStatus::successful:
      return "SUCCESS";
    case JobStatus::failed:
      return "FAILED";
    case JobStatus::handling:
      return "RUNNING";
    default:
      return "WAITING";
  }
}

}  // namespace

TraceApi::TraceApi(watch::VirtualLoop& loop, const std::vector<TraceJob>& jobs,
                   model::WallTime origin, std::chrono::milliseconds latency)
    : loop_(loop), jobs_(jobs), origin_(origin), latency_(latency), polls_(jobs.size()) {
  for (std::size_t i = 0; i < jobs.size(); ++i) index_of_.emplace(job_id_of(i), i);
}

std::string TraceApi::job_id_of(std::size_t index) {
  return "trace-job-" + std::to_string(index);
}

model::WallTime TraceApi::at(double s) const {
  return origin_ + std::chrono::milliseconds(std::llround(s * 1000));
}

double TraceApi::seconds_of(model::WallTime t) const {
  return std::chrono::duration<double>(t - origin_).count();
}

void TraceApi::fetch(model::Api api, const std::string& project_id, const std::string& job_id,
                     Callback done) {
  ++calls_;
  const double now_s = seconds_of(loop_.wall_now());
  auto found = index_of_.find(job_id);
  upstream::Answer answer;
  if (found == index_of_.end() || jobs_[found->second].api != api ||
      jobs_[found->second].project_id != project_id) {
    ++stray_calls_;
    answer.kind = upstream::AnswerKind::not_found;
    answer.http_status = 404;
  } else {
    polls_[found->second].push_back(now_s);
    answer = answer_for(jobs_[found->second], now_s);
  }
  loop_.at(loop_.now() + latency_, [done = std::move(done), answer = std::move(answer)]() mutable {
    done(std::move(answer));
  });
}

upstream::Answer TraceApi::answer_for(const TraceJob& job, double now_s) const {
  const bool whole_seconds = job.api == model::Api::app_v1;
  const auto time_text = [&](double s) { return model::format_rfc3339(at(s), !whole_seconds); };
  model::JobSnapshot snap;
  snap.id = "trace";
  snap.status = status_at(job.begin_at, job.end_at, job.succeeded, now_s);
  snap.upstream_status = upstream_status(job.api, snap.status);
  snap.job_type = job.job_type.empty() ? json::value(nullptr) : json::value(job.job_type);
  if (now_s >= job.begin_at) snap.begin_time = time_text(job.begin_at);
  if (now_s >= job.end_at) snap.end_time = time_text(job.end_at);
  // Only app-v1 sends an estimate (SPEC §1).
  if (job.expected_end_at && job.api == model::Api::app_v1)
    snap.expected_end_time = time_text(*job.expected_end_at);
  json::array subs;
  for (std::size_t i = 0; i < job.subjobs.size(); ++i) {
    const TraceSubjob& sub = job.subjobs[i];
    model::SubjobSnapshot s;
    s.id = "sub-" + std::to_string(i);
    s.status = status_at(job.begin_at, sub.end_at, sub.succeeded, now_s);
    s.upstream_status = upstream_status(job.api, s.status);
    if (now_s >= job.begin_at) s.begin_time = snap.begin_time;
    if (now_s >= sub.end_at) s.end_time = time_text(sub.end_at);
    s.raw = {{"id", s.id}, {"status", s.upstream_status}};
    subs.push_back(s.raw);
    snap.subjobs.push_back(std::move(s));
  }
  snap.raw = {{"status", snap.upstream_status}, {"job_type", snap.job_type}};
  if (snap.begin_time) snap.raw["begin_time"] = *snap.begin_time;
  if (snap.end_time) snap.raw["end_time"] = *snap.end_time;
  if (snap.expected_end_time) snap.raw["expected_end_time"] = *snap.expected_end_time;
  if (!subs.empty()) snap.raw["sub_jobs"] = std::move(subs);

  upstream::Answer answer;
  answer.kind = upstream::AnswerKind::ok;
  answer.http_status = 200;
  answer.job = std::move(snap);
  return answer;
}

}  // namespace jobwatch::bench
