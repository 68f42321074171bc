// jobwatchd as a whole: loads the config, wires the upstream client, the
// engine, the sinks and the control server onto one event loop, and handles
// signals. main() only parses flags and calls these.
#pragma once

#include <string>

namespace jobwatch::daemon {

// SPEC §2 exit statuses of jobwatchd.
inline constexpr int exit_ok = 0;
inline constexpr int exit_failure = 1;
inline constexpr int exit_unavailable = 69;  // cannot bind/open what it needs
inline constexpr int exit_config = 78;       // bad config

// `jobwatchd --check-config`: prints each problem as FILE:LINE:COL: message.
int check_config(const std::string& config_path);

// Runs in the foreground until SIGTERM/SIGINT; returns the exit status.
int run(const std::string& config_path);

}  // namespace jobwatch::daemon
