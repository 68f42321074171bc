// jobwatchctl: drives jobwatchd over its control socket (SPEC §2).
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "cli.hpp"

#ifndef JOBWATCH_VERSION
#define JOBWATCH_VERSION "0.0.0"
#endif

using namespace jobwatch::ctl;

namespace {

const Command* command_named(std::string_view name) {
  for (const auto& c : commands()) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

// `help [COMMAND]`, and `--help COMMAND` before the command.
int help(const char* name) {
  if (name == nullptr) {
    print_usage(stdout);
    return exit_code::ok;
  }
  const Command* command = command_named(name);
  if (command == nullptr) return usage_error(std::string("unknown command '") + name + "'");
  print_command_help(*command);
  return exit_code::ok;
}

}  // namespace

int main(int argc, char** argv) {
  Globals globals;
  if (const char* env = std::getenv("JOBWATCH_SOCKET"); env != nullptr && *env != '\0') {
    globals.socket = env;
  } else {
    globals.socket = "/run/jobwatch/control.sock";
  }

  // Global options come before the command (and are accepted after it too).
  int i = 1;
  for (; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      for (int j = i + 1; j < argc; ++j) {
        if (argv[j][0] != '-') return help(command_named(argv[j]) ? argv[j] : nullptr);
      }
      return help(nullptr);
    }
    if (arg == "--version") {
      std::printf("jobwatchctl %s\n", JOBWATCH_VERSION);
      return exit_code::ok;
    }
    if (arg == "--json") {
      globals.json = true;
    } else if (arg == "--socket") {
      if (i + 1 >= argc) return usage_error("--socket needs a value");
      globals.socket = argv[++i];
    } else if (arg.starts_with("--socket=")) {
      globals.socket = arg.substr(9);
    } else if (arg.starts_with("-")) {
      return usage_error("unknown option " + arg);
    } else {
      break;
    }
  }
  if (i >= argc) return usage_error("no command given");

  const std::string name = argv[i];
  if (name == "help") {
    const char* topic = nullptr;
    for (int j = i + 1; j < argc; ++j) {
      if (argv[j][0] == '-') continue;  // --json and the like change nothing here
      if (topic != nullptr) return usage_error("help takes at most one COMMAND");
      topic = argv[j];
    }
    return help(topic);
  }
  const Command* command = command_named(name);
  if (command == nullptr) return usage_error("unknown command '" + name + "'");

  const std::vector<std::string> rest(argv + i + 1, argv + argc);
  auto parsed = parse_args(rest, command->value_options, globals, command->flag_options);
  if (auto* error = std::get_if<std::string>(&parsed)) return usage_error(*error, command);
  const auto& args = std::get<ParsedArgs>(parsed);
  if (args.help) {
    print_command_help(*command);
    return exit_code::ok;
  }
  return command->run(globals, args);
}
