// jobwatchd: parse flags, then hand over to the daemon module.
#include <cstdio>
#include <cstring>
#include <string>

#include "jobwatch/daemon/daemon.hpp"

namespace {

constexpr const char* default_config = "/etc/jobwatch/jobwatch.yaml";

void print_help() {
  std::printf(
      "Usage: jobwatchd [--config FILE] [--check-config]\n"
      "\n"
      "Watches Huawei Cloud Workspace Application Streaming jobs and delivers\n"
      "their terminal transitions to the configured sinks. Runs in the foreground;\n"
      "drive it with jobwatchctl over the control socket.\n"
      "\n"
      "  --config FILE    configuration file (default %s)\n"
      "  --check-config   validate the configuration and exit: 0 when valid, 78\n"
      "                   with each problem as FILE:LINE:COL: message otherwise\n"
      "  --version        print the version and exit\n"
      "  --help           print this help and exit\n"
      "\n"
      "Signals: SIGTERM/SIGINT stop (exit 0), SIGHUP reloads the configuration\n"
      "and reopens file sinks. Exit status: 0 normal, 78 bad config, 69 cannot\n"
      "bind or open what it needs, 1 anything else.\n",
      default_config);
}

}  // namespace

int main(int argc, char** argv) {
  std::string config_path = default_config;
  bool check_only = false;
  for (int i = 1; i < argc; ++i) {
    const char* arg = argv[i];
    if (std::strcmp(arg, "--help") == 0 || std::strcmp(arg, "-h") == 0) {
      print_help();
      return 0;
    }
    if (std::strcmp(arg, "--version") == 0) {
      std::printf("jobwatchd %s\n", JOBWATCH_VERSION);
      return 0;
    }
    if (std::strcmp(arg, "--check-config") == 0) {
      check_only = true;
    } else if (std::strcmp(arg, "--config") == 0 && i + 1 < argc) {
      config_path = argv[++i];
    } else if (std::strncmp(arg, "--config=", 9) == 0) {
      config_path = arg + 9;
    } else {
      std::fprintf(stderr, "jobwatchd: unknown argument '%s' (see --help)\n", arg);
      return 1;
    }
  }
  return check_only ? jobwatch::daemon::check_config(config_path)
                    : jobwatch::daemon::run(config_path);
}
