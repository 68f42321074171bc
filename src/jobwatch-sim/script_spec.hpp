// The scripting keys of a job or subjob spec (timeline, job_type, error
// texts): parsed without knowing the API, checked against it afterwards
// because a spec's keys come in any order.
#pragma once

#include <boost/json/value.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "job_spec.hpp"

namespace jobwatch::sim {

// true: `key` was a scripting key and went into `script`; false: not one.
// `where` prefixes error messages ("" or "subjobs[2]").
std::variant<bool, SpecError> parse_script_field(std::string_view key,
                                                 const boost::json::value& value, Script& script,
                                                 const std::string& where);

// The status types and the keys that `api` allows, for a job or a subjob.
std::optional<SpecError> check_script(const Script& script, Api api, bool subjob,
                                      const std::string& where);

// The outcome a timeline ends in; nullopt when it never becomes terminal.
std::optional<bool> timeline_outcome(const StatusTimeline& timeline);

// Whether a spec scripted nothing (its job keeps no Script at all).
bool script_empty(const Script& script);

}  // namespace jobwatch::sim
