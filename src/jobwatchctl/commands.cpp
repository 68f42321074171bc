// The one-call commands: watch, list, show, cancel, stats, follow.
#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>
#include <cstdio>

#include "cli.hpp"
#include "client.hpp"
#include "jobwatch/config/duration.hpp"
#include "output.hpp"

namespace jobwatch::ctl {

namespace json = boost::json;

namespace {

const Command& command_named(std::string_view name) {
  for (const auto& c : commands()) {
    if (c.name == name) return c;
  }
  return commands().front();
}

// The parameters of a one-call command, or the exit code.
using Outcome = std::variant<json::object, int>;

Outcome run_call(const Globals& globals, std::string method, json::object params = {}) {
  return call_once(globals, control::Call{std::move(method), std::move(params), false, false});
}

void print_tree(const json::object& object, int depth) {
  const std::string pad(static_cast<std::size_t>(depth) * 2, ' ');
  for (const auto& entry : object) {
    const std::string key = field(json::object{{"k", entry.key()}}, "k");
    if (const auto* child = entry.value().if_object()) {
      std::printf("%s%s:\n", pad.c_str(), key.c_str());
      print_tree(*child, depth + 1);
    } else {
      std::printf("%s%s: %s\n", pad.c_str(), key.c_str(), field(object, entry.key()).c_str());
    }
  }
}

std::string labels_text(const json::object& watch) {
  const auto* labels = watch.if_contains("labels");
  if (labels == nullptr || !labels->is_object() || labels->get_object().empty()) return "-";
  std::string out;
  for (const auto& entry : labels->get_object()) {
    if (!out.empty()) out += ", ";
    out += field(json::object{{"k", entry.key()}}, "k") + "=" +
           field(labels->get_object(), entry.key());
  }
  return out;
}

// The v2 APIs have no expected_end_time: say so rather than leave a bare "-"
// that reads as "not known yet".
std::string expected_end_text(const json::object& watch) {
  if (watch.contains("expected_end_time")) return field(watch, "expected_end_time");
  const std::string api = field(watch, "api", "");
  if (!api.empty() && api != "app-v1") return "- (" + api + " reports none)";
  return "-";
}

// SPEC §7: the learned model's view, the median first.
std::optional<std::string> predicted_end_text(const json::object& watch) {
  const auto* predicted = watch.if_contains("predicted_end");
  if (!predicted || !predicted->is_object()) return std::nullopt;
  const json::object& p = predicted->get_object();
  return field(p, "p50") + " (p10 " + field(p, "p10") + " \u2013 p90 " + field(p, "p90") + ")";
}

}  // namespace

json::array job_refs(const std::vector<std::string>& ids, const std::string& project,
                     const std::string& api) {
  json::array jobs;
  for (const auto& id : ids) {
    json::object job{{"job_id", id}};
    if (!project.empty()) job["project_id"] = project;
    if (!api.empty()) job["api"] = api;
    jobs.push_back(std::move(job));
  }
  return jobs;
}

int run_watch(const Globals& globals, const ParsedArgs& args) {
  const Command& self = command_named("watch");
  if (args.positional.empty()) return usage_error("watch needs at least one JOB_ID", &self);
  if (auto problem = api_problem(args)) return usage_error(*problem, &self);
  json::object params{
      {"jobs", job_refs(args.positional, args.value("--project"), args.value("--api"))}};
  json::object labels;
  for (auto [it, end] = args.values.equal_range("--label"); it != end; ++it) {
    const auto eq = it->second.find('=');
    if (eq == std::string::npos || eq == 0) return usage_error("--label needs KEY=VALUE", &self);
    labels[it->second.substr(0, eq)] = it->second.substr(eq + 1);
  }
  if (!labels.empty()) params["labels"] = std::move(labels);
  if (args.values.contains("--deadline")) {
    const auto deadline = config::parse_duration(args.value("--deadline"));
    if (!deadline || deadline->count() <= 0) {
      return usage_error("--deadline: not a positive duration (500ms, 30s, 5m, 2h, 1d)", &self);
    }
    params["deadline_s"] = static_cast<double>(deadline->count()) / 1000.0;
  }
  auto result = run_call(globals, "io.jobwatch.Watch", std::move(params));
  if (auto* code = std::get_if<int>(&result)) return *code;
  const auto& reply = std::get<json::object>(result);
  if (globals.json) {
    print_json(reply);
    return exit_code::ok;
  }
  if (const auto* watches = reply.if_contains("watches"); watches && watches->is_array()) {
    for (const auto& w : watches->get_array()) {
      if (!w.is_object()) continue;
      const auto& watch = w.get_object();
      const auto* created = watch.if_contains("created");
      if (created && created->is_bool() && created->get_bool()) {
        std::printf("watching %s\n", field(watch, "job_id").c_str());
      } else {
        std::printf("already watched %s (%s)\n", field(watch, "job_id").c_str(),
                    field(watch, "status").c_str());
      }
    }
  }
  return exit_code::ok;
}

int run_list(const Globals& globals, const ParsedArgs& args) {
  if (!args.positional.empty())
    return usage_error("list takes no arguments", &command_named("list"));
  auto result = run_call(globals, "io.jobwatch.List");
  if (auto* code = std::get_if<int>(&result)) return *code;
  const auto& reply = std::get<json::object>(result);
  if (globals.json) {
    print_json(reply);
    return exit_code::ok;
  }
  std::vector<std::vector<std::string>> rows = {
      {"JOB", "PROJECT", "API", "STATUS", "SUBJOBS", "POLLS", "NEXT-POLL", "EXPECTED-END"}};
  if (const auto* watches = reply.if_contains("watches"); watches && watches->is_array()) {
    for (const auto& w : watches->get_array()) {
      if (!w.is_object()) continue;
      const auto& watch = w.get_object();
      const auto* next = watch.if_contains("next_poll_at");
      rows.push_back(
          {field(watch, "job_id"), field(watch, "project_id"), field(watch, "api"),
           field(watch, "status"),
           number_field(watch, "subjobs_done") + "/" + number_field(watch, "subjobs_total"),
           number_field(watch, "polls"),
           next && next->is_string() ? relative_time(next->get_string()) : "-",
           field(watch, "expected_end_time")});
    }
  }
  print_table(rows);
  return exit_code::ok;
}

int run_show(const Globals& globals, const ParsedArgs& args) {
  const Command& self = command_named("show");
  if (args.positional.size() != 1) return usage_error("show needs one JOB_ID", &self);
  if (auto problem = api_problem(args)) return usage_error(*problem, &self);
  json::object params{{"job_id", args.positional[0]}};
  if (auto project = args.value("--project"); !project.empty()) params["project_id"] = project;
  if (auto api = args.value("--api"); !api.empty()) params["api"] = api;
  auto result = run_call(globals, "io.jobwatch.Show", std::move(params));
  if (auto* code = std::get_if<int>(&result)) return *code;
  const auto& reply = std::get<json::object>(result);
  if (globals.json) {
    print_json(reply);
    return exit_code::ok;
  }
  const auto* w = reply.if_contains("watch");
  const json::object watch = w && w->is_object() ? w->get_object() : json::object{};
  const auto* next = watch.if_contains("next_poll_at");
  std::vector<std::vector<std::string>> rows = {
      {"job:", field(watch, "job_id")},
      {"project:", field(watch, "project_id")},
      {"api:", field(watch, "api")},
      {"job type:", field(watch, "job_type")},
      {"status:", field(watch, "status") +
                      (watch.contains("reason") ? " (" + field(watch, "reason") + ")" : "")},
      {"labels:", labels_text(watch)},
      {"subjobs:",
       number_field(watch, "subjobs_done") + "/" + number_field(watch, "subjobs_total") + " done"},
      {"polls:", number_field(watch, "polls")},
      {"last poll:", field(watch, "last_poll_at")},
      {"next poll:", next && next->is_string() ? field(watch, "next_poll_at") + " (" +
                                                     relative_time(next->get_string()) + ")"
                                               : "-"},
      {"expected end:", expected_end_text(watch)},
      {"last error:", field(watch, "last_error")},
  };
  if (auto predicted = predicted_end_text(watch)) {
    auto expected = std::find_if(rows.begin(), rows.end(),
                                 [](const auto& row) { return row.front() == "expected end:"; });
    rows.insert(expected + 1, std::vector<std::string>{"predicted end:", *predicted});
  }
  // Only desktop-v2 reports a percentage (its subjobs' mean `process`); a
  // "progress: -" line for the others would suggest it is merely not known yet.
  if (watch.contains("progress")) {
    auto subjobs = std::find_if(rows.begin(), rows.end(),
                                [](const auto& row) { return row.front() == "subjobs:"; });
    rows.insert(subjobs + 1,
                std::vector<std::string>{"progress:", number_field(watch, "progress") + "%"});
  }
  print_table(rows);
  if (const auto* job = reply.if_contains("job"); job && !job->is_null()) {
    // The detail as the API sent it; JSON escaping keeps control characters out.
    std::printf("last job detail:\n%s\n", pretty_json(*job).c_str());
  } else {
    std::printf("last job detail: - (no answer yet)\n");
  }
  return exit_code::ok;
}

int run_cancel(const Globals& globals, const ParsedArgs& args) {
  const Command& self = command_named("cancel");
  if (args.positional.empty()) return usage_error("cancel needs at least one JOB_ID", &self);
  if (auto problem = api_problem(args)) return usage_error(*problem, &self);
  auto result = run_call(globals, "io.jobwatch.Cancel",
                         json::object{{"jobs", job_refs(args.positional, args.value("--project"),
                                                        args.value("--api"))}});
  if (auto* code = std::get_if<int>(&result)) return *code;
  const auto& reply = std::get<json::object>(result);
  if (globals.json) {
    print_json(reply);
    return exit_code::ok;
  }
  if (const auto* cancelled = reply.if_contains("cancelled"); cancelled && cancelled->is_array()) {
    for (const auto& job : cancelled->get_array()) {
      if (job.is_object()) std::printf("cancelled %s\n", field(job.get_object(), "job_id").c_str());
    }
  }
  return exit_code::ok;
}

int run_stats(const Globals& globals, const ParsedArgs& args) {
  if (!args.positional.empty())
    return usage_error("stats takes no arguments", &command_named("stats"));
  auto result = run_call(globals, "io.jobwatch.Stats");
  if (auto* code = std::get_if<int>(&result)) return *code;
  const auto& reply = std::get<json::object>(result);
  if (globals.json) {
    print_json(reply);
  } else {
    print_tree(reply, 0);
  }
  return exit_code::ok;
}

int run_follow(const Globals& globals, const ParsedArgs& args) {
  if (!args.positional.empty())
    return usage_error("follow takes no arguments", &command_named("follow"));
  auto opened = open_client(globals);
  if (auto* code = std::get_if<int>(&opened)) return *code;
  auto& client = std::get<Client>(opened);
  if (auto failure = client.send(control::Call{"io.jobwatch.Follow", {}, true, false})) {
    return report(*failure);
  }
  for (;;) {
    auto received = client.receive();
    if (auto* failure = std::get_if<Failure>(&received)) return report(*failure);
    const auto* reply = std::get_if<control::Reply>(&received);
    if (reply == nullptr) continue;
    if (!reply->error.empty()) return report(describe_error(*reply));
    const auto* e = reply->parameters.if_contains("event");
    if (e != nullptr && e->is_object()) {
      const auto& event = e->get_object();
      if (globals.json) {
        std::printf("%s\n", json::serialize(event).c_str());
      } else {
        const auto* d = event.if_contains("data");
        const json::object data = d && d->is_object() ? d->get_object() : json::object{};
        std::string where = field(data, "project_id") + "/" + field(data, "job_id");
        if (data.contains("subjob_id")) where += "/" + field(data, "subjob_id");
        std::string type = field(event, "type");
        type.resize(std::max<std::size_t>(type.size(), 16), ' ');
        std::string line = field(event, "timestamp") + "  " + type + "  " + where;
        if (const auto status = field(data, "status", ""); !status.empty()) line += "  " + status;
        if (data.contains("reason")) line += " (" + field(data, "reason") + ")";
        if (data.contains("error_code")) {
          line += "  " + field(data, "error_code") + ": " + field(data, "error_msg", "");
        }
        if (data.contains("execute_code") || data.contains("execute_message")) {
          line +=
              "  " + field(data, "execute_code", "") + ": " + field(data, "execute_message", "");
        }
        std::printf("%s\n", line.c_str());
      }
      std::fflush(stdout);
    }
    if (!reply->continues) return exit_code::ok;
  }
}

}  // namespace jobwatch::ctl
