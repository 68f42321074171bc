// Fault injection rules (POST /admin/faults): which ShowJob requests get an
// error status, a throttle, a reset, a delay or a malformed body. Pure: the
// caller supplies the random generator.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "job_spec.hpp"

namespace jobwatch::sim {

enum class FaultKind { status, throttle, reset, slow, malformed };
enum class MalformedVariant { truncated, wrong_types, unknown_status };

std::string_view fault_kind_name(FaultKind kind);

struct FaultRule {
  std::uint64_t id = 0;
  FaultKind kind = FaultKind::status;
  double probability = 1.0;
  std::optional<std::uint64_t> remaining;   // absent: unlimited
  unsigned status = 500;                    // status; throttle: 429 or 503
  std::optional<double> retry_after_s;      // Retry-After header when set
  double delay_s = 1;                       // slow
  std::optional<MalformedVariant> variant;  // malformed; absent: random per request
  std::optional<std::string> job_id;        // only requests for this job
  std::optional<std::string> error_code;    // body overrides for status/throttle
  std::optional<std::string> error_msg;
};

std::variant<FaultRule, SpecError> parse_fault_rule(const boost::json::value& v);
boost::json::object fault_to_json(const FaultRule& rule);

class FaultTable {
 public:
  // Returns the rule's id.
  std::uint64_t add(FaultRule rule);
  void clear() { rules_.clear(); }
  std::size_t size() const { return rules_.size(); }
  const std::vector<FaultRule>& rules() const { return rules_; }

  // The first rule (in creation order) that matches the job and fires under
  // its probability; one of its count is used up, and a spent rule removed.
  std::optional<FaultRule> pick(std::string_view job_id, std::mt19937_64& rng);

 private:
  std::vector<FaultRule> rules_;
  std::uint64_t next_id_ = 1;
};

// The {"error_code", "error_msg"} body the API gateway would send.
boost::json::object error_body_for(const FaultRule& rule);

// A 200 body that a client must reject: `detail` is the job's real detail
// as render_job_detail gives it (or null for a job the API would not find),
// in `api`'s shape.
std::string malformed_body(MalformedVariant variant, Api api, const boost::json::object* detail);
inline std::string malformed_body(MalformedVariant variant, const boost::json::object* detail) {
  return malformed_body(variant, Api::app_v1, detail);
}
MalformedVariant random_malformed_variant(std::mt19937_64& rng);

}  // namespace jobwatch::sim
