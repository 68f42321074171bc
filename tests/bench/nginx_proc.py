"""nginx-light on loopback for the benchmarks: started from a config text in
a work directory, waited for until it accepts, stopped by the caller
(harness.stop_process). Used as the API server of bench_poll_path and as a
webhook receiver in bench_delivery."""

import os
import shutil
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import harness as h  # noqa: E402

DEFAULT_NGINX = shutil.which("nginx") or "/usr/sbin/nginx"

# One worker in the foreground, its pid and errors in `dir`; a config goes
# on with the rest of its http block.
HEAD = """worker_processes 1;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
  keepalive_requests 100000000;
  keepalive_timeout 300s;
"""

# Everything nginx would write outside `dir` goes into it.
TEMP_PATHS = """  client_body_temp_path {dir}/tmp;
  proxy_temp_path {dir}/tmp;
  fastcgi_temp_path {dir}/tmp;
  uwsgi_temp_path {dir}/tmp;
  scgi_temp_path {dir}/tmp;
"""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(nginx: str, workdir: str, conf_text: str, port: int) -> subprocess.Popen:
    os.makedirs(os.path.join(workdir, "tmp"), exist_ok=True)
    conf = os.path.join(workdir, "nginx.conf")
    with open(conf, "w") as f:
        f.write(conf_text)
    proc = h.spawn([nginx, "-p", workdir, "-c", conf, "-e", os.path.join(workdir, "nginx-error.log")],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def up():
        if proc.poll() is not None:
            raise h.HarnessError(f"nginx exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        except OSError:
            return False

    h.wait_until(up, 10, interval=0.05, what="nginx")
    return proc


RECEIVER_CONF = HEAD + """  log_format hook '$msec $status $http_webhook_id';
  access_log {dir}/hook.log hook;
  client_body_buffer_size 1m;
""" + TEMP_PATHS + """  server {{
    listen 127.0.0.1:{port};
    location / {{ return 204; }}
  }}
}}
"""


class NginxReceiver:
    """A webhook receiver in C: nginx answers every POST 204 on keep-alive
    connections and logs (time, status, webhook-id) per request, so that the
    daemon's sending rate is measured rather than a Python server's. The
    same accepted_count()/snapshot() as durability.PhasedReceiver; times
    are on time.monotonic()'s scale."""

    def __init__(self, workdir: str, nginx: str = DEFAULT_NGINX):
        self.dir = os.path.join(workdir, "nginx-receiver")
        os.makedirs(self.dir, exist_ok=True)
        self.port = free_port()
        self.secret = h.new_webhook_secret()
        self.proc = None
        self.nginx = nginx
        self._records = []
        self._offset = 0
        self._partial = b""
        # $msec is wall time; the benchmark times on the monotonic clock.
        self._wall_to_mono = time.time() - time.monotonic()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def listen(self) -> "NginxReceiver":
        self.proc = start(self.nginx, self.dir, RECEIVER_CONF.format(dir=self.dir, port=self.port),
                          self.port)
        return self

    def _read(self) -> None:
        path = os.path.join(self.dir, "hook.log")
        if not os.path.exists(path):
            return
        with open(path, "rb") as f:
            f.seek(self._offset)
            data = f.read()
        self._offset += len(data)
        data = self._partial + data
        lines = data.split(b"\n")
        self._partial = lines.pop()
        for line in lines:
            msec, status, event_id = line.decode().split(" ", 2)
            if status == "204":
                self._records.append({"id": event_id, "received": float(msec) - self._wall_to_mono})

    def accepted_count(self) -> int:
        self._read()
        return len(self._records)

    def snapshot(self) -> list:
        self._read()
        return list(self._records)

    def stop(self) -> None:
        if self.proc is not None:
            h.stop_process(self.proc)
            self.proc = None

