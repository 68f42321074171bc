// systemd's readiness protocol (sd_notify) and socket activation
// (sd_listen_fds). Both are no-ops when not run by systemd.
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace jobwatch::daemon {

void notify_ready();
void notify_reloading();
void notify_stopping();
void notify_status(const std::string& status);
void notify_watchdog();

// How often to send WATCHDOG=1 (half of WATCHDOG_USEC, so one late ping is
// not yet fatal), or nullopt when systemd's watchdog is off for this process.
std::optional<std::chrono::microseconds> watchdog_interval();

// The control socket systemd passed (LISTEN_FDS), or -1.
int inherited_control_socket();

}  // namespace jobwatch::daemon
