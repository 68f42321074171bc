#include <boost/json/array.hpp>
#include <cstdio>

#include "render.hpp"

namespace jobwatch::sim {

namespace json = boost::json;

namespace {

// Failure texts when the spec names none, shaped like the real services'.
constexpr std::string_view v1_failure_code = "APPSTREAM.1002";
constexpr std::string_view v1_job_failure_message =
    "Failed to create the Application Streaming server: insufficient resources in the AZ";
constexpr std::string_view v1_subjob_failure_message =
    "Failed to create the server: insufficient resources in the AZ";
constexpr std::string_view v2_failure_code = "WKS.00010001";
constexpr std::string_view app_v2_failure_message =
    "server creation failed: insufficient resources in the AZ";
constexpr std::string_view desktop_failure_reason =
    "desktop creation failed: insufficient resources in the AZ";
constexpr std::string_view desktop_failure_message = "desktop creation failed";

const Script* script_of(const std::shared_ptr<const Script>& s) {
  return s ? s.get() : nullptr;
}

// The spec's text when it names one, else the default; "" before a failure.
json::value error_text(bool failed, const std::optional<std::string>* override_text,
                       std::string_view fallback) {
  if (!failed) return json::value("");
  if (override_text && *override_text) return json::value(**override_text);
  return json::value(fallback);
}

}  // namespace

json::value job_type_of(const Job& job) {
  if (const Script* s = script_of(job.script); s && !s->job_type.is_null()) return s->job_type;
  switch (job.api) {
    case Api::app_v1:
      return 1;
    case Api::app_v2:
      return "CREATE_SERVER";
    case Api::desktop_v2:
      return "createDesktops";
  }
  return nullptr;
}

json::value subjob_type_of(const Job& job, const SubJob& sub) {
  if (const Script* s = script_of(sub.script); s && !s->job_type.is_null()) return s->job_type;
  switch (job.api) {
    case Api::app_v1:
      return 2;
    case Api::app_v2:
      return "CREATE_SERVER";
    case Api::desktop_v2:
      return "createDesktop";
  }
  return nullptr;
}

json::object job_error_fields(const Job& job, Phase phase) {
  const bool failed = phase == Phase::failed;
  const Script* s = script_of(job.script);
  json::object o;
  switch (job.api) {
    case Api::app_v1:
      // The real API sends empty strings until there is something to report.
      o["execute_code"] = failed ? v1_failure_code : "";
      o["execute_message"] = failed ? v1_job_failure_message : "";
      break;
    case Api::app_v2:
      break;  // ShowJobDetail reports errors per subjob only
    case Api::desktop_v2:
      o["job_error_code"] = error_text(failed, s ? &s->job_error_code : nullptr, v2_failure_code);
      o["fail_reason"] = error_text(failed, s ? &s->fail_reason : nullptr, desktop_failure_reason);
      break;
  }
  return o;
}

json::object subjob_error_fields(const Job& job, const SubJob& sub, Phase phase) {
  const bool failed = phase == Phase::failed;
  const Script* s = script_of(sub.script);
  json::object o;
  switch (job.api) {
    case Api::app_v1:
      if (failed) {
        o["execute_code"] = error_text(true, s ? &s->error_code : nullptr, v1_failure_code);
        o["execute_message"] =
            error_text(true, s ? &s->error_message : nullptr, v1_subjob_failure_message);
      }
      break;
    case Api::app_v2:
      o["error_code"] = error_text(failed, s ? &s->error_code : nullptr, v2_failure_code);
      o["error_message"] =
          error_text(failed, s ? &s->error_message : nullptr, app_v2_failure_message);
      break;
    case Api::desktop_v2:
      o["error_code"] = error_text(failed, s ? &s->error_code : nullptr, v2_failure_code);
      o["fail_reason"] = error_text(failed, s ? &s->fail_reason : nullptr, desktop_failure_reason);
      o["message"] = error_text(failed, s ? &s->message : nullptr, desktop_failure_message);
      break;
  }
  return o;
}

Millis subjob_end_offset(const Job& job, const SubJob& sub) {
  if (sub.script && !sub.script->timeline.empty()) return sub.end;
  return job.start_delay + sub.end;
}

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

json::object render_resource_info(const Job& job, const SubJob& sub, bool millis) {
  const auto fmt = millis ? format_time_ms : format_time;
  const std::string n = std::to_string(sub.id % 1000000);
  json::object server;
  server["relative_resource_id"] = resource_id_for(sub.id ^ 0x5a5a5a5aull);
  server["relative_resource_name"] = "as-host-" + n;
  server["relative_type"] = 0;
  server["relative_cloud_service_type"] = "hws.service.type.ec2";
  server["relative_resource_type"] = "hws.resource.type.vm";
  server["extend_params"] = "{}";

  json::object spec_type;
  spec_type["shareable"] = false;

  json::object entity;
  entity["resource_id"] = resource_id_for(sub.id);
  entity["resource_name"] = "appstream-server-" + n;
  entity["cloud_service_type"] = "hws.service.type.vdi";
  entity["resource_type"] = "hws.resource.type.workspace.appstream";
  entity["resource_spec_code"] = "workspace.appstream.general.xlarge.2";
  entity["spec_type"] = std::move(spec_type);
  entity["spec_size"] = 80.0;
  entity["measure"] = 17;
  entity["processed_time"] = fmt(job.created);
  entity["is_main_resource"] = 1;
  entity["main_resources"] = json::array{std::move(server)};
  entity["extend_params"] = "{\"expireTime\":\"" + fmt(job.created + std::chrono::days{30}) + "\"}";
  return entity;
}

}  // namespace jobwatch::sim
