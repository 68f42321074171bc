#include "jobwatch/control/validation.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>

namespace jobwatch::control {

namespace json = boost::json;

namespace {

// Decodes one UTF-8 sequence at text[i]; returns its length, or 0 when the
// bytes there are not valid UTF-8 (overlong, surrogate, truncated, > U+10FFFF).
std::size_t decode_utf8(std::string_view text, std::size_t i, std::uint32_t& cp) {
  const auto b0 = static_cast<unsigned char>(text[i]);
  std::size_t len = 0;
  std::uint32_t min = 0;
  if (b0 < 0x80) {
    cp = b0;
    return 1;
  } else if ((b0 & 0xE0) == 0xC0) {
    len = 2, cp = b0 & 0x1F, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3, cp = b0 & 0x0F, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4, cp = b0 & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (i + len > text.size()) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(text[i + k]);
    if ((b & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

// Code points that render as nothing or reorder text: showing them raw
// would let an ID disguise itself in a terminal or a log line.
bool is_invisible(std::uint32_t cp) {
  return (cp >= 0x80 && cp <= 0x9F) || cp == 0xAD || (cp >= 0x200B && cp <= 0x200F) ||
         (cp >= 0x2028 && cp <= 0x202E) || (cp >= 0x2060 && cp <= 0x206F) || cp == 0xFEFF;
}

bool id_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

bool label_key_char(char c) {
  return id_char(c) || c == '.';
}

bool valid_utf8(std::string_view text) {
  std::uint32_t cp = 0;
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t n = decode_utf8(text, i, cp);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

}  // namespace

std::string escape_for_display(std::string_view text, std::size_t max_bytes) {
  std::string out;
  char buf[16];
  for (std::size_t i = 0; i < text.size();) {
    if (out.size() >= max_bytes) {
      out += "…";
      break;
    }
    std::uint32_t cp = 0;
    const std::size_t n = decode_utf8(text, i, cp);
    if (n == 0) {
      std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(text[i]));
      out += buf;
      ++i;
      continue;
    }
    if (cp == '\\') {
      out += "\\\\";
    } else if (cp == '\n') {
      out += "\\n";
    } else if (cp == '\r') {
      out += "\\r";
    } else if (cp == '\t') {
      out += "\\t";
    } else if (cp < 0x20 || cp == 0x7F) {
      std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned>(cp));
      out += buf;
    } else if (is_invisible(cp)) {
      std::snprintf(buf, sizeof buf, "\\u{%04x}", static_cast<unsigned>(cp));
      out += buf;
    } else {
      out.append(text.substr(i, n));
    }
    i += n;
  }
  return out;
}

std::optional<std::string> id_problem(std::string_view id) {
  if (id.empty()) return "empty";
  const auto bad = std::find_if_not(id.begin(), id.end(), id_char);
  if (bad != id.end()) {
    const auto at = static_cast<std::size_t>(bad - id.begin());
    std::uint32_t cp = 0;
    const std::size_t n = std::max<std::size_t>(decode_utf8(id, at, cp), 1);
    return "contains '" + escape_for_display(id.substr(at, n)) + "' (only A-Z a-z 0-9 - _ allowed)";
  }
  if (id.size() > max_id_length) return "longer than 64 characters";
  return std::nullopt;
}

Reply invalid_job_id(std::string_view job_id, std::string_view what, std::string_view reason) {
  json::object params;
  params["job_id"] = escape_for_display(job_id);
  params["reason"] =
      what.empty() ? std::string(reason) : std::string(what) + " " + std::string(reason);
  return error_reply(std::string(errors::invalid_job_id), std::move(params));
}

std::optional<Reply> check_known(const json::object& params,
                                 std::initializer_list<std::string_view> known) {
  for (const auto& entry : params) {
    if (std::find(known.begin(), known.end(), entry.key()) == known.end()) {
      return invalid_parameter(escape_for_display(entry.key(), 64), "unknown parameter");
    }
  }
  return std::nullopt;
}

Checked<watch::JobRef> parse_job_ref(const json::object& params, std::string_view default_project,
                                     std::string_view prefix) {
  const std::string p(prefix);
  const auto* job_id = params.if_contains("job_id");
  if (job_id == nullptr || !job_id->is_string()) {
    return invalid_parameter(p + "job_id", job_id ? "must be a string" : "required");
  }
  watch::JobRef ref;
  ref.job_id = std::string(job_id->get_string());
  if (auto problem = id_problem(ref.job_id)) return invalid_job_id(ref.job_id, "", *problem);

  const auto* project = params.if_contains("project_id");
  if (project != nullptr && !project->is_null()) {
    if (!project->is_string()) return invalid_parameter(p + "project_id", "must be a string");
    ref.project_id = std::string(project->get_string());
    if (auto problem = id_problem(ref.project_id)) {
      return invalid_job_id(ref.job_id, "project_id", *problem);
    }
  } else if (default_project.empty()) {
    return invalid_parameter("project_id",
                             "required: no default project is configured (api.project_id)");
  } else {
    ref.project_id = std::string(default_project);
  }
  return ref;
}

Checked<std::optional<model::Api>> parse_api(const json::object& params) {
  const auto* api = params.if_contains("api");
  if (api == nullptr || api->is_null()) return std::optional<model::Api>{};
  if (!api->is_string())
    return invalid_parameter("api", "must be a string: one of " + model::api_names());
  auto known = model::api_from_name(api->get_string());
  if (!known) {
    return invalid_parameter("api", "'" + escape_for_display(api->get_string(), 32) +
                                        "' is not a job API (" + model::api_names() + ")");
  }
  return std::optional<model::Api>{*known};
}

Reply api_mismatch(const watch::JobRef& job, model::Api watched, model::Api asked) {
  return invalid_parameter("api", "job " + job.job_id + " in project " + job.project_id +
                                      " is watched as " + std::string(model::api_name(watched)) +
                                      ", not " + std::string(model::api_name(asked)));
}

Checked<std::vector<JobSelector>> parse_jobs(const json::object& params,
                                             std::string_view default_project) {
  constexpr std::size_t max_jobs = 10'000;
  const auto* jobs = params.if_contains("jobs");
  if (jobs == nullptr) return invalid_parameter("jobs", "required");
  if (!jobs->is_array())
    return invalid_parameter("jobs", "must be an array of {job_id, project_id?, api?}");
  const auto& array = jobs->get_array();
  if (array.empty()) return invalid_parameter("jobs", "must not be empty");
  if (array.size() > max_jobs) return invalid_parameter("jobs", "at most 10000 jobs per call");

  std::vector<JobSelector> selectors;
  selectors.reserve(array.size());
  for (std::size_t i = 0; i < array.size(); ++i) {
    const std::string prefix = "jobs[" + std::to_string(i) + "].";
    const auto* item = array[i].if_object();
    if (item == nullptr) {
      return invalid_parameter(prefix.substr(0, prefix.size() - 1),
                               "must be an object {job_id, project_id?, api?}");
    }
    for (const auto& entry : *item) {
      if (entry.key() != "job_id" && entry.key() != "project_id" && entry.key() != "api") {
        return invalid_parameter(prefix + escape_for_display(entry.key(), 64), "unknown parameter");
      }
    }
    auto ref = parse_job_ref(*item, default_project, prefix);
    if (auto* error = std::get_if<Reply>(&ref)) return std::move(*error);
    auto api = parse_api(*item);
    if (auto* error = std::get_if<Reply>(&api)) return std::move(*error);
    JobSelector selector{std::get<watch::JobRef>(std::move(ref)), std::get<0>(api)};
    auto same = std::find_if(selectors.begin(), selectors.end(),
                             [&](const JobSelector& s) { return s.job == selector.job; });
    if (same == selectors.end()) {
      selectors.push_back(std::move(selector));
    } else if (selector.api && same->api != selector.api) {
      if (!same->api) {
        same->api = selector.api;
      } else {
        return api_mismatch(selector.job, *same->api, *selector.api);
      }
    }
  }
  return selectors;
}

Checked<watch::Labels> parse_labels(const json::object& params) {
  const auto* labels = params.if_contains("labels");
  watch::Labels out;
  if (labels == nullptr || labels->is_null()) return out;
  if (!labels->is_object()) return invalid_parameter("labels", "must be an object of strings");
  const auto& object = labels->get_object();
  if (object.size() > max_labels) return invalid_parameter("labels", "at most 32 labels");
  for (const auto& entry : object) {
    const std::string_view key = entry.key();
    const std::string name = "labels." + escape_for_display(key, 64);
    if (key.empty() || key.size() > max_label_key ||
        !std::all_of(key.begin(), key.end(), label_key_char)) {
      return invalid_parameter(name, "keys are 1-63 characters of A-Z a-z 0-9 . _ -");
    }
    if (!entry.value().is_string()) return invalid_parameter(name, "must be a string");
    const auto& value = entry.value().get_string();
    if (value.size() > max_label_value) return invalid_parameter(name, "longer than 256 bytes");
    if (!valid_utf8(value)) return invalid_parameter(name, "not valid UTF-8");
    out.emplace_back(std::string(key), std::string(value));
  }
  std::sort(out.begin(), out.end());
  return out;
}

Checked<std::optional<std::chrono::milliseconds>> parse_seconds(const json::object& params,
                                                                std::string_view name) {
  const auto* value = params.if_contains(name);
  if (value == nullptr || value->is_null()) return std::optional<std::chrono::milliseconds>{};
  if (!value->is_number()) return invalid_parameter(name, "must be a number of seconds");
  boost::system::error_code ec;
  const double seconds = value->to_number<double>(ec);
  if (ec || !std::isfinite(seconds) || seconds <= 0) {
    return invalid_parameter(name, "must be a positive number of seconds");
  }
  if (seconds > max_seconds) return invalid_parameter(name, "longer than 100 years");
  const auto ms = static_cast<std::int64_t>(std::ceil(seconds * 1000.0));
  return std::optional<std::chrono::milliseconds>{
      std::chrono::milliseconds(std::max<std::int64_t>(ms, 1))};
}

}  // namespace jobwatch::control
