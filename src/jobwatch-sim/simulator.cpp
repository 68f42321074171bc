#include "simulator.hpp"

#include <boost/json/serialize.hpp>
#include <cmath>

namespace jobwatch::sim {

namespace json = boost::json;

namespace {

// Compares without an early exit, so response timing says nothing about
// how much of a guessed token was right.
bool same_secret(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  const std::size_t n = std::min(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

std::string_view path_of(std::string_view target) {
  return target.substr(0, target.find('?'));
}

}  // namespace

Reply json_reply(unsigned status, const json::value& body) {
  Reply r;
  r.status = status;
  r.body = json::serialize(body);
  return r;
}

Reply api_error(unsigned status, std::string_view code, std::string_view msg) {
  return json_reply(status, json::object{{"error_code", code}, {"error_msg", msg}});
}

std::optional<ApiPath> parse_job_path(std::string_view target) {
  std::string_view path = path_of(target);
  ApiPath out;
  if (path.starts_with("/v1/")) {
    out.api = Api::app_v1;
  } else if (path.starts_with("/v2/")) {
    out.api = Api::app_v2;  // or desktop-v2, by the segment after the project
  } else {
    return std::nullopt;
  }
  path.remove_prefix(4);
  const auto slash = path.find('/');
  if (slash == std::string_view::npos || slash == 0) return std::nullopt;
  out.project_id = path.substr(0, slash);
  path.remove_prefix(slash);
  if (path.starts_with("/job/")) {
    path.remove_prefix(5);
  } else if (out.api == Api::app_v2 && path.starts_with("/workspace-jobs/")) {
    out.api = Api::desktop_v2;
    path.remove_prefix(16);
  } else {
    return std::nullopt;
  }
  if (path.empty() || path.find('/') != std::string_view::npos) return std::nullopt;
  out.job_id = path;
  return out;
}

std::optional<ApiPath> parse_api_path(std::string_view target) {
  auto path = parse_job_path(target);
  if (path && path->api != Api::app_v1) return std::nullopt;
  return path;
}

Simulator::Simulator(SimOptions options)
    : token_(std::move(options.token)),
      seed_(options.seed),
      log_(std::move(options.log)),
      rng_(options.seed),
      ids_(options.seed) {
  aksk_ = std::move(options.aksk);
  if (options.rate_limit) rate_gate_.emplace(*options.rate_limit);
  if (options.iam) iam_.emplace(std::move(*options.iam), options.seed);
}

void Simulator::log(const std::string& line) const {
  if (log_) log_(line);
}

const Job* Simulator::find_job(std::string_view job_id) const {
  auto it = jobs_.find(job_id);
  return it == jobs_.end() ? nullptr : &it->second;
}

Outcome Simulator::handle(const Request& req, SimTime wall) {
  const std::string_view path = path_of(req.target);
  if (path == "/admin" || path.starts_with("/admin/")) {
    return Outcome{Outcome::Action::reply, handle_admin(req, wall), Millis{0}};
  }
  if (iam_ && path == "/v3/auth/tokens") {
    return Outcome{Outcome::Action::reply, handle_iam(req, wall), Millis{0}};
  }
  Outcome outcome = handle_api(req, wall);
  if (outcome.action == Outcome::Action::reply) date(outcome.reply, wall);
  return outcome;
}

void Simulator::date(Reply& reply, SimTime wall) const {
  // The jobs' clock, the one begin_time and end_time are in, as the cloud's
  // answers carry theirs; an AK/SK refusal keeps its gateway's own.
  if (reply.date.empty()) reply.date = format_http_date(now(wall));
}

Outcome Simulator::handle_api(const Request& req, SimTime wall) {
  ++requests_total_;
  auto reply_with = [](Reply r) {
    return Outcome{Outcome::Action::reply, std::move(r), Millis{0}};
  };

  const auto path = parse_job_path(req.target);
  if (!path) {
    return reply_with(finish_api(
        api_error(400, "WKS.0001",
                  "bad request path: expected /v1/{project_id}/job/{job_id}, "
                  "/v2/{project_id}/job/{job_id} or /v2/{project_id}/workspace-jobs/{job_id}")));
  }
  ++requests_by_api_[static_cast<std::size_t>(path->api)];
  // Counted whatever the answer: tests assert the daemon never asks the wrong API.
  if (auto it = jobs_.find(path->job_id); it != jobs_.end() && it->second.api != path->api) {
    ++wrong_api_requests_;
    ++it->second.wrong_api_requests;
  }
  if (req.method != "GET") {
    Reply r = api_error(405, "WKS.0405", "Method not allowed");
    r.allow = "GET";
    return reply_with(finish_api(std::move(r)));
  }
  if (auto it = jobs_.find(path->job_id); it != jobs_.end() && it->second.api == path->api)
    ++it->second.requests;

  // The gateway throttles before it looks at credentials.
  if (rate_gate_ && !rate_gate_->admit(wall)) {
    Reply r = api_error(429, "APIGW.0308",
                        "The throttling threshold has been reached: policy ip over ratelimit");
    r.retry_after_s = 1;
    return reply_with(finish_api(std::move(r)));
  }

  // Tokens live in real time (the daemon's clock), not the shifted job clock.
  if (iam_ && (!req.auth_token || !iam_->valid(*req.auth_token, wall))) {
    return reply_with(finish_api(
        api_error(401, "APIGW.0301", "Incorrect IAM authentication information: token expired")));
  }
  if (token_ && (!req.auth_token || !same_secret(*req.auth_token, *token_))) {
    return reply_with(
        finish_api(api_error(401, "APIGW.0301", "Incorrect IAM authentication information")));
  }
  if (aksk_) {
    if (auto refusal = check_aksk(*aksk_, req.method, req.target, req.headers, req.body, wall)) {
      Reply r = api_error(401, refusal->error_code, refusal->error_msg);
      r.date = std::move(refusal->date);
      return reply_with(finish_api(std::move(r)));
    }
  }

  auto fault = faults_.pick(path->job_id, rng_);
  if (!fault) return reply_with(finish_api(show_job(req, *path, wall)));

  ++faults_injected_;
  ++faults_by_kind_[std::string(fault_kind_name(fault->kind))];
  switch (fault->kind) {
    case FaultKind::status:
    case FaultKind::throttle: {
      Reply r = json_reply(fault->status, error_body_for(*fault));
      if (fault->retry_after_s)
        r.retry_after_s = static_cast<std::uint64_t>(std::ceil(*fault->retry_after_s));
      return reply_with(finish_api(std::move(r)));
    }
    case FaultKind::reset:
      return Outcome{Outcome::Action::reset, {}, Millis{0}};
    case FaultKind::slow:
      return Outcome{Outcome::Action::delay, {}, Millis{std::llround(fault->delay_s * 1000.0)}};
    case FaultKind::malformed: {
      std::optional<json::object> detail;
      if (const Job* job = find_job(path->job_id); job && job->api == path->api)
        detail = render_job_detail(*job, now(wall), path->project_id);
      const MalformedVariant variant =
          fault->variant ? *fault->variant : random_malformed_variant(rng_);
      Reply r;
      r.body = malformed_body(variant, path->api, detail ? &*detail : nullptr);
      return reply_with(finish_api(std::move(r)));
    }
  }
  return reply_with(finish_api(api_error(500, "WKS.0500", "Internal server error")));
}

Reply Simulator::answer_delayed(const Request& req, SimTime wall) {
  const auto path = parse_job_path(req.target);
  Reply reply = path ? show_job(req, *path, wall) : api_error(400, "WKS.0001", "bad request path");
  date(reply, wall);
  return finish_api(std::move(reply));
}

Reply Simulator::show_job(const Request&, const ApiPath& path, SimTime wall) {
  const Job* job = find_job(path.job_id);
  // Another API's job is as unknown here as a job that does not exist.
  if (job && job->api == path.api &&
      (job->project_id.empty() || job->project_id == path.project_id)) {
    if (auto body = render_body(*job, now(wall), path.project_id)) return json_reply(200, *body);
  }
  return api_error(404, "WKS.0404", "job not found");
}

Reply Simulator::handle_iam(const Request& req, SimTime wall) {
  if (req.method != "POST") {
    Reply r = api_error(405, "IAM.0405", "Method not allowed");
    r.allow = "POST";
    return r;
  }
  IamIssue issued = iam_->issue(req.body, wall);
  Reply r;
  r.status = issued.status;
  r.body = std::move(issued.body);
  r.subject_token = std::move(issued.token);
  if (r.status != 201) log("IAM: token request refused (" + std::to_string(r.status) + ")");
  return r;
}

Reply Simulator::finish_api(Reply reply) {
  ++by_status_[reply.status];
  return reply;
}

std::variant<std::vector<const Job*>, SpecError> Simulator::create_jobs(
    const std::vector<JobSpec>& specs, SimTime wall) {
  // Check every explicit ID first so a rejected batch creates nothing.
  std::unordered_map<std::string_view, int> seen;
  for (const JobSpec& spec : specs) {
    if (!spec.job_id) continue;
    if (jobs_.contains(*spec.job_id) || ++seen[*spec.job_id] > 1) {
      return SpecError{"job_id " + *spec.job_id + " already exists"};
    }
  }
  std::vector<const Job*> created;
  created.reserve(specs.size());
  const SimTime t = now(wall);
  for (const JobSpec& spec : specs) {
    Job job = build_job(spec, t, ids_);
    while (jobs_.contains(job.job_id) || (!spec.job_id && seen.contains(job.job_id)))
      job.job_id = std::to_string(ids_.next());
    std::string key = job.job_id;
    auto [it, inserted] = jobs_.emplace(std::move(key), std::move(job));
    created.push_back(&it->second);
  }
  return created;
}

}  // namespace jobwatch::sim
