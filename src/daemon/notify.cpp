#include "jobwatch/daemon/notify.hpp"

#include <systemd/sd-daemon.h>

#include <algorithm>
#include <cstdint>

namespace jobwatch::daemon {

void notify_ready() {
  sd_notify(0, "READY=1");
}

void notify_reloading() {
  sd_notify(0, "RELOADING=1");
}

void notify_stopping() {
  sd_notify(0, "STOPPING=1");
}

void notify_status(const std::string& status) {
  sd_notify(0, ("STATUS=" + status).c_str());
}

void notify_watchdog() {
  sd_notify(0, "WATCHDOG=1");
}

std::optional<std::chrono::microseconds> watchdog_interval() {
  std::uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return std::nullopt;
  return std::chrono::microseconds(std::max<std::uint64_t>(usec / 2, 1));
}

int inherited_control_socket() {
  const int count = sd_listen_fds(1);
  if (count < 1) return -1;
  for (int fd = SD_LISTEN_FDS_START; fd < SD_LISTEN_FDS_START + count; ++fd)
    if (sd_is_socket_unix(fd, SOCK_STREAM, 1, nullptr, 0) > 0) return fd;
  return -1;
}

}  // namespace jobwatch::daemon
