// The v2 bodies (no wrapper object, string statuses, millisecond times, no
// expected_end_time): app-v2 ShowJobDetail and desktop-v2 Workspace ShowJob.
#include <algorithm>
#include <boost/json/array.hpp>

#include "render.hpp"

namespace jobwatch::sim {

namespace json = boost::json;

namespace {

// Job types that replace a server, whose resource info names the old one.
bool replaces_resource(const json::value& job_type) {
  const json::string* s = job_type.if_string();
  return s && (*s == "CHANGE_SERVER_IMAGE" || *s == "REINSTALL_OS" || *s == "MIGRATE_SERVER");
}

void put_times(json::object& o, const Job& job, const StatusNow& s) {
  if (s.begin) o["begin_time"] = format_time_ms(job.created + *s.begin);
  if (s.end) o["end_time"] = format_time_ms(job.created + *s.end);
}

json::object app_subjob(const Job& job, const SubJob& sub, SimTime now,
                        std::string_view project_id) {
  const StatusNow s = subjob_status_now(job, sub, now);
  json::value job_type = subjob_type_of(job, sub);
  json::object info = render_resource_info(job, sub, true);
  if (replaces_resource(job_type)) {
    info["old_resource_id"] = resource_id_for(sub.id ^ 0x0f0f0f0full);
    info["old_cloud_service_type"] = info["cloud_service_type"];
    info["old_resource_type"] = info["resource_type"];
  }
  json::object o;
  o["id"] = std::to_string(sub.id);
  o["job_type"] = std::move(job_type);
  o["job_resource_info"] = std::move(info);
  put_times(o, job, s);
  o["status"] = s.status;
  for (auto& [key, value] : subjob_error_fields(job, sub, s.phase)) o[key] = value;
  o["project_id"] = project_id;
  o["job_id"] = job.job_id;
  return o;
}

// Percent done: rises linearly from the begin to the expected end, held
// below 100 until the subjob is terminal.
int progress(const Job& job, const SubJob& sub, const StatusNow& s, SimTime now) {
  if (is_terminal(s.phase)) return 100;
  if (!s.begin) return 0;
  const Millis e = std::chrono::duration_cast<Millis>(now - job.created);
  const Millis span = subjob_end_offset(job, sub) - *s.begin;
  if (span.count() <= 0) return 99;
  const long long pct = 100 * (e - *s.begin).count() / span.count();
  return static_cast<int>(std::clamp(pct, 0LL, 99LL));
}

json::object desktop_entities(const SubJob& sub) {
  const std::uint64_t n = sub.id % 1000000;
  json::object e;
  e["desktop_id"] = resource_id_for(sub.id);
  e["product_id"] = "workspace.x86.general.xlarge2";
  e["user_name"] = "user" + std::to_string(n);
  e["desktop_name"] = "desktop-" + std::to_string(n);
  e["ip_address"] = "10." + std::to_string((sub.id >> 16) % 256) + "." +
                    std::to_string((sub.id >> 8) % 256) + "." + std::to_string(1 + sub.id % 254);
  return e;
}

json::object desktop_subjob(const Job& job, const SubJob& sub, SimTime now) {
  const StatusNow s = subjob_status_now(job, sub, now);
  json::object o;
  o["id"] = std::to_string(sub.id);
  o["job_type"] = subjob_type_of(job, sub);
  o["entities"] = desktop_entities(sub);
  put_times(o, job, s);
  o["status"] = s.status;
  for (auto& [key, value] : subjob_error_fields(job, sub, s.phase)) o[key] = value;
  o["job_id"] = job.job_id;
  o["process"] = progress(job, sub, s, now);
  return o;
}

}  // namespace

json::object render_app_v2(const Job& job, SimTime now, std::string_view project_id) {
  const StatusNow s = job_status_now(job, now);
  const std::string_view project = job.project_id.empty() ? project_id : job.project_id;
  json::array subs;
  subs.reserve(job.subjobs.size());
  for (const SubJob& sub : job.subjobs) subs.emplace_back(app_subjob(job, sub, now, project));

  json::object o;
  o["id"] = job.job_id;
  o["job_type"] = job_type_of(job);
  put_times(o, job, s);
  o["status"] = s.status;
  o["sub_jobs_total"] = job.subjobs.size();
  o["sub_jobs"] = std::move(subs);
  return o;
}

json::object render_desktop_v2(const Job& job, SimTime now) {
  const StatusNow s = job_status_now(job, now);
  json::array subs;
  subs.reserve(job.subjobs.size());
  for (const SubJob& sub : job.subjobs) subs.emplace_back(desktop_subjob(job, sub, now));

  json::object o;
  o["id"] = job.job_id;
  o["job_type"] = job_type_of(job);
  put_times(o, job, s);
  o["status"] = s.status;
  for (auto& [key, value] : job_error_fields(job, s.phase)) o[key] = value;
  o["sub_jobs_total"] = job.subjobs.size();
  o["sub_jobs"] = std::move(subs);
  return o;
}

}  // namespace jobwatch::sim
