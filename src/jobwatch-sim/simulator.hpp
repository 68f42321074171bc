// The simulator's state and request handling, without sockets: a request
// (method, target, body, token) and the wall time go in, an Outcome (reply,
// reset the connection, or answer after a delay) comes out. The HTTP server
// only moves bytes and runs the delay timers.
#pragma once

#include <array>
#include <boost/json/object.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include "aksk_check.hpp"
#include "faults.hpp"
#include "iam.hpp"
#include "job_spec.hpp"
#include "rate_gate.hpp"
#include "timeline.hpp"

namespace jobwatch::sim {

struct Request {
  std::string_view method;  // "GET", "POST", ...
  std::string_view target;  // path and optional query
  std::string_view body;
  std::optional<std::string_view> auth_token;  // X-Auth-Token
  // Every header as sent (AK/SK signatures cover some of them).
  std::vector<std::pair<std::string_view, std::string_view>> headers;
};

struct Reply {
  unsigned status = 200;
  std::string body;
  std::optional<std::uint64_t> retry_after_s;  // Retry-After header
  std::string_view allow;                      // Allow header for 405, when set
  std::string date;                            // Date header, when set
  std::string subject_token;                   // X-Subject-Token (fake IAM), when set
};

struct Outcome {
  enum class Action { reply, reset, delay };
  Action action = Action::reply;
  Reply reply;      // for reply
  Millis delay{0};  // for delay: then call answer_delayed(target, ...)
};

struct SimOptions {
  std::optional<std::string> token;  // required X-Auth-Token, when set
  std::uint64_t seed = 1;
  // One line per admin action; empty: silent.
  std::function<void(const std::string&)> log;
  // AK/SK signatures required on the API, when set.
  std::optional<AkskOptions> aksk;
  // The gateway's global limit on ShowJob requests per second, when set.
  std::optional<double> rate_limit;
  // Fake IAM on /v3/auth/tokens; the API then requires a live issued token.
  std::optional<IamOptions> iam;
};

// One of the job APIs' paths: "/v1/{project_id}/job/{job_id}" (app-v1),
// "/v2/{project_id}/job/{job_id}" (app-v2),
// "/v2/{project_id}/workspace-jobs/{job_id}" (desktop-v2), with an optional query.
struct ApiPath {
  std::string_view project_id;
  std::string_view job_id;
  Api api = Api::app_v1;
};
std::optional<ApiPath> parse_job_path(std::string_view target);
// app-v1 paths only.
std::optional<ApiPath> parse_api_path(std::string_view target);

class Simulator {
 public:
  explicit Simulator(SimOptions options);

  // The simulator's "now": the wall clock shifted by POST /admin/clock.
  SimTime now(SimTime wall) const { return wall + clock_offset_; }

  Outcome handle(const Request& req, SimTime wall);
  // The answer to a request that a "slow" fault held back (no further faults).
  Reply answer_delayed(const Request& req, SimTime wall);

  // Creates jobs as POST /admin/jobs does; an error when an ID is taken.
  std::variant<std::vector<const Job*>, SpecError> create_jobs(const std::vector<JobSpec>& specs,
                                                               SimTime wall);
  std::size_t job_count() const { return jobs_.size(); }
  const Job* find_job(std::string_view job_id) const;
  std::uint64_t seed() const { return seed_; }

 private:
  struct IdHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using JobMap = std::unordered_map<std::string, Job, IdHash, std::equal_to<>>;

  Outcome handle_api(const Request& req, SimTime wall);
  Reply show_job(const Request& req, const ApiPath& path, SimTime wall);
  Reply finish_api(Reply reply);
  // Sets a job API answer's Date header, unless it has one.
  void date(Reply& reply, SimTime wall) const;
  Reply handle_admin(const Request& req, SimTime wall);
  Reply handle_iam(const Request& req, SimTime wall);
  void log(const std::string& line) const;

  // Admin routes (admin.cpp).
  Reply admin_create_jobs(std::string_view body, SimTime wall);
  Reply admin_random(std::string_view body, SimTime wall);
  Reply admin_list_jobs() const;
  Reply admin_job(std::string_view job_id, SimTime wall) const;
  Reply admin_add_fault(std::string_view body);
  Reply admin_list_faults() const;
  Reply admin_clear_faults();
  Reply admin_stats() const;
  Reply admin_clear_stats();
  Reply admin_requests(std::string_view query) const;
  Reply admin_clock(std::string_view body, SimTime wall);
  Reply admin_reset();
  Reply admin_iam_expire_all(SimTime wall);

  std::optional<std::string> token_;
  std::uint64_t seed_;
  std::function<void(const std::string&)> log_;
  std::mt19937_64 rng_;
  IdGenerator ids_;
  JobMap jobs_;
  FaultTable faults_;
  Millis clock_offset_{0};
  std::optional<AkskOptions> aksk_;
  std::optional<RateGate> rate_gate_;
  std::optional<FakeIam> iam_;

  std::uint64_t requests_total_ = 0;
  // Requests on each API's path (by Api), and those naming a job of another API.
  std::array<std::uint64_t, 3> requests_by_api_{};
  std::uint64_t wrong_api_requests_ = 0;
  std::map<unsigned, std::uint64_t> by_status_;
  std::uint64_t faults_injected_ = 0;
  std::map<std::string, std::uint64_t, std::less<>> faults_by_kind_;
};

// Small helpers shared by the API and admin handlers.
Reply json_reply(unsigned status, const boost::json::value& body);
Reply api_error(unsigned status, std::string_view code, std::string_view msg);

}  // namespace jobwatch::sim
