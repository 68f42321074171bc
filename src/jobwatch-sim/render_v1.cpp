// app-v1 (GET /v1/{project_id}/job/{job_id}): the seed's JobDetail, integer
// job_status, whole-second times.
#include <boost/json/array.hpp>

#include "render.hpp"

namespace jobwatch::sim {

namespace json = boost::json;

namespace {

json::object render_subjob(const Job& job, const SubJob& sub, SimTime now) {
  const StatusNow s = subjob_status_now(job, sub, now);
  json::object o;
  o["job_id"] = std::to_string(sub.id);
  o["job_type"] = subjob_type_of(job, sub);
  o["job_status"] = s.status;
  o["entities"] = json::array{render_resource_info(job, sub, false)};
  if (s.begin) o["begin_time"] = format_time(job.created + *s.begin);
  if (s.end) o["end_time"] = format_time(job.created + *s.end);
  for (auto& [key, value] : subjob_error_fields(job, sub, s.phase)) o[key] = value;
  return o;
}

}  // namespace

json::object render_v1_detail(const Job& job, SimTime now) {
  const StatusNow s = job_status_now(job, now);
  json::array subs;
  subs.reserve(job.subjobs.size());
  for (const SubJob& sub : job.subjobs) subs.emplace_back(render_subjob(job, sub, now));

  json::object o;
  o["job_id"] = job.job_id;
  o["job_type"] = job_type_of(job);
  o["job_status"] = s.status;
  o["sub_jobs"] = std::move(subs);
  if (s.begin) o["begin_time"] = format_time(job.created + *s.begin);
  if (s.end) o["end_time"] = format_time(job.created + *s.end);
  if (job.expected_end) o["expected_end_time"] = format_time(job.created + *job.expected_end);
  for (auto& [key, value] : job_error_fields(job, s.phase)) o[key] = value;
  return o;
}

}  // namespace jobwatch::sim
