// jobwatchctl timing: what the daemon has learned of how long jobs take
// (SPEC §7), one line per (api, project, job type); with --trace, the jobs it
// learned from as a replay trace.
#include <boost/json/array.hpp>
#include <cmath>
#include <cstdio>

#include "cli.hpp"
#include "client.hpp"
#include "output.hpp"

namespace jobwatch::ctl {

namespace json = boost::json;

namespace {

double number(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (v == nullptr || !v->is_number()) return NAN;
  return v->to_number<double>();
}

// Seconds as the rest of jobwatchctl shows durations: "42s", "1m30s"; "-"
// for a missing value.
std::string seconds_text(double s) {
  if (!std::isfinite(s)) return "-";
  if (s < 10) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1fs", s);
    return buf;
  }
  return short_duration(std::chrono::seconds(std::llround(s)));
}

std::string quantiles_text(const json::value* q, bool ratio) {
  if (q == nullptr || !q->is_object()) return "-";
  const json::object& o = q->get_object();
  std::string out;
  for (const char* p : {"p10", "p50", "p90"}) {
    if (!out.empty()) out += "/";
    if (ratio) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.2fx", number(o, p));
      out += buf;
    } else {
      out += seconds_text(number(o, p));
    }
  }
  return out;
}

// The replay trace as JSON Lines, one job a line (docs/TRACE-FORMAT.md), with
// or without --json: it is meant to be redirected into a file.
int print_trace(const json::object& reply) {
  const auto* jobs = reply.if_contains("jobs");
  if (jobs == nullptr || !jobs->is_array()) {
    std::fprintf(stderr, "jobwatchctl: the daemon sent no trace (is it older than this tool?)\n");
    return exit_code::rejected;
  }
  for (const auto& job : jobs->get_array()) std::printf("%s\n", compact_json(job).c_str());
  return exit_code::ok;
}

}  // namespace

int run_timing(const Globals& globals, const ParsedArgs& args) {
  if (!args.positional.empty()) {
    for (const auto& c : commands())
      if (c.name == "timing") return usage_error("timing takes no arguments", &c);
  }
  const bool trace = args.flag("--trace");
  json::object params;
  if (trace) params["trace"] = true;
  auto result =
      call_once(globals, control::Call{"io.jobwatch.Timing", std::move(params), false, false});
  if (auto* code = std::get_if<int>(&result)) return *code;
  const auto& reply = std::get<json::object>(result);
  if (trace) return print_trace(reply);
  if (globals.json) {
    print_json(reply);
    return exit_code::ok;
  }
  const auto* models = reply.if_contains("models");
  if (models == nullptr || !models->is_array() || models->get_array().empty()) {
    std::printf("no timing learned yet: no watched job has been seen to end\n");
    return exit_code::ok;
  }
  std::vector<std::vector<std::string>> rows = {{"API", "PROJECT", "JOB TYPE", "JOBS",
                                                 "DURATION p10/p50/p90", "END/ESTIMATE p10/p50/p90",
                                                 "POLLED CLOSELY"}};
  for (const auto& m : models->get_array()) {
    if (!m.is_object()) continue;
    const json::object& o = m.get_object();
    std::string window = "-";
    if (const auto* w = o.if_contains("window"); w && w->is_object()) {
      window = seconds_text(number(w->get_object(), "from_s")) + "-" +
               seconds_text(number(w->get_object(), "to_s"));
    }
    rows.push_back({field(o, "api"), field(o, "project_id"), field(o, "job_type", "-"),
                    number_field(o, "jobs"), quantiles_text(o.if_contains("duration_s"), false),
                    quantiles_text(o.if_contains("estimate_error"), true), window});
  }
  print_table(rows);
  return exit_code::ok;
}

}  // namespace jobwatch::ctl
