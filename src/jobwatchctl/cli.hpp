// jobwatchctl internals: exit codes, parsed arguments, the command table.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <cstdio>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace jobwatch::ctl {

namespace exit_code {
inline constexpr int ok = 0;
inline constexpr int job_failed = 1;
inline constexpr int abandoned = 2;
inline constexpr int usage = 64;
inline constexpr int rejected = 65;
inline constexpr int unavailable = 69;
inline constexpr int no_permission = 77;
inline constexpr int timeout = 124;
}  // namespace exit_code

struct Globals {
  std::string socket;
  bool json = false;
};

struct ParsedArgs {
  std::vector<std::string> positional;
  std::multimap<std::string, std::string, std::less<>> values;  // "--project" -> "p"
  std::set<std::string, std::less<>> flags;                     // "--trace"
  bool help = false;
  bool flag(std::string_view name) const { return flags.find(name) != flags.end(); }
  std::string value(std::string_view name) const {
    auto it = values.find(name);
    return it == values.end() ? std::string() : it->second;
  }
};

// Parses a command's arguments. `value_options` take a value ("--project"),
// `flag_options` none ("--trace"); --json, --socket and --help are
// understood everywhere. Returns a usage error message on failure.
std::variant<ParsedArgs, std::string> parse_args(
    const std::vector<std::string>& args, const std::vector<std::string_view>& value_options,
    Globals& globals, const std::vector<std::string_view>& flag_options = {});

struct Command {
  std::string_view name;
  std::string_view synopsis;  // "watch JOB_ID… [--project ID] …"
  std::string_view summary;   // one line for the command list
  std::string_view help;      // the rest of `jobwatchctl COMMAND --help`
  std::vector<std::string_view> value_options;
  int (*run)(const Globals&, const ParsedArgs&);
  std::vector<std::string_view> flag_options = {};
};

const std::vector<Command>& commands();
void print_usage(std::FILE* out);
void print_command_help(const Command& command);
int usage_error(std::string_view message, const Command* command = nullptr);

// Commands.
int run_watch(const Globals&, const ParsedArgs&);
int run_wait(const Globals&, const ParsedArgs&);
int run_list(const Globals&, const ParsedArgs&);
int run_show(const Globals&, const ParsedArgs&);
int run_cancel(const Globals&, const ParsedArgs&);
int run_follow(const Globals&, const ParsedArgs&);
int run_stats(const Globals&, const ParsedArgs&);
int run_timing(const Globals&, const ParsedArgs&);

// Builds `jobs: [{job_id, project_id?, api?}]`; empty strings are left out
// so that the daemon applies its defaults.
boost::json::array job_refs(const std::vector<std::string>& ids, const std::string& project,
                            const std::string& api = {});

// Checked locally so that a typo is a usage error (64) naming the valid
// APIs, not a round trip ending in the daemon's InvalidParameter (65).
// Returns the usage message when --api is given badly; nothing when it is
// absent or names a known API.
std::optional<std::string> api_problem(const ParsedArgs& args);

}  // namespace jobwatch::ctl
