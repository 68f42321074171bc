"""Hostile and broken input on the control socket (SPEC §3): every bad
message gets the specified error (or a close), other clients keep being
served, idle connections are closed after control.idle_timeout, and the
daemon survives all of it.
"""

import json
import os
import socket
import stat
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

IDLE_TIMEOUT_S = 2  # control.idle_timeout in the harness config
REPLY_TIMEOUT_S = 5  # a hang guard, not a speed assertion
MAX_MESSAGE = 64 * 1024

METHOD_NOT_FOUND = "org.varlink.service.MethodNotFound"
INVALID_PARAMETER = "org.varlink.service.InvalidParameter"
INVALID_JOB_ID = "io.jobwatch.InvalidJobId"

INVALID_IDS = {
    "dot-dot-slash": "../x",
    "slash": "a/b",
    "empty": "",
    "65 characters": "a" * 65,
    "space": "a b",
    "leading space": " abc",
    "control character": "a\x01b",
    "newline": "abc\n",
    "escaped NUL": "a\x00b",
    "percent-encoded dots": "%2e%2e",
    "dot": "a.b",
    "non-ASCII": "j\u00f6b",
}


class BadInput(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.workdir = h.temp_workdir("bad")
        work = cls.workdir.name
        cls.sim = h.Sim(work, seed=5)
        cls.daemon = None
        try:
            cls.sim.start()
            cls.daemon = h.Daemon(work, cls.sim.endpoint)
            with h.logs_on_failure(cls.daemon, cls.sim):
                cls.daemon.start()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.daemon is not None:
            cls.daemon.stop()
        cls.sim.stop()
        cls.workdir.cleanup()

    def run(self, result=None):
        # Print the daemon's log tail when a test fails.
        before = len(result.failures) + len(result.errors) if result else 0
        outcome = super().run(result)
        if result and len(result.failures) + len(result.errors) > before and self.daemon:
            sys.stderr.write(f"\n----- jobwatchd log tail -----\n{self.daemon.log_tail()}\n")
        return outcome

    # ------------------------------------------------------------------ helpers

    def connect(self, timeout=REPLY_TIMEOUT_S) -> h.Varlink:
        return h.Varlink(self.daemon.socket_path, timeout)

    def raw_exchange(self, payload: bytes) -> tuple[dict | None, bool]:
        """Sends payload on a fresh connection; returns (first reply or None
        when closed without one, whether the daemon then closed)."""
        with self.connect() as client:
            try:
                client.send_raw(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # closed while we were still sending; a reply may be buffered
            except socket.timeout:
                self.fail(f"the daemon stopped reading a {len(payload)}-byte message "
                          f"without answering or closing")
            try:
                reply = client.recv()
            except (ConnectionResetError, h.HarnessError):
                return None, True
            except socket.timeout:
                self.fail(f"no reply and no close within {REPLY_TIMEOUT_S}s for {payload[:80]!r}")
            closed = reply is None or client.at_eof(IDLE_TIMEOUT_S + 3)
            return reply, closed

    def assert_error(self, reply, name=None, what=""):
        self.assertIsInstance(reply, dict, f"{what}: no reply")
        self.assertIn("error", reply, f"{what}: not an error reply: {reply}")
        self.assertIsInstance(reply["error"], str, f"{what}: {reply}")
        if name is not None:
            self.assertEqual(reply["error"], name, f"{what}: {reply}")
        return reply.get("parameters") or {}

    def assert_healthy(self):
        """Another client is served, and the daemon still runs."""
        self.assertTrue(self.daemon.alive(), f"jobwatchd exited with {self.daemon.proc.returncode}")
        with self.connect() as client:
            reply = client.call_raw("io.jobwatch.List")
        self.assertNotIn("error", reply, reply)
        self.assertIsInstance((reply.get("parameters") or {}).get("watches"), list, reply)

    def assert_names_id(self, echoed, bad, reply):
        """The error names the rejected ID: verbatim, or (for IDs with
        control characters) in an escaped, printable form."""
        if any(ord(c) < 0x20 or c == "\x7f" for c in bad):
            self.assertIsInstance(echoed, str, reply)
            self.assertTrue(echoed == bad or (echoed and echoed.isprintable()), reply)
        else:
            self.assertEqual(echoed, bad, reply)

    def watch_call(self, parameters) -> dict:
        with self.connect() as client:
            return client.call_raw("io.jobwatch.Watch", parameters)

    # ------------------------------------------------------------------ tests

    def test_socket_mode(self):
        mode = stat.S_IMODE(os.stat(self.daemon.socket_path).st_mode)
        self.assertEqual(mode, 0o660, f"control socket mode {mode:o}")

    def test_get_info_names_the_interface(self):
        with self.connect() as client:
            info = client.call("org.varlink.service.GetInfo")
        self.assertIn("io.jobwatch", info.get("interfaces", []), info)

    def test_malformed_json_gets_an_error(self):
        for payload in (b'{"method": "io.jobwatch.List", \0',
                        b"not json at all\0",
                        b"\xff\xfe\xfd\0",
                        b'{"method": "io.jobwatch.List"} trailing\0',
                        b"[1, 2, 3]\0",
                        b'"io.jobwatch.List"\0',
                        b"{}\0",
                        b'{"method": 5}\0',
                        b'{"method": "io.jobwatch.List", "parameters": [1]}\0'):
            with self.subTest(payload=payload):
                reply, _ = self.raw_exchange(payload)
                self.assert_error(reply, what=repr(payload))
        self.assert_healthy()

    def test_unknown_method(self):
        for method in ("io.jobwatch.Nope", "io.jobwatch.watch"):
            with self.subTest(method=method):
                with self.connect() as client:
                    reply = client.call_raw(method, {})
                self.assert_error(reply, METHOD_NOT_FOUND, method)
        with self.connect() as client:
            reply = client.call_raw("com.example.Other.Method", {})
        self.assert_error(reply, what="unknown interface")
        self.assertIn(reply["error"], (METHOD_NOT_FOUND, "org.varlink.service.InterfaceNotFound"),
                      reply)
        self.assert_healthy()

    def test_wrong_parameter_types(self):
        project = self.daemon.project_id
        cases = {
            "jobs as string": ({"jobs": "abc"}, "jobs"),
            "jobs missing": ({"labels": {"a": "b"}}, "jobs"),
            "job entry as string": ({"jobs": ["abc"]}, "jobs"),
            "job_id as number": ({"jobs": [{"job_id": 12345}]}, "job_id"),
            "project_id as number": ({"jobs": [{"job_id": "abc", "project_id": 7}]}, "project_id"),
            "labels as list": ({"jobs": [{"job_id": "abc"}], "labels": ["a"]}, "labels"),
            "label value number": ({"jobs": [{"job_id": "abc"}], "labels": {"k": 1}}, "labels"),
            "deadline_s as string": ({"jobs": [{"job_id": "abc", "project_id": project}],
                                      "deadline_s": "5"}, "deadline_s"),
        }
        for name, (params, parameter) in cases.items():
            with self.subTest(case=name):
                reply = self.watch_call(params)
                details = self.assert_error(reply, INVALID_PARAMETER, name)
                self.assertIsInstance(details.get("parameter"), str, reply)
                self.assertIn(parameter, details["parameter"], reply)
        with self.connect() as client:
            reply = client.call_raw("io.jobwatch.Show", {"job_id": ["x"]})
        self.assert_error(reply, INVALID_PARAMETER, "Show job_id as list")
        with self.connect() as client:
            reply = client.call_raw("io.jobwatch.Wait", {"jobs": [{"job_id": "abc"}],
                                                         "timeout_s": "soon"})
        self.assert_error(reply, INVALID_PARAMETER, "Wait timeout_s as string")
        self.assert_no_watch("abc")
        self.assert_healthy()

    def test_invalid_ids(self):
        for name, bad in INVALID_IDS.items():
            with self.subTest(case=name, job_id=bad):
                reply = self.watch_call({"jobs": [{"job_id": bad}]})
                details = self.assert_error(reply, INVALID_JOB_ID, f"job_id {name}")
                self.assert_names_id(details.get("job_id"), bad, reply)
                self.assertIsInstance(details.get("reason"), str, reply)
                self.assertTrue(details["reason"], reply)
        for name, bad in (("project ../x", "../x"), ("project with slash", "p/q"),
                          ("project empty", "")):
            with self.subTest(case=name):
                reply = self.watch_call({"jobs": [{"job_id": "fine_id", "project_id": bad}]})
                self.assert_error(reply, INVALID_JOB_ID, name)
        # A batch with one bad ID among good ones is rejected as a whole.
        reply = self.watch_call({"jobs": [{"job_id": "good-1"}, {"job_id": "../x"}]})
        self.assert_error(reply, INVALID_JOB_ID, "mixed batch")
        for method, params in (("io.jobwatch.Show", {"job_id": "../x"}),
                               ("io.jobwatch.Cancel", {"jobs": [{"job_id": "a/b"}]}),
                               ("io.jobwatch.Wait", {"jobs": [{"job_id": "%2e%2e"}]})):
            with self.subTest(method=method):
                with self.connect() as client:
                    reply = client.call_raw(method, params)
                self.assert_error(reply, INVALID_JOB_ID, method)
        for job_id in ("good-1", "fine_id"):
            self.assert_no_watch(job_id)
        self.assertEqual(self.sim.requests().get("../x", 0), 0)
        # The boundary: 64 characters of the allowed alphabet are accepted.
        edge = ("Az09-_" * 11)[:64]
        reply = self.watch_call({"jobs": [{"job_id": edge}]})
        self.assertNotIn("error", reply, reply)
        self.assertEqual(reply["parameters"]["watches"][0]["job_id"], edge)
        with self.connect() as client:
            client.call("io.jobwatch.Cancel", {"jobs": [{"job_id": edge}]})
        self.assert_healthy()

    def test_oversized_message_is_refused_and_closed(self):
        big = json.dumps({"method": "io.jobwatch.Watch",
                          "parameters": {"jobs": [{"job_id": "abc"}],
                                         "labels": {"k": "x" * (MAX_MESSAGE + 1024)}}}).encode()
        reply, closed = self.raw_exchange(big + b"\0")
        self.assert_error(reply, what="oversized message")
        self.assertTrue(closed, "the connection stayed open after an oversized message")
        # Without any terminator: the daemon must not buffer forever.
        reply, closed = self.raw_exchange(b"{" + b" " * (4 * MAX_MESSAGE))
        self.assertTrue(closed, "a 256 KiB message without NUL did not close the connection")
        if reply is not None:
            self.assert_error(reply, what="unterminated oversized message")
        self.assert_no_watch("abc")
        self.assert_healthy()

    def test_deep_nesting_is_refused_and_closed(self):
        for depth in (33, 40, 5000):
            with self.subTest(depth=depth):
                nested = "[" * depth + "]" * depth
                payload = ('{"method": "io.jobwatch.Watch", "parameters": {"jobs": [{"job_id": "abc"}],'
                           f' "labels": {{"k": "v"}}, "extra": {nested}}}}}').encode() + b"\0"
                reply, closed = self.raw_exchange(payload)
                self.assert_error(reply, what=f"nesting depth {depth}")
                self.assertTrue(closed, f"the connection stayed open after nesting depth {depth}")
        objects = '{"a":' * 40 + "1" + "}" * 40
        reply, closed = self.raw_exchange(
            f'{{"method": "io.jobwatch.List", "parameters": {objects}}}'.encode() + b"\0")
        self.assert_error(reply, what="nested objects")
        self.assertTrue(closed)
        self.assert_healthy()

    def test_unterminated_message_then_close(self):
        for payload in (b'{"method": "io.jobwatch.List"}', b'{"method": "io.jobwatch.Wat',
                        b"\0\0\0", b""):
            with self.subTest(payload=payload):
                with self.connect() as client:
                    client.send_raw(payload)
                    client.sock.shutdown(socket.SHUT_WR)
                    # Whatever it answers, it must close its side too.
                    self.assertTrue(client.at_eof(REPLY_TIMEOUT_S),
                                    "half-closed connection not closed by the daemon")
        self.assert_healthy()

    def test_many_silent_clients_are_closed_and_others_served(self):
        silent = [self.connect() for _ in range(50)]
        partial = self.connect()
        partial.send_raw(b'{"method": "io.jobwatch.Li')
        try:
            opened = time.monotonic()
            # Meanwhile, another client is served.
            job = self.sim.create_job(project_id=self.daemon.project_id, duration_s=1,
                                      outcome="success")
            with self.connect() as client:
                watched = client.call("io.jobwatch.Watch", {"jobs": [{"job_id": job["job_id"]}]})
                self.assertTrue(watched["watches"][0]["created"], watched)
                listed = client.call("io.jobwatch.List")
                self.assertIn(job["job_id"], [w["job_id"] for w in listed["watches"]])
            # Every idle client is closed after idle_timeout (2 s) — bounded wait.
            still_open = []
            for index, client in enumerate(silent + [partial]):
                remaining = max(0.1, opened + IDLE_TIMEOUT_S + 6 - time.monotonic())
                if not client.at_eof(remaining):
                    still_open.append(index)
            self.assertFalse(still_open, f"{len(still_open)} idle connections not closed within "
                                         f"{IDLE_TIMEOUT_S + 6}s of idle_timeout={IDLE_TIMEOUT_S}s")
            self.assertGreaterEqual(time.monotonic() - opened, IDLE_TIMEOUT_S * 0.5,
                                    "idle connections closed long before idle_timeout")
        finally:
            for client in silent + [partial]:
                client.close()
        self.assert_healthy()

    def test_idle_timeout_spares_follow_and_a_used_connection(self):
        follow = self.connect(timeout=0.5)
        try:
            follow.send({"method": "io.jobwatch.Follow", "more": True})
            # A plain connection that made a call and then idles is closed…
            with self.connect() as client:
                client.call("io.jobwatch.List")
                self.assertTrue(client.at_eof(IDLE_TIMEOUT_S + 6),
                                "an idle connection outlived idle_timeout")
            # …but a running Follow is not.
            self.assertFalse(follow.at_eof(0.5), "Follow was closed by the idle timeout")
        finally:
            follow.close()
        self.assert_healthy()

    def test_concurrent_garbage_does_not_block_others(self):
        stop = threading.Event()
        errors = []

        def garbage():
            while not stop.is_set():
                try:
                    with self.connect() as c:
                        c.send_raw(b'{"method": "io.jobwatch.Nope"}\0not json\0' + b"[" * 100 + b"\0")
                        c.at_eof(0.2)
                except OSError:
                    pass
                except Exception as e:  # noqa: BLE001
                    errors.append(repr(e))

        threads = [threading.Thread(target=garbage, daemon=True) for _ in range(4)]
        for t in threads:
            t.start()
        try:
            for _ in range(20):
                self.assert_healthy()
                time.sleep(0.05)
        finally:
            stop.set()
            for t in threads:
                t.join(10)
        self.assert_healthy()

    def test_z_daemon_survived_everything(self):
        # Runs last (alphabetical order): alive, serving, and exits 0 on SIGTERM.
        self.assert_healthy()
        code = self.daemon.stop()
        self.assertEqual(code, 0, "jobwatchd did not exit 0 on SIGTERM")
        self.assertFalse(os.path.exists(self.daemon.socket_path) and _accepts(self.daemon.socket_path),
                         "the control socket still accepts after exit")

    def assert_no_watch(self, job_id):
        with self.connect() as client:
            watches = client.call("io.jobwatch.List").get("watches") or []
        self.assertNotIn(job_id, [w.get("job_id") for w in watches],
                         f"a rejected request created a watch for {job_id!r}")


def _accepts(path):
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(1)
            s.connect(path)
            return True
    except OSError:
        return False


if __name__ == "__main__":
    unittest.main(verbosity=2)
