// The job APIs a watch can live in (SPEC §1), each described by one mapping:
// its name, its request path, how its 200 body becomes a JobSnapshot, and
// which service host answers it. A fourth API is one more mapping file and
// one more row in the table in api.cpp; nothing outside model/ changes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "jobwatch/model/snapshot.hpp"

namespace jobwatch::model {

enum class Api : std::uint8_t { app_v1, app_v2, desktop_v2 };

// Which configured endpoint serves an API: desktop APIs may live on their own
// host (api.desktop_endpoint, workspace.{region}…).
enum class Service : std::uint8_t { app_streaming, desktop };

struct ApiMapping {
  Api api;
  std::string_view name;  // "app-v1", as in config, Watch and events
  Service service;
  // The request path for already percent-encoded IDs.
  std::string (*path)(std::string_view project_id, std::string_view job_id);
  // Parses a 200 body; never throws.
  SnapshotResult (*parse)(std::string_view body);
};

const ApiMapping& mapping(Api api);
std::string_view api_name(Api api);
std::optional<Api> api_from_name(std::string_view name);
// "app-v1, app-v2, desktop-v2", for messages and help texts.
std::string api_names();

// A job object as JobSnapshot::raw keeps it (and so a watch's last answer),
// through `api`'s mapping: app-v1's raw is the JobDetail without the body's
// {"job": ...} around it, the v2 APIs' raw is the body itself.
SnapshotResult parse_job_object(Api api, std::string_view job_json);

}  // namespace jobwatch::model
