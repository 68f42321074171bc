// The admin API under /admin/ (test and benchmark control): creating jobs,
// fault rules, the simulated clock, counters.
#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cmath>
#include <sstream>

#include "scenarios.hpp"
#include "simulator.hpp"

namespace jobwatch::sim {

namespace json = boost::json;

namespace {

Reply admin_error(unsigned status, std::string_view msg) {
  return json_reply(status, json::object{{"error", msg}});
}

Reply method_not_allowed(std::string_view allow) {
  Reply r = admin_error(405, "method not allowed");
  r.allow = allow;
  return r;
}

// Parses a request body; an empty body is `{}` so bodiless POSTs work.
std::variant<json::value, Reply> parse_body(std::string_view body) {
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos)
    return json::value(json::object{});
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec) return admin_error(400, "body is not valid JSON: " + ec.message());
  return v;
}

std::string summarize_ids(const std::vector<const Job*>& jobs) {
  std::ostringstream out;
  const std::size_t shown = std::min<std::size_t>(jobs.size(), 5);
  for (std::size_t i = 0; i < shown; ++i) out << (i ? " " : "") << jobs[i]->job_id;
  if (jobs.size() > shown) out << " ... (+" << jobs.size() - shown << ")";
  return out.str();
}

json::array subjob_ids(const Job& job) {
  json::array ids;
  for (const SubJob& sub : job.subjobs) ids.emplace_back(std::to_string(sub.id));
  return ids;
}

double seconds(Millis ms) {
  return static_cast<double>(ms.count()) / 1000.0;
}

}  // namespace

Reply Simulator::handle_admin(const Request& req, SimTime wall) {
  std::string_view path = req.target.substr(0, req.target.find('?'));
  const std::string_view m = req.method;
  auto route = [&](std::string_view allow) { return method_not_allowed(allow); };

  if (path == "/admin/jobs") {
    if (m == "POST") return admin_create_jobs(req.body, wall);
    if (m == "GET") return admin_list_jobs();
    return route("GET, POST");
  }
  if (path.starts_with("/admin/jobs/")) {
    const std::string_view id = path.substr(std::string_view("/admin/jobs/").size());
    if (id.empty() || id.find('/') != std::string_view::npos)
      return admin_error(404, "no such admin route");
    if (m == "GET") return admin_job(id, wall);
    return route("GET");
  }
  if (path == "/admin/random") return m == "POST" ? admin_random(req.body, wall) : route("POST");
  if (path == "/admin/faults") {
    if (m == "POST") return admin_add_fault(req.body);
    if (m == "GET") return admin_list_faults();
    if (m == "DELETE") return admin_clear_faults();
    return route("GET, POST, DELETE");
  }
  if (path == "/admin/stats") {
    if (m == "GET") return admin_stats();
    if (m == "DELETE") return admin_clear_stats();
    return route("GET, DELETE");
  }
  if (path == "/admin/requests") {
    const auto q = req.target.find('?');
    return m == "GET" ? admin_requests(q == std::string_view::npos ? std::string_view()
                                                                   : req.target.substr(q + 1))
                      : route("GET");
  }
  if (path == "/admin/clock") {
    if (m == "POST") return admin_clock(req.body, wall);
    if (m == "GET") return admin_clock({}, wall);
    return route("GET, POST");
  }
  if (path == "/admin/reset") return m == "POST" ? admin_reset() : route("POST");
  if (path == "/admin/iam/expire-all") {
    return m == "POST" ? admin_iam_expire_all(wall) : route("POST");
  }
  return admin_error(404, "no such admin route");
}

Reply Simulator::admin_create_jobs(std::string_view body, SimTime wall) {
  auto parsed = parse_body(body);
  if (auto* r = std::get_if<Reply>(&parsed)) return std::move(*r);
  auto specs = parse_job_specs(std::get<json::value>(parsed));
  if (auto* err = std::get_if<SpecError>(&specs)) return admin_error(400, err->message);
  auto created = create_jobs(std::get<std::vector<JobSpec>>(specs), wall);
  if (auto* err = std::get_if<SpecError>(&created)) return admin_error(409, err->message);

  const auto& jobs = std::get<std::vector<const Job*>>(created);
  json::array ids;
  json::array details;
  for (const Job* job : jobs) {
    ids.emplace_back(job->job_id);
    json::object d = describe_expected(*job);
    d["job_id"] = job->job_id;
    d["subjob_ids"] = subjob_ids(*job);
    details.emplace_back(std::move(d));
  }
  log("created " + std::to_string(jobs.size()) + " job(s): " + summarize_ids(jobs));
  return json_reply(200, json::object{{"job_ids", std::move(ids)}, {"jobs", std::move(details)}});
}

Reply Simulator::admin_random(std::string_view body, SimTime wall) {
  auto parsed = parse_body(body);
  if (auto* r = std::get_if<Reply>(&parsed)) return std::move(*r);
  auto params = parse_random_params(std::get<json::value>(parsed), rng_());
  if (auto* err = std::get_if<SpecError>(&params)) return admin_error(400, err->message);
  const RandomParams& p = std::get<RandomParams>(params);
  auto created = create_jobs(random_specs(p), wall);
  if (auto* err = std::get_if<SpecError>(&created)) return admin_error(409, err->message);

  const auto& jobs = std::get<std::vector<const Job*>>(created);
  json::array ids;
  ids.reserve(jobs.size());
  json::object expected;
  expected.reserve(jobs.size());
  for (const Job* job : jobs) {
    ids.emplace_back(job->job_id);
    expected[job->job_id] = describe_expected(*job);
  }
  log("created " + std::to_string(jobs.size()) + " random job(s) with seed " +
      std::to_string(p.seed));
  return json_reply(
      200, json::object{
               {"job_ids", std::move(ids)}, {"expected", std::move(expected)}, {"seed", p.seed}});
}

Reply Simulator::admin_list_jobs() const {
  std::vector<const Job*> sorted;
  sorted.reserve(jobs_.size());
  for (const auto& [id, job] : jobs_) sorted.push_back(&job);
  std::sort(sorted.begin(), sorted.end(),
            [](const Job* a, const Job* b) { return a->job_id < b->job_id; });
  json::array ids;
  ids.reserve(sorted.size());
  json::object expected;
  expected.reserve(sorted.size());
  for (const Job* job : sorted) {
    ids.emplace_back(job->job_id);
    expected[job->job_id] = describe_expected(*job);
  }
  return json_reply(200,
                    json::object{{"job_ids", std::move(ids)}, {"expected", std::move(expected)}});
}

Reply Simulator::admin_job(std::string_view job_id, SimTime wall) const {
  const Job* job = find_job(job_id);
  if (!job) return admin_error(404, "no such job");
  const SimTime t = now(wall);
  auto detail = render_job_detail(*job, t);
  json::object o;
  o["job_id"] = job->job_id;
  o["project_id"] = job->project_id.empty() ? json::value(nullptr) : json::value(job->project_id);
  o["api"] = api_name(job->api);
  o["requests"] = job->requests;
  o["wrong_api_requests"] = job->wrong_api_requests;
  o["status"] = detail ? job_status_now(*job, t).status : json::value(nullptr);
  o["detail"] = detail ? json::value(std::move(*detail)) : json::value(nullptr);
  o["expected"] = describe_expected(*job);
  return json_reply(200, o);
}

Reply Simulator::admin_add_fault(std::string_view body) {
  auto parsed = parse_body(body);
  if (auto* r = std::get_if<Reply>(&parsed)) return std::move(*r);
  auto rule = parse_fault_rule(std::get<json::value>(parsed));
  if (auto* err = std::get_if<SpecError>(&rule)) return admin_error(400, err->message);
  const std::uint64_t id = faults_.add(std::get<FaultRule>(rule));
  log("fault " + std::to_string(id) +
      " added: " + json::serialize(fault_to_json(faults_.rules().back())));
  return json_reply(200, json::object{{"fault_id", id}});
}

Reply Simulator::admin_list_faults() const {
  json::array rules;
  for (const FaultRule& rule : faults_.rules()) rules.emplace_back(fault_to_json(rule));
  return json_reply(200, json::object{{"faults", std::move(rules)}});
}

Reply Simulator::admin_clear_faults() {
  const std::size_t n = faults_.size();
  faults_.clear();
  log("faults cleared (" + std::to_string(n) + " removed)");
  return json_reply(200, json::object{{"faults_removed", n}});
}

Reply Simulator::admin_stats() const {
  json::object by_status;
  for (const auto& [status, n] : by_status_) by_status[std::to_string(status)] = n;
  json::object by_kind;
  for (const auto& [kind, n] : faults_by_kind_) by_kind[kind] = n;
  json::object o;
  o["requests_total"] = requests_total_;
  json::object by_api;
  for (Api api : {Api::app_v1, Api::app_v2, Api::desktop_v2})
    by_api[api_name(api)] = requests_by_api_[static_cast<std::size_t>(api)];
  o["requests_by_api"] = std::move(by_api);
  o["wrong_api_requests"] = wrong_api_requests_;
  json::object wrong_by_job;
  for (const auto& [id, job] : jobs_) {
    if (job.wrong_api_requests > 0) wrong_by_job[id] = job.wrong_api_requests;
  }
  o["wrong_api_by_job"] = std::move(wrong_by_job);
  o["by_status"] = std::move(by_status);
  o["faults_injected"] = faults_injected_;
  o["faults_by_kind"] = std::move(by_kind);
  o["faults_active"] = faults_.size();
  o["jobs"] = jobs_.size();
  o["clock_offset_s"] = seconds(clock_offset_);
  if (rate_gate_) {
    o["rate_limit"] = rate_gate_->rate();
    o["rate_limited"] = rate_gate_->refused();
  }
  if (iam_) {
    o["iam_tokens_issued"] = iam_->tokens_issued();
    o["iam_requests"] = iam_->requests();
  }
  return json_reply(200, o);
}

Reply Simulator::admin_clear_stats() {
  requests_total_ = 0;
  requests_by_api_ = {};
  wrong_api_requests_ = 0;
  by_status_.clear();
  faults_injected_ = 0;
  faults_by_kind_.clear();
  for (auto& [id, job] : jobs_) job.requests = job.wrong_api_requests = 0;
  if (rate_gate_) rate_gate_->clear_counters();
  if (iam_) iam_->clear_counters();
  log("counters cleared");
  return json_reply(200, json::object{{"cleared", true}});
}

Reply Simulator::admin_requests(std::string_view query) const {
  // The plain map stays the default: existing callers compare it whole.
  const bool detail = query == "detail=1" || query == "detail=true";
  json::object o;
  o.reserve(jobs_.size());
  for (const auto& [id, job] : jobs_) {
    if (!detail) {
      o[id] = job.requests;
      continue;
    }
    o[id] = json::object{{"api", api_name(job.api)},
                         {"requests", job.requests},
                         {"wrong_api_requests", job.wrong_api_requests}};
  }
  return json_reply(200, o);
}

Reply Simulator::admin_clock(std::string_view body, SimTime wall) {
  if (!body.empty()) {
    auto parsed = parse_body(body);
    if (auto* r = std::get_if<Reply>(&parsed)) return std::move(*r);
    const json::value& v = std::get<json::value>(parsed);
    const json::value* advance = v.is_object() ? v.get_object().if_contains("advance_s") : nullptr;
    const auto s = advance ? as_number(*advance) : std::nullopt;
    if (!s || *s < 0 || *s > 10.0 * 366 * 24 * 3600 || v.get_object().size() != 1) {
      return admin_error(400, "body must be {\"advance_s\": seconds >= 0}");
    }
    clock_offset_ += Millis{std::llround(*s * 1000.0)};
    std::ostringstream line;
    line << "clock advanced " << *s << " s (offset now " << seconds(clock_offset_) << " s)";
    log(line.str());
  }
  return json_reply(
      200, json::object{{"offset_s", seconds(clock_offset_)}, {"now", format_time(now(wall))}});
}

Reply Simulator::admin_iam_expire_all(SimTime wall) {
  if (!iam_) return admin_error(404, "IAM is not enabled (--iam-user …)");
  const std::size_t live = iam_->expire_all(wall);
  log("IAM: expired all tokens (" + std::to_string(live) + " were live)");
  return json_reply(200, json::object{{"expired", live}});
}

Reply Simulator::admin_reset() {
  const std::size_t jobs = jobs_.size();
  const std::size_t faults = faults_.size();
  jobs_.clear();
  faults_.clear();
  log("reset: " + std::to_string(jobs) + " job(s) and " + std::to_string(faults) +
      " fault(s) removed");
  return json_reply(200, json::object{{"jobs_removed", jobs}, {"faults_removed", faults}});
}

}  // namespace jobwatch::sim
