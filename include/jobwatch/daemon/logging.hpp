// Log set-up for jobwatchd: stderr, with journald's "<N>" priority prefixes
// when systemd captures the stream ($JOURNAL_STREAM), plain lines otherwise.
#pragma once

#include <string_view>

namespace jobwatch::daemon {

// Installs the default spdlog logger. `level` is trace|debug|info|warn|error.
void setup_logging(std::string_view level);
void set_log_level(std::string_view level);

}  // namespace jobwatch::daemon
