"""systemd notification protocol without systemd (SPEC §2 "Under systemd"):
the test binds the NOTIFY_SOCKET datagram socket itself and checks what
jobwatchd sends: READY=1 only once the control socket accepts, a STATUS=
summary, WATCHDOG=1 at half of WATCHDOG_USEC (none when it is unset),
RELOADING=1 then READY=1 around SIGHUP, STOPPING=1 on SIGTERM, exit 0.
"""

import os
import signal
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

WATCHDOG_USEC = 400_000  # pings expected every 200 ms
WAIT_S = 10  # a hang guard, not a speed assertion
# Nothing listens here: with no watches the daemon never calls upstream.
UNUSED_ENDPOINT = f"http://{h.LOOPBACK}:9"


class Notifications:
    """The receiving end of NOTIFY_SOCKET: every datagram's lines, in order."""

    def __init__(self, path: str):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.lines: list[str] = []

    def close(self):
        self.sock.close()

    def _receive(self, timeout: float) -> list[str]:
        self.sock.settimeout(max(timeout, 0.001))
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            return []
        new = data.decode("utf-8", "replace").splitlines()
        self.lines.extend(new)
        return new

    def wait_for(self, wanted: str, timeout: float = WAIT_S) -> None:
        """Returns as soon as a line equal to wanted (or starting with it, for
        a `KEY=` prefix) arrives; older lines do not count."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no {wanted!r} within {timeout}s; got {self.lines[-20:]}")
            for line in self._receive(remaining):
                if line == wanted or (wanted.endswith("=") and line.startswith(wanted)):
                    return

    def collect(self, seconds: float) -> list[str]:
        """Every line that arrives during the next `seconds`."""
        got: list[str] = []
        deadline = time.monotonic() + seconds
        while (remaining := deadline - time.monotonic()) > 0:
            got.extend(self._receive(remaining))
        return got


class NotifyTest(unittest.TestCase):
    def setUp(self):
        self.tmp = h.temp_workdir("notify")
        self.workdir = self.tmp.name
        self.daemon = h.Daemon(self.workdir, UNUSED_ENDPOINT)
        self.daemon.write_config()
        self.notes = Notifications(os.path.join(self.workdir, "notify.sock"))
        self.log = open(self.daemon.log_path, "ab")
        self.proc = None

    def tearDown(self):
        if self.proc is not None:
            h.stop_process(self.proc, signal.SIGKILL, 5)
        self.log.close()
        self.notes.close()
        self.tmp.cleanup()

    def start(self, watchdog_usec: int | None):
        env = dict(os.environ)
        env["NOTIFY_SOCKET"] = self.notes.path
        # sd_watchdog_enabled also checks WATCHDOG_PID when set; leave it out.
        env.pop("WATCHDOG_PID", None)
        env.pop("WATCHDOG_USEC", None)
        for name in ("LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES"):
            env.pop(name, None)
        if watchdog_usec is not None:
            env["WATCHDOG_USEC"] = str(watchdog_usec)
        self.proc = h.spawn([h.jobwatchd(), "--config", self.daemon.config_path],
                            stdout=self.log, stderr=self.log, env=env)

    def connect_control(self):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(2)
            s.connect(self.daemon.socket_path)

    def wait_ready(self):
        with h.logs_on_failure(self.daemon):
            self.notes.wait_for("READY=1")
        # Right when READY=1 arrives the control socket must already accept.
        self.connect_control()

    def stop_and_expect_clean_exit(self):
        self.proc.send_signal(signal.SIGTERM)
        self.notes.wait_for("STOPPING=1")
        code = self.proc.wait(15)
        self.proc = None
        self.assertEqual(code, 0, self.daemon.log_tail())

    def test_lifecycle_with_watchdog(self):
        self.start(WATCHDOG_USEC)
        self.wait_ready()
        window = self.notes.collect(1.5)
        pings = window.count("WATCHDOG=1")
        self.assertGreaterEqual(pings, 3, f"WATCHDOG=1 in 1.5 s at a 200 ms period: {window}")
        statuses = [line for line in self.notes.lines if line.startswith("STATUS=")]
        self.assertTrue(any("watching" in s for s in statuses), self.notes.lines[:20])

        self.proc.send_signal(signal.SIGHUP)
        self.notes.wait_for("RELOADING=1")
        self.notes.wait_for("READY=1")
        self.connect_control()
        self.assertTrue(self.notes.collect(0.6).count("WATCHDOG=1") >= 1,
                        "watchdog pings continue after a reload")

        self.stop_and_expect_clean_exit()

    def test_no_watchdog_without_watchdog_usec(self):
        self.start(None)
        self.wait_ready()
        self.notes.collect(1.0)
        self.assertTrue(any(line.startswith("STATUS=watching") for line in self.notes.lines),
                        self.notes.lines)
        self.stop_and_expect_clean_exit()
        self.notes.collect(0.1)
        self.assertNotIn("WATCHDOG=1", self.notes.lines)


if __name__ == "__main__":
    unittest.main(verbosity=2)
