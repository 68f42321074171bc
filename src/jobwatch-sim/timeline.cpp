#include "timeline.hpp"

#include <algorithm>
#include <boost/json/array.hpp>
#include <cstdio>

namespace jobwatch::sim {

namespace json = boost::json;

namespace {

constexpr std::string_view failure_code = "APPSTREAM.1002";
constexpr std::string_view failure_message =
    "Failed to create the Application Streaming server: insufficient resources in the AZ";
constexpr std::string_view subjob_failure_message =
    "Failed to create the server: insufficient resources in the AZ";

Millis handle_start(const Job& job) {
  return job.start_delay + std::min(job.initializing, job.duration);
}

Millis elapsed(const Job& job, SimTime now) {
  return std::chrono::duration_cast<Millis>(now - job.created);
}

std::string id_string(std::uint64_t id) {
  return std::to_string(id);
}

// A resource ID shaped like the console's UUIDs, derived from the subjob ID
// so repeated polls show the same entity.
std::string resource_id_for(std::uint64_t id) {
  std::uint64_t h = id * 0x9E3779B97F4A7C15ull;
  h ^= h >> 29;
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08llx-%04llx-4%03llx-8%03llx-%012llx",
                static_cast<unsigned long long>(h >> 32),
                static_cast<unsigned long long>((h >> 16) & 0xffff),
                static_cast<unsigned long long>(h & 0xfff),
                static_cast<unsigned long long>((id >> 12) & 0xfff),
                static_cast<unsigned long long>(id & 0xffffffffffffull));
  return buf;
}

json::object render_entity(const Job& job, const SubJob& sub) {
  json::object server;
  server["relative_resource_id"] = resource_id_for(sub.id ^ 0x5a5a5a5aull);
  server["relative_resource_name"] = "as-host-" + id_string(sub.id % 1000000);
  server["relative_type"] = 0;
  server["relative_cloud_service_type"] = "hws.service.type.ec2";
  server["relative_resource_type"] = "hws.resource.type.vm";
  server["extend_params"] = "{}";

  json::object spec_type;
  spec_type["shareable"] = false;

  json::object entity;
  entity["resource_id"] = resource_id_for(sub.id);
  entity["resource_name"] = "appstream-server-" + id_string(sub.id % 1000000);
  entity["cloud_service_type"] = "hws.service.type.vdi";
  entity["resource_type"] = "hws.resource.type.workspace.appstream";
  entity["resource_spec_code"] = "workspace.appstream.general.xlarge.2";
  entity["spec_type"] = std::move(spec_type);
  entity["spec_size"] = 80.0;
  entity["measure"] = 17;
  entity["processed_time"] = format_time(job.created);
  entity["is_main_resource"] = 1;
  entity["main_resources"] = json::array{std::move(server)};
  entity["extend_params"] =
      "{\"expireTime\":\"" + format_time(job.created + std::chrono::days{30}) + "\"}";
  return entity;
}

json::object render_subjob(const Job& job, const SubJob& sub, SimTime now) {
  const int status = subjob_status_at(job, sub, now);
  const Millis sub_end = job.start_delay + sub.end;
  json::object o;
  o["job_id"] = id_string(sub.id);
  o["job_type"] = 2;
  o["job_status"] = status;
  o["entities"] = json::array{render_entity(job, sub)};
  if (status != status_initializing) {
    o["begin_time"] = format_time(job.created + std::min(handle_start(job), sub_end));
  }
  if (status == status_failed || status == status_successful) {
    o["end_time"] = format_time(job.created + sub_end);
  }
  if (status == status_failed) {
    o["execute_code"] = failure_code;
    o["execute_message"] = subjob_failure_message;
  }
  return o;
}

}  // namespace

std::string format_time(SimTime t) {
  const auto day = std::chrono::floor<std::chrono::days>(t);
  const std::chrono::year_month_day ymd{day};
  const std::chrono::hh_mm_ss hms{std::chrono::floor<std::chrono::seconds>(t - day)};
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  return buf;
}

bool is_visible(const Job& job, SimTime now) {
  return !job.ghost && elapsed(job, now) >= job.not_found;
}

int job_status_at(const Job& job, SimTime now) {
  const Millis e = elapsed(job, now);
  if (e < handle_start(job)) return status_initializing;
  if (e < job.start_delay + job.duration) return status_handling;
  return job.success ? status_successful : status_failed;
}

int subjob_status_at(const Job& job, const SubJob& sub, SimTime now) {
  const Millis e = elapsed(job, now);
  if (e >= job.start_delay + sub.end) return sub.success ? status_successful : status_failed;
  if (e < handle_start(job)) return status_initializing;
  return status_handling;
}

std::optional<json::object> render_job_detail(const Job& job, SimTime now) {
  if (!is_visible(job, now)) return std::nullopt;
  const int status = job_status_at(job, now);
  json::array subs;
  subs.reserve(job.subjobs.size());
  for (const SubJob& sub : job.subjobs) subs.emplace_back(render_subjob(job, sub, now));

  json::object o;
  o["job_id"] = job.job_id;
  o["job_type"] = 1;
  o["job_status"] = status;
  o["sub_jobs"] = std::move(subs);
  if (status != status_initializing) o["begin_time"] = format_time(job.created + handle_start(job));
  if (status == status_failed || status == status_successful) {
    o["end_time"] = format_time(job.created + job.start_delay + job.duration);
  }
  if (job.expected_end) o["expected_end_time"] = format_time(job.created + *job.expected_end);
  // The real API sends empty strings until there is something to report.
  o["execute_code"] = status == status_failed ? failure_code : "";
  o["execute_message"] = status == status_failed ? failure_message : "";
  return o;
}

IdGenerator::IdGenerator(std::uint64_t seed) : state_(seed ^ 0x2545F4914F6CDD1Dull) {
  // Start somewhere in the 18-digit range, leaving ample room above.
  last_ = 100000000000000000ull + (next() % 400000000000000000ull);
}

std::uint64_t IdGenerator::next() {
  // splitmix64: decides the step, so IDs look irregular but never repeat.
  std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  if (last_ == 0) return z;  // only while the constructor picks the start
  last_ += 1 + z % 4096;
  return last_;
}

}  // namespace jobwatch::sim
