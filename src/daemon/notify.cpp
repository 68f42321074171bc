#include "jobwatch/daemon/notify.hpp"

#include <systemd/sd-daemon.h>

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

int inherited_control_socket() {
  const int count = sd_listen_fds(1);
  if (count < 1) return -1;
  for (int fd = SD_LISTEN_FDS_START; fd < SD_LISTEN_FDS_START + count; ++fd)
    if (sd_is_socket_unix(fd, SOCK_STREAM, 1, nullptr, 0) > 0) return fd;
  return -1;
}

}  // namespace jobwatch::daemon
