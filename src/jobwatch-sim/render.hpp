// Internals shared by the per-API renderers (render_v1.cpp, render_v2.cpp)
// and by describe_expected, which must predict exactly what they send.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <string>

#include "timeline.hpp"

namespace jobwatch::sim {

// job_type as the API sends it: the spec's, else the API's default
// (app-v1 1 / 2, app-v2 CREATE_SERVER, desktop-v2 createDesktops / createDesktop).
boost::json::value job_type_of(const Job& job);
boost::json::value subjob_type_of(const Job& job, const SubJob& sub);

// The error fields a job or subjob carries in `phase`: app-v1 execute_code /
// execute_message, app-v2 subjobs error_code / error_message, desktop-v2 jobs
// job_error_code / fail_reason, desktop-v2 subjobs error_code / fail_reason /
// message. Empty strings until it fails (app-v1 subjobs: absent until then).
boost::json::object job_error_fields(const Job& job, Phase phase);
boost::json::object subjob_error_fields(const Job& job, const SubJob& sub, Phase phase);

// The offset (from creation) at which a subjob is expected to end: its
// derived end, or the start of its last scripted status.
Millis subjob_end_offset(const Job& job, const SubJob& sub);

// A UUID-shaped ID derived from `id`, so repeated polls show the same entity.
std::string resource_id_for(std::uint64_t id);
// The seed's JobResourceInfo for a subjob's server; `millis` for v2 times.
boost::json::object render_resource_info(const Job& job, const SubJob& sub, bool millis);

boost::json::object render_v1_detail(const Job& job, SimTime now);
boost::json::object render_app_v2(const Job& job, SimTime now, std::string_view project_id);
boost::json::object render_desktop_v2(const Job& job, SimTime now);

}  // namespace jobwatch::sim
