#include "faults.hpp"

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>
#include <cmath>

namespace jobwatch::sim {

namespace json = boost::json;

namespace {

std::optional<FaultKind> parse_kind(std::string_view s) {
  if (s == "status") return FaultKind::status;
  if (s == "throttle") return FaultKind::throttle;
  if (s == "reset") return FaultKind::reset;
  if (s == "slow") return FaultKind::slow;
  if (s == "malformed") return FaultKind::malformed;
  return std::nullopt;
}

std::optional<MalformedVariant> parse_variant(std::string_view s) {
  if (s == "truncated") return MalformedVariant::truncated;
  if (s == "wrong_types") return MalformedVariant::wrong_types;
  if (s == "unknown_status") return MalformedVariant::unknown_status;
  return std::nullopt;
}

std::string_view variant_name(MalformedVariant v) {
  switch (v) {
    case MalformedVariant::truncated:
      return "truncated";
    case MalformedVariant::wrong_types:
      return "wrong_types";
    case MalformedVariant::unknown_status:
      return "unknown_status";
  }
  return "?";
}

std::pair<std::string_view, std::string_view> default_error(unsigned status) {
  switch (status) {
    case 400:
      return {"WKS.0001", "Invalid request parameters"};
    case 401:
      return {"APIGW.0301", "Incorrect IAM authentication information"};
    case 403:
      return {"APIGW.0302", "The IAM user is not authorized to access the API"};
    case 404:
      return {"WKS.0404", "job not found"};
    case 405:
      return {"WKS.0405", "Method not allowed"};
    case 429:
      return {"APIGW.0308", "The throttling threshold has been reached"};
    case 503:
      return {"APIGW.0201", "Service unavailable"};
    default:
      return {"WKS.0500", "Internal server error"};
  }
}

}  // namespace

std::string_view fault_kind_name(FaultKind kind) {
  switch (kind) {
    case FaultKind::status:
      return "status";
    case FaultKind::throttle:
      return "throttle";
    case FaultKind::reset:
      return "reset";
    case FaultKind::slow:
      return "slow";
    case FaultKind::malformed:
      return "malformed";
  }
  return "?";
}

std::variant<FaultRule, SpecError> parse_fault_rule(const json::value& v) {
  if (!v.is_object()) return SpecError{"a fault rule must be an object"};
  const json::object& obj = v.get_object();
  FaultRule rule;
  const json::value* kind = obj.if_contains("kind");
  if (!kind || !kind->is_string() || !parse_kind(kind->get_string())) {
    return SpecError{"kind: must be one of status, throttle, reset, slow, malformed"};
  }
  rule.kind = *parse_kind(kind->get_string());
  if (rule.kind == FaultKind::throttle) {
    rule.status = 429;
    rule.retry_after_s = 2;
  }
  for (const auto& [key, value] : obj) {
    auto n = as_number(value);
    if (key == "kind") {
      continue;
    } else if (key == "probability") {
      if (!n || *n < 0 || *n > 1) return SpecError{"probability: must be a number 0-1"};
      rule.probability = *n;
    } else if (key == "count") {
      if (value.is_null()) {
        rule.remaining.reset();
      } else if (!n || *n < 1 || *n != std::floor(*n)) {
        return SpecError{"count: must be an integer >= 1 or null"};
      } else {
        rule.remaining = static_cast<std::uint64_t>(*n);
      }
    } else if (key == "status") {
      if (!n || *n < 100 || *n > 599 || *n != std::floor(*n))
        return SpecError{"status: must be an HTTP status code"};
      rule.status = static_cast<unsigned>(*n);
      if (rule.kind == FaultKind::throttle && rule.status != 429 && rule.status != 503) {
        return SpecError{"status: a throttle answers 429 or 503"};
      }
    } else if (key == "retry_after_s") {
      if (value.is_null()) {
        rule.retry_after_s.reset();
      } else if (!n || *n < 0 || *n > 86400) {
        return SpecError{"retry_after_s: must be a number of seconds or null"};
      } else {
        rule.retry_after_s = *n;
      }
    } else if (key == "delay_s") {
      if (!n || *n < 0 || *n > 3600)
        return SpecError{"delay_s: must be a number of seconds 0-3600"};
      rule.delay_s = *n;
    } else if (key == "variant") {
      if (!value.is_string() || !parse_variant(value.get_string())) {
        return SpecError{"variant: must be truncated, wrong_types or unknown_status"};
      }
      rule.variant = parse_variant(value.get_string());
    } else if (key == "job_id") {
      if (!value.is_string() || value.get_string().empty())
        return SpecError{"job_id: must be a string"};
      rule.job_id = std::string(value.get_string());
    } else if (key == "error_code" || key == "error_msg") {
      if (!value.is_string()) return SpecError{std::string(key) + ": must be a string"};
      (key == "error_code" ? rule.error_code : rule.error_msg) = std::string(value.get_string());
    } else {
      return SpecError{"unknown field \"" + std::string(key) + "\""};
    }
  }
  return rule;
}

json::object fault_to_json(const FaultRule& rule) {
  json::object o;
  o["fault_id"] = rule.id;
  o["kind"] = fault_kind_name(rule.kind);
  o["probability"] = rule.probability;
  o["count"] = rule.remaining ? json::value(*rule.remaining) : json::value(nullptr);
  if (rule.kind == FaultKind::status || rule.kind == FaultKind::throttle) o["status"] = rule.status;
  if (rule.retry_after_s) o["retry_after_s"] = *rule.retry_after_s;
  if (rule.kind == FaultKind::slow) o["delay_s"] = rule.delay_s;
  if (rule.variant) o["variant"] = variant_name(*rule.variant);
  if (rule.job_id) o["job_id"] = *rule.job_id;
  return o;
}

std::uint64_t FaultTable::add(FaultRule rule) {
  rule.id = next_id_++;
  rules_.push_back(std::move(rule));
  return rules_.back().id;
}

std::optional<FaultRule> FaultTable::pick(std::string_view job_id, std::mt19937_64& rng) {
  for (auto it = rules_.begin(); it != rules_.end(); ++it) {
    if (it->job_id && *it->job_id != job_id) continue;
    if (it->probability < 1.0 &&
        !(std::uniform_real_distribution<double>(0.0, 1.0)(rng) < it->probability)) {
      continue;
    }
    FaultRule fired = *it;
    if (it->remaining && --*it->remaining == 0) rules_.erase(it);
    return fired;
  }
  return std::nullopt;
}

json::object error_body_for(const FaultRule& rule) {
  auto [code, msg] = default_error(rule.kind == FaultKind::throttle ? 429 : rule.status);
  json::object o;
  o["error_code"] = rule.error_code ? std::string_view(*rule.error_code) : code;
  o["error_msg"] = rule.error_msg ? std::string_view(*rule.error_msg) : msg;
  return o;
}

namespace {

std::string malformed_v1(MalformedVariant variant, const json::object* detail) {
  json::object job;
  if (detail) {
    job = *detail;
  } else {
    job["job_id"] = "0";
    job["job_type"] = 1;
    job["job_status"] = 2;
  }
  switch (variant) {
    case MalformedVariant::truncated: {
      const std::string full = json::serialize(json::object{{"job", std::move(job)}});
      // Cut inside the document so no prefix of it parses.
      return full.substr(0, full.size() / 2);
    }
    case MalformedVariant::wrong_types:
      job["job_status"] =
          std::to_string(job["job_status"].is_int64() ? job["job_status"].get_int64() : 2);
      job["sub_jobs"] = json::object{{"job_id", 42}};
      job["begin_time"] = 1686018606;
      break;
    case MalformedVariant::unknown_status:
      job["job_status"] = 7;
      break;
  }
  return json::serialize(json::object{{"job", std::move(job)}});
}

// The v2 bodies have no wrapper: the detail is the whole document.
std::string malformed_v2(MalformedVariant variant, Api api, const json::object* detail) {
  json::object body;
  if (detail) {
    body = *detail;
  } else {
    body["id"] = "0";
    body["job_type"] = api == Api::desktop_v2 ? "createDesktops" : "CREATE_SERVER";
    body["status"] = "RUNNING";
  }
  switch (variant) {
    case MalformedVariant::truncated: {
      const std::string full = json::serialize(body);
      return full.substr(0, full.size() / 2);
    }
    case MalformedVariant::wrong_types:
      body["status"] = 2;
      body["sub_jobs"] = json::object{{"id", 42}};
      body["sub_jobs_total"] = "many";
      body["begin_time"] = 1686018606;
      break;
    case MalformedVariant::unknown_status:
      body["status"] = "NOT_A_STATUS";
      break;
  }
  return json::serialize(body);
}

}  // namespace

std::string malformed_body(MalformedVariant variant, Api api, const json::object* detail) {
  return api == Api::app_v1 ? malformed_v1(variant, detail) : malformed_v2(variant, api, detail);
}

MalformedVariant random_malformed_variant(std::mt19937_64& rng) {
  switch (std::uniform_int_distribution<int>(0, 2)(rng)) {
    case 0:
      return MalformedVariant::truncated;
    case 1:
      return MalformedVariant::wrong_types;
    default:
      return MalformedVariant::unknown_status;
  }
}

}  // namespace jobwatch::sim
