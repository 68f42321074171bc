// Argument parsing, the command table and help texts.
#include <algorithm>
#include <cstdio>
#include <optional>

#include "cli.hpp"

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
       "watch JOB_ID... [--project ID] [--label K=V]... [--deadline DUR]",
       "start watching jobs",
       "Starts watching the jobs. Re-watching a watched job changes nothing and\n"
       "says so (\"already watched JOB (status)\").\n"
       "  --project ID   the jobs' project (default: the daemon's api.project_id)\n"
       "  --label K=V    attach a label to the watch (repeatable, at most 32)\n"
       "  --deadline DUR give up (watch.abandoned, reason deadline) after DUR\n",
       {"--project", "--label", "--deadline"},
       run_watch},
      {"wait",
       "wait JOB_ID... [--project ID] [--timeout DUR]",
       "watch if needed, then wait until every job has ended",
       "Watches the jobs if needed, then blocks until every one has ended. On a\n"
       "terminal shows live progress, one line per job redrawn in place (status,\n"
       "subjobs done/total, time since wait started, time against the expected\n"
       "end); piped or on TERM=dumb, prints a plain line per change and a final\n"
       "line per job. NO_COLOR (any non-empty value) disables colours.\n"
       "  --project ID   the jobs' project (default: the daemon's api.project_id)\n"
       "  --timeout DUR  stop waiting after DUR (exit 124); the watches go on\n",
       {"--project", "--timeout"},
       run_wait},
      {"list",
       "list",
       "every watch",
       "Every watch: job, project, status, subjobs done/total, polls, next poll,\n"
       "expected end.\n",
       {},
       run_list},
      {"show",
       "show JOB_ID [--project ID]",
       "one watch with the last job detail seen",
       "One watch, with the last JobDetail the API returned.\n"
       "  --project ID   the job's project (default: the daemon's api.project_id)\n",
       {"--project"},
       run_show},
      {"cancel",
       "cancel JOB_ID... [--project ID]",
       "stop watching (no event is emitted)",
       "Stops watching the jobs; no event is emitted. Only root, the daemon's\n"
       "user or whoever started the watch may cancel it.\n"
       "  --project ID   the jobs' project (default: the daemon's api.project_id)\n",
       {"--project"},
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
  };
  return table;
}

void print_usage(std::FILE* out) {
  std::fprintf(out,
               "Usage: jobwatchctl [--socket PATH] [--json] COMMAND [ARGS...]\n\n"
               "Drives jobwatchd, the daemon that watches Huawei Cloud Workspace\n"
               "Application Streaming jobs.\n\nCommands:\n");
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

std::variant<ParsedArgs, std::string> parse_args(const std::vector<std::string>& args,
                                                 const std::vector<std::string_view>& value_options,
                                                 Globals& globals) {
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
