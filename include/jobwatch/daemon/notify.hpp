// systemd's readiness protocol (sd_notify) and socket activation
// (sd_listen_fds). Both are no-ops when not run by systemd.
#pragma once

#include <string>

namespace jobwatch::daemon {

void notify_ready();
void notify_reloading();
void notify_stopping();
void notify_status(const std::string& status);

// The control socket systemd passed (LISTEN_FDS), or -1.
int inherited_control_socket();

}  // namespace jobwatch::daemon
