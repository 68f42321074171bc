// The table of job APIs: one row per API, each pointing at its mapping file.
#include "jobwatch/model/api.hpp"

#include <array>

#include "jobwatch/model/app_v1.hpp"
#include "jobwatch/model/app_v2.hpp"
#include "jobwatch/model/desktop_v2.hpp"

namespace jobwatch::model {

namespace {

std::string app_v1_path(std::string_view project_id, std::string_view job_id) {
  return "/v1/" + std::string(project_id) + "/job/" + std::string(job_id);
}

std::string app_v2_path(std::string_view project_id, std::string_view job_id) {
  return "/v2/" + std::string(project_id) + "/job/" + std::string(job_id);
}

std::string desktop_v2_path(std::string_view project_id, std::string_view job_id) {
  return "/v2/" + std::string(project_id) + "/workspace-jobs/" + std::string(job_id);
}

// In enum order: mapping(api) indexes it.
constexpr std::array<ApiMapping, 3> apis{{
    {Api::app_v1, "app-v1", Service::app_streaming, app_v1_path, parse_app_v1},
    {Api::app_v2, "app-v2", Service::app_streaming, app_v2_path, parse_app_v2},
    {Api::desktop_v2, "desktop-v2", Service::desktop, desktop_v2_path, parse_desktop_v2},
}};

}  // namespace

const ApiMapping& mapping(Api api) {
  return apis[static_cast<std::size_t>(api)];
}

std::string_view api_name(Api api) {
  return mapping(api).name;
}

std::optional<Api> api_from_name(std::string_view name) {
  for (const ApiMapping& m : apis)
    if (m.name == name) return m.api;
  return std::nullopt;
}

std::string api_names() {
  std::string out;
  for (const ApiMapping& m : apis) {
    if (!out.empty()) out += ", ";
    out += m.name;
  }
  return out;
}

SnapshotResult parse_job_object(Api api, std::string_view job_json) {
  if (api != Api::app_v1) return mapping(api).parse(job_json);
  std::string body = "{\"job\":";
  body.append(job_json);
  body += '}';
  return mapping(api).parse(body);
}

}  // namespace jobwatch::model
