// Argument parsing, the command table and help texts.
#include <algorithm>
#include <cstdio>
#include <optional>

#include "cli.hpp"
#include "jobwatch/control/validation.hpp"
#include "jobwatch/model/api.hpp"

namespace jobwatch::ctl {

namespace {

constexpr const char* exit_status_help = R"(Exit status:
  0    success (wait: every job succeeded)
  1    a job failed
  2    a watch was abandoned
  124  wait timed out
  64   usage error
  65   the daemon rejected the request (invalid ID, not watched, limit, ...)
  69   the daemon is unreachable
  77   permission denied
For wait, when jobs end differently: 124 if any timed out, else 2 if any
was abandoned, else 1 if any failed, else 0.
)";

}  // namespace

const std::vector<Command>& commands() {
  static const std::vector<Command> table = {
      {"watch",
       "watch JOB_ID... [--project ID] [--api API] [--label K=V]... [--deadline DUR]",
       "start watching jobs",
       "Starts watching the jobs. Re-watching a watched job changes nothing and\n"
       "says so (\"already watched JOB (status)\").\n"
       "  --project ID   the jobs' project (default: the daemon's api.project_id)\n"
       "  --api API      the job API the IDs come from: app-v1, app-v2 or\n"
       "                 desktop-v2 (default: the daemon's api.default_api, app-v1\n"
       "                 unless configured; a watched job keeps its own, and\n"
       "                 naming another is rejected)\n"
       "  --label K=V    attach a label to the watch (repeatable, at most 32)\n"
       "  --deadline DUR give up (watch.abandoned, reason deadline) after DUR\n"
       "\n"
       "Job APIs:\n"
       "  app-v1      GET /v1/{project_id}/job/{job_id}, Application Streaming's\n"
       "              original job API (marked discarded upstream, still served)\n"
       "  app-v2      GET /v2/{project_id}/job/{job_id}, Application Streaming\n"
       "              ShowJobDetail: the IDs today's SDKs and Terraform return for\n"
       "              app servers\n"
       "  desktop-v2  GET /v2/{project_id}/workspace-jobs/{job_id}, Workspace\n"
       "              desktop jobs (createDesktops, ...)\n",
       {"--project", "--api", "--label", "--deadline"},
       run_watch},
      {"wait",
       "wait JOB_ID... [--project ID] [--api API] [--timeout DUR]",
       "watch if needed, then wait until every job has ended",
       "Watches the jobs if needed, then blocks until every one has ended. On a\n"
       "terminal shows live progress, one line per job redrawn in place (status,\n"
       "subjobs done/total, desktop-v2's percentage, time since wait started,\n"
       "time against the expected end, the job type); piped or on TERM=dumb,\n"
       "prints a plain line per change and a final line per job. NO_COLOR (any\n"
       "non-empty value) disables colours.\n"
       "  --project ID   the jobs' project (default: the daemon's api.project_id)\n"
       "  --api API      the job API the IDs come from: app-v1, app-v2 or\n"
       "                 desktop-v2 (default: the daemon's api.default_api, app-v1\n"
       "                 unless configured; a watched job keeps its own). See\n"
       "                 `jobwatchctl help watch`.\n"
       "  --timeout DUR  stop waiting after DUR (exit 124); the watches go on\n",
       {"--project", "--api", "--timeout"},
       run_wait},
      {"list",
       "list",
       "every watch",
       "Every watch: job, project, job API, status, subjobs done/total, polls,\n"
       "next poll, expected end (app-v1 only: the v2 APIs report none).\n",
       {},
       run_list},
      {"show",
       "show JOB_ID [--project ID] [--api API]",
       "one watch with the last job detail seen",
       "One watch: job, project, job API, job type, status, labels, subjobs\n"
       "done/total (and desktop-v2's progress), polls, expected end, last\n"
       "error; then the last job detail the API returned.\n"
       "  --project ID   the job's project (default: the daemon's api.project_id)\n"
       "  --api API      app-v1, app-v2 or desktop-v2: the watch must be in this API\n"
       "                 (default: whichever it is in)\n",
       {"--project", "--api"},
       run_show},
      {"cancel",
       "cancel JOB_ID... [--project ID] [--api API]",
       "stop watching (no event is emitted)",
       "Stops watching the jobs; no event is emitted. Only root, the daemon's\n"
       "user or whoever started the watch may cancel it.\n"
       "  --project ID   the jobs' project (default: the daemon's api.project_id)\n"
       "  --api API      app-v1, app-v2 or desktop-v2: the watches must be in this\n"
       "                 API (default: whichever they are in)\n",
       {"--project", "--api"},
       run_cancel},
      {"follow",
       "follow",
       "print events as they are emitted, until interrupted",
       "Prints every event as the daemon emits it, until interrupted. With\n"
       "--json, one event document per line.\n",
       {},
       run_follow},
      {"stats",
       "stats",
       "counters: watches, polls, events, queues, connections",
       "The daemon's counters: watches, polls by HTTP code, events by sink and\n"
       "state, queue depths, control connections.\n",
       {},
       run_stats},
      {"timing",
       "timing [--trace]",
       "what the daemon learned of how long jobs take",
       "One line per (api, project, job type) the daemon has seen jobs end in:\n"
       "how many, their duration (p10/p50/p90), where the end fell against\n"
       "the API's estimate (end / estimate; app-v1 only) and the ages since\n"
       "the job began that are polled at poll.target_delay (\"-\" until a few\n"
       "jobs are known). With --json, the Timing reply as it is.\n"
       "  --trace  instead, the jobs seen to end that the daemon still keeps\n"
       "           (state.retention) as a replay trace: JSON Lines, one job a\n"
       "           line, times in seconds from the trace's start (with or\n"
       "           without --json). `jobwatchctl timing --trace > mine.jsonl`\n"
       "           captures your workload for bench_policy --trace; the format\n"
       "           is in docs/TRACE-FORMAT.md.\n",
       {},
       run_timing,
       {"--trace"}},
  };
  return table;
}

void print_usage(std::FILE* out) {
  std::fprintf(out,
               "Usage: jobwatchctl [--socket PATH] [--json] COMMAND [ARGS...]\n\n"
               "Drives jobwatchd, the daemon that watches Huawei Cloud Workspace\n"
               "jobs: Application Streaming (--api app-v1, app-v2) and desktops\n"
               "(--api desktop-v2). Without --api a new watch uses the daemon's\n"
               "api.default_api, app-v1 unless configured.\n\nCommands:\n");
  for (const auto& command : commands()) {
    std::fprintf(out, "  %.*s\n      %.*s\n", static_cast<int>(command.synopsis.size()),
                 command.synopsis.data(), static_cast<int>(command.summary.size()),
                 command.summary.data());
  }
  std::fprintf(out,
               "  help [COMMAND]\n      this help, or one command's\n"
               "\nOptions:\n"
               "  --socket PATH  the control socket (default: $JOBWATCH_SOCKET, else\n"
               "                 /run/jobwatch/control.sock)\n"
               "  --json         machine-readable output: one JSON document (one per\n"
               "                 line for follow)\n"
               "  -h, --help     this help; `jobwatchctl COMMAND --help` (or `help\n"
               "                 COMMAND`) for a command\n"
               "  --version      print the version\n\n"
               "Durations: 500ms, 30s, 5m, 2h, 1d, or combined such as 1h30m.\n\n%s",
               exit_status_help);
}

void print_command_help(const Command& command) {
  std::printf("Usage: jobwatchctl [--socket PATH] [--json] %.*s\n\n%.*s\n%s",
              static_cast<int>(command.synopsis.size()), command.synopsis.data(),
              static_cast<int>(command.help.size()), command.help.data(), exit_status_help);
}

int usage_error(std::string_view message, const Command* command) {
  std::fprintf(stderr, "jobwatchctl: %.*s\n", static_cast<int>(message.size()), message.data());
  if (command != nullptr) {
    std::fprintf(stderr, "Usage: jobwatchctl %.*s\n", static_cast<int>(command->synopsis.size()),
                 command->synopsis.data());
  } else {
    std::fprintf(stderr, "Try 'jobwatchctl --help'.\n");
  }
  return exit_code::usage;
}

std::optional<std::string> api_problem(const ParsedArgs& args) {
  const auto count = args.values.count("--api");
  if (count == 0) return std::nullopt;
  if (count > 1) return "--api given more than once";
  const std::string api = args.value("--api");
  if (model::api_from_name(api)) return std::nullopt;
  return "--api: unknown job API '" + control::escape_for_display(api, 100) +
         "' (valid: " + model::api_names() + ")";
}

std::variant<ParsedArgs, std::string> parse_args(
    const std::vector<std::string>& args, const std::vector<std::string_view>& value_options,
    Globals& globals, const std::vector<std::string_view>& flag_options) {
  ParsedArgs parsed;
  bool options_done = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (options_done || arg.size() < 2 || arg[0] != '-') {
      parsed.positional.push_back(arg);
      continue;
    }
    if (arg == "--") {
      options_done = true;
      continue;
    }
    if (arg == "--help" || arg == "-h") {
      parsed.help = true;
      continue;
    }
    if (arg == "--json") {
      globals.json = true;
      continue;
    }
    if (std::find(flag_options.begin(), flag_options.end(), arg) != flag_options.end()) {
      parsed.flags.insert(arg);
      continue;
    }
    std::string name = arg;
    std::optional<std::string> value;
    if (auto eq = arg.find('='); eq != std::string::npos && arg.starts_with("--")) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
    }
    const bool is_socket = name == "--socket";
    const bool known = is_socket || std::find(value_options.begin(), value_options.end(), name) !=
                                        value_options.end();
    if (!known) return "unknown option " + name;
    if (!value) {
      if (i + 1 >= args.size()) return name + " needs a value";
      value = args[++i];
    }
    if (is_socket) {
      globals.socket = *value;
    } else {
      parsed.values.emplace(name, *value);
    }
  }
  return parsed;
}

}  // namespace jobwatch::ctl
