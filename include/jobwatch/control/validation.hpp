// Input rules for the control protocol (SPEC §3), pure: job/project IDs,
// labels, durations and the shapes of call parameters. Each check returns
// the error reply to send, so the service stays a thin dispatcher.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "jobwatch/control/varlink.hpp"
#include "jobwatch/watch/watch_info.hpp"

namespace jobwatch::control {

inline constexpr std::size_t max_id_length = 64;
inline constexpr std::size_t max_labels = 32;
inline constexpr std::size_t max_label_key = 63;
inline constexpr std::size_t max_label_value = 256;
// A longer deadline or timeout is a typo; the bound also keeps the
// millisecond conversion far from overflowing.
inline constexpr double max_seconds = 100.0 * 365 * 24 * 3600;

// Makes untrusted text safe to show: control characters, invalid UTF-8 and
// invisible format characters become escapes (\n, \x01, \u{202e});
// backslashes are doubled. Longer input is cut at `max_bytes` with "…".
std::string escape_for_display(std::string_view text, std::size_t max_bytes = 80);

// Why `id` is not a valid job or project ID ("empty", "longer than 64
// characters", "contains '/' (only A-Z a-z 0-9 - _ allowed)"), or nullopt.
std::optional<std::string> id_problem(std::string_view id);

// The InvalidJobId reply for a job (or its project, `what` = "project_id").
Reply invalid_job_id(std::string_view job_id, std::string_view what, std::string_view reason);

template <class T>
using Checked = std::variant<T, Reply>;

// A job as a call names it: `api` is empty when the call left it out.
struct JobSelector {
  watch::JobRef job;
  std::optional<model::Api> api;
};

// `jobs: [{job_id, project_id?, api?}]`, non-empty; a missing project_id is
// `default_project` (an empty default makes it an InvalidParameter).
// Duplicates are dropped, keeping the first; the same job named with two
// different APIs is InvalidParameter `api`, and so is an unknown API.
Checked<std::vector<JobSelector>> parse_jobs(const boost::json::object& params,
                                             std::string_view default_project);
// `api?` in `params`: a name from SPEC §1; InvalidParameter `api` otherwise.
Checked<std::optional<model::Api>> parse_api(const boost::json::object& params);
// InvalidParameter `api`: `job` is watched in `watched`, not in `asked`.
Reply api_mismatch(const watch::JobRef& job, model::Api watched, model::Api asked);
// `job_id, project_id?` at the top level of the parameters (Show).
Checked<watch::JobRef> parse_job_ref(const boost::json::object& params,
                                     std::string_view default_project,
                                     std::string_view prefix = "");
// `labels?: {string: string}`; absent is empty. Sorted by key.
Checked<watch::Labels> parse_labels(const boost::json::object& params);
// A positive finite number of seconds under `name`, as milliseconds
// (rounded up, so 0.0001 is 1 ms, never 0); nullopt when absent.
Checked<std::optional<std::chrono::milliseconds>> parse_seconds(const boost::json::object& params,
                                                                std::string_view name);
// InvalidParameter for the first parameter not in `known`.
std::optional<Reply> check_known(const boost::json::object& params,
                                 std::initializer_list<std::string_view> known);

}  // namespace jobwatch::control
