"""Integration tests of jobwatch-sim over real loopback HTTP: job timelines,
404 periods, ghosts, faults (status, throttle, reset, malformed, slow),
keep-alive, token auth, the simulated clock and the admin counters.

Each test starts its own simulator on 127.0.0.1:0 and reads the port from
--port-file. Stdlib only.
"""

from __future__ import annotations

import contextlib
import ctypes
import http.client
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

LOOPBACK = "127.0.0.1"
REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TOKEN = "sim-test-token-0123456789"

# No proxy, ever: loopback requests must not be sent anywhere else.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def sim_binary() -> str:
    path = os.environ.get("JOBWATCH_SIM")
    if path:
        return path
    for build in ("build-sim", "build-itest", "build"):
        candidate = os.path.join(REPO_ROOT, build, "jobwatch-sim")
        if os.access(candidate, os.X_OK):
            return candidate
    raise unittest.SkipTest("jobwatch-sim not found: set JOBWATCH_SIM")


def wait_until(predicate, timeout: float, interval: float = 0.05, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def _die_with_parent() -> None:
    # PR_SET_PDEATHSIG: a killed test runner takes its simulators along.
    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)


class Sim:
    def __init__(self, *extra_args: str):
        self.dir = tempfile.TemporaryDirectory(prefix="jobwatch-sim-test-")
        self.port_file = os.path.join(self.dir.name, "port")
        self.stdout_path = os.path.join(self.dir.name, "stdout")
        self.stderr_path = os.path.join(self.dir.name, "stderr")
        argv = [sim_binary(), "--listen", f"{LOOPBACK}:0", "--port-file", self.port_file,
                "--seed", "1", *extra_args]
        self._out = open(self.stdout_path, "wb")
        self._err = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self._out,
                                     stderr=self._err, preexec_fn=_die_with_parent)

        def port_known():
            if self.proc.poll() is not None:
                raise AssertionError(f"jobwatch-sim exited with {self.proc.returncode}: "
                                     f"{self.stderr()}")
            with contextlib.suppress(FileNotFoundError), open(self.port_file) as f:
                text = f.read()
                if text.strip().isdigit():
                    return int(text)
            return None

        self.port = wait_until(port_known, 10, what="the port file")

    def stdout(self) -> str:
        with open(self.stdout_path) as f:
            return f.read()

    def stderr(self) -> str:
        with open(self.stderr_path) as f:
            return f.read()

    def stop(self, sig=signal.SIGTERM) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
                raise AssertionError("jobwatch-sim ignored the stop signal")
        self._out.close()
        self._err.close()
        self.dir.cleanup()
        return self.proc.returncode

    def request(self, method: str, path: str, body=None, headers=None, timeout: float = 10):
        """(status, headers, raw body) without raising on HTTP errors."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(f"http://{LOOPBACK}:{self.port}{path}", data=data,
                                     method=method, headers=headers or {})
        try:
            with _opener.open(req, timeout=timeout) as resp:
                return resp.status, resp.headers, resp.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read()

    def admin(self, method: str, path: str, body=None):
        status, _, raw = self.request(method, path, body)
        if status != 200:
            raise AssertionError(f"{method} {path}: {status} {raw[:300]!r}")
        return json.loads(raw)

    def get_job(self, job_id: str, project: str = "proj1", token: str | None = TOKEN):
        headers = {"X-Auth-Token": token} if token is not None else {}
        return self.request("GET", f"/v1/{project}/job/{job_id}", headers=headers)

    def job_json(self, job_id: str, project: str = "proj1") -> dict:
        status, _, raw = self.get_job(job_id, project)
        if status != 200:
            raise AssertionError(f"GET job {job_id}: {status} {raw[:300]!r}")
        return json.loads(raw)["job"]

    def create(self, **spec) -> dict:
        return self.admin("POST", "/admin/jobs", {"jobs": [spec]})["jobs"][0]


class SimTestCase(unittest.TestCase):
    extra_args: tuple = ("--token", TOKEN)

    def setUp(self):
        self.sim = Sim(*self.extra_args)

    def tearDown(self):
        code = self.sim.stop()
        self.assertEqual(code, 0, "SIGTERM must exit 0")


class Timelines(SimTestCase):
    def test_status_moves_initializing_handling_terminal(self):
        created = self.sim.create(duration_s=2.5, initializing_s=1, subjobs=2)
        job_id = created["job_id"]
        self.assertRegex(job_id, r"^\d{18}$")
        self.assertEqual(len(created["subjob_ids"]), 2)
        for sub in created["subjob_ids"]:
            self.assertRegex(sub, r"^\d{18}$")

        seen = []

        def terminal():
            job = self.sim.job_json(job_id)
            if not seen or seen[-1] != job["job_status"]:
                seen.append(job["job_status"])
            return job if job["job_status"] in (0, 1) else None

        job = wait_until(terminal, 15, interval=0.1, what="the job to end")
        self.assertEqual(seen, [3, 2, 1], "statuses must go initializing, handling, succeeded")
        self.assertEqual(job["job_type"], 1)
        for key in ("begin_time", "end_time", "expected_end_time"):
            self.assertRegex(job[key], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        subs = job["sub_jobs"]
        self.assertEqual([s["job_id"] for s in subs], created["subjob_ids"])
        for sub in subs:
            self.assertEqual(sub["job_type"], 2)
            self.assertEqual(sub["job_status"], 1)
            entity = sub["entities"][0]
            self.assertEqual(entity["cloud_service_type"], "hws.service.type.vdi")
            self.assertEqual(entity["spec_type"], {"shareable": False})
            self.assertIsInstance(entity["spec_size"], float)
            self.assertIsInstance(entity["main_resources"][0], dict)

    def test_failure_carries_codes(self):
        created = self.sim.create(duration_s=1, initializing_s=0.2, outcome="failure",
                                  subjobs=[{"duration_s": 0.5, "outcome": "failure"},
                                           {"duration_s": 1}])
        self.assertEqual(created["outcome"], "failure")
        self.assertEqual([s["outcome"] for s in created["subjobs"]], ["failure", "success"])
        job = wait_until(lambda: (j := self.sim.job_json(created["job_id"]))["job_status"] == 0 and j,
                         10, what="the job to fail")
        self.assertEqual(job["execute_code"], "APPSTREAM.1002")
        self.assertEqual(job["sub_jobs"][0]["job_status"], 0)
        self.assertEqual(job["sub_jobs"][0]["execute_code"], "APPSTREAM.1002")
        self.assertEqual(job["sub_jobs"][1]["job_status"], 1)
        self.assertNotIn("execute_code", job["sub_jobs"][1])

    def test_not_found_period_then_visible(self):
        created = self.sim.create(duration_s=5, not_found_s=1.5)
        status, _, raw = self.sim.get_job(created["job_id"])
        self.assertEqual(status, 404)
        self.assertEqual(json.loads(raw), {"error_code": "WKS.0404", "error_msg": "job not found"})
        wait_until(lambda: self.sim.get_job(created["job_id"])[0] == 200, 10,
                   what="the job to appear")

    def test_ghost_and_unknown_and_other_project(self):
        ghost = self.sim.create(ghost=True)
        self.assertEqual(ghost["outcome"], "ghost")
        self.assertEqual(self.sim.get_job(ghost["job_id"])[0], 404)
        self.assertIsNone(self.sim.admin("GET", f"/admin/jobs/{ghost['job_id']}")["detail"])
        self.assertEqual(self.sim.get_job("123456789012345678")[0], 404)

        owned = self.sim.create(project_id="projA", duration_s=1)
        self.assertEqual(self.sim.get_job(owned["job_id"], project="projA")[0], 200)
        self.assertEqual(self.sim.get_job(owned["job_id"], project="projB")[0], 404)

    def test_bad_path_and_method(self):
        job_id = self.sim.create()["job_id"]
        self.assertEqual(self.sim.request("GET", "/v1/proj1/jobs/1")[0], 400)
        self.assertEqual(self.sim.request("GET", "/nothing")[0], 400)
        status, headers, raw = self.sim.request("POST", f"/v1/proj1/job/{job_id}", body={})
        self.assertEqual(status, 405)
        self.assertEqual(headers["Allow"], "GET")
        self.assertIn("error_code", json.loads(raw))

    def test_clock_advance(self):
        job_id = self.sim.create(duration_s=3600)["job_id"]
        self.assertEqual(self.sim.job_json(job_id)["job_status"], 3)
        self.sim.admin("POST", "/admin/clock", {"advance_s": 1800})
        self.assertEqual(self.sim.job_json(job_id)["job_status"], 2)
        self.sim.admin("POST", "/admin/clock", {"advance_s": 1800})
        self.assertEqual(self.sim.job_json(job_id)["job_status"], 1)

    def test_random_jobs_match_their_expectations(self):
        reply = self.sim.admin("POST", "/admin/random",
                               {"count": 40, "seed": 5, "max_duration_s": 30, "ghost_fraction": 0.1})
        self.assertEqual(len(reply["job_ids"]), 40)
        self.sim.admin("POST", "/admin/clock", {"advance_s": 120})
        for job_id in reply["job_ids"]:
            exp = reply["expected"][job_id]
            if exp["outcome"] == "ghost":
                self.assertEqual(self.sim.get_job(job_id)[0], 404)
                continue
            job = self.sim.job_json(job_id)
            self.assertEqual(job["job_status"], 1 if exp["outcome"] == "success" else 0)
            self.assertEqual([(s["job_id"], s["job_status"]) for s in job["sub_jobs"]],
                             [(s["job_id"], 1 if s["outcome"] == "success" else 0)
                              for s in exp["subjobs"]])


class Faults(SimTestCase):
    def setUp(self):
        super().setUp()
        self.job_id = self.sim.create(duration_s=0, initializing_s=0)["job_id"]

    def fault(self, **rule) -> int:
        return self.sim.admin("POST", "/admin/faults", rule)["fault_id"]

    def test_status_500_once(self):
        self.fault(kind="status", status=500, count=1)
        status, _, raw = self.sim.get_job(self.job_id)
        self.assertEqual(status, 500)
        self.assertIn("error_code", json.loads(raw))
        self.assertEqual(self.sim.get_job(self.job_id)[0], 200)

    def test_throttle_with_retry_after(self):
        self.fault(kind="throttle", retry_after_s=2, count=1)
        status, headers, raw = self.sim.get_job(self.job_id)
        self.assertEqual(status, 429)
        self.assertEqual(headers["Retry-After"], "2")
        self.assertEqual(json.loads(raw), {"error_code": "APIGW.0308",
                                           "error_msg": "The throttling threshold has been reached"})
        self.fault(kind="throttle", status=503, retry_after_s=3, count=1)
        status, headers, _ = self.sim.get_job(self.job_id)
        self.assertEqual((status, headers["Retry-After"]), (503, "3"))
        self.assertEqual(self.sim.get_job(self.job_id)[0], 200)

    def test_reset_closes_the_connection(self):
        self.fault(kind="reset", count=1)
        conn = http.client.HTTPConnection(LOOPBACK, self.sim.port, timeout=10)
        try:
            conn.request("GET", f"/v1/p/job/{self.job_id}", headers={"X-Auth-Token": TOKEN})
            with self.assertRaises((ConnectionResetError, http.client.RemoteDisconnected,
                                    BrokenPipeError)):
                conn.getresponse().read()
        finally:
            conn.close()
        self.assertEqual(self.sim.get_job(self.job_id)[0], 200)

    def test_malformed_bodies(self):
        self.fault(kind="malformed", variant="truncated", count=1)
        status, _, raw = self.sim.get_job(self.job_id)
        self.assertEqual(status, 200)
        with self.assertRaises(ValueError):
            json.loads(raw)

        self.fault(kind="malformed", variant="unknown_status", count=1)
        self.assertEqual(json.loads(self.sim.get_job(self.job_id)[2])["job"]["job_status"], 7)

        self.fault(kind="malformed", variant="wrong_types", count=1)
        job = json.loads(self.sim.get_job(self.job_id)[2])["job"]
        self.assertIsInstance(job["job_status"], str)

        # Without a variant each answer is one of the three, never a usable body.
        self.fault(kind="malformed", count=6)
        for _ in range(6):
            status, _, raw = self.sim.get_job(self.job_id)
            self.assertEqual(status, 200)
            try:
                job = json.loads(raw)["job"]
            except ValueError:
                continue
            self.assertFalse(isinstance(job["job_status"], int) and job["job_status"] in (0, 1, 2, 3),
                             f"a malformed answer looked valid: {raw[:200]!r}")
        self.assertEqual(self.sim.get_job(self.job_id)[0], 200)

    def test_slow_answer_and_job_scoped_rule(self):
        other = self.sim.create(duration_s=0)["job_id"]
        self.fault(kind="slow", delay_s=1, count=1, job_id=self.job_id)
        started = time.monotonic()
        self.assertEqual(self.sim.get_job(other)[0], 200)
        status, _, _ = self.sim.get_job(self.job_id)
        self.assertEqual(status, 200)
        self.assertGreaterEqual(time.monotonic() - started, 0.9, "the slow rule did not delay")
        self.assertEqual(self.sim.admin("GET", "/admin/faults")["faults"], [])

    def test_clear_faults(self):
        self.fault(kind="status", status=503)
        self.assertEqual(self.sim.get_job(self.job_id)[0], 503)
        self.sim.admin("DELETE", "/admin/faults")
        self.assertEqual(self.sim.get_job(self.job_id)[0], 200)


class Connections(SimTestCase):
    def test_keep_alive_serves_many_requests_on_one_connection(self):
        job_id = self.sim.create(duration_s=1)["job_id"]
        conn = http.client.HTTPConnection(LOOPBACK, self.sim.port, timeout=10)
        try:
            conn.connect()
            sock = conn.sock
            local = sock.getsockname()
            for _ in range(5):
                conn.request("GET", f"/v1/proj1/job/{job_id}", headers={"X-Auth-Token": TOKEN})
                resp = conn.getresponse()
                body = resp.read()
                self.assertEqual(resp.status, 200)
                self.assertEqual(json.loads(body)["job"]["job_id"], job_id)
                self.assertFalse(resp.will_close)
                self.assertIs(conn.sock, sock, "the client had to reconnect")
            # Admin calls and errors keep the connection too.
            conn.request("GET", "/admin/stats")
            resp = conn.getresponse()
            resp.read()
            self.assertEqual(resp.status, 200)
            self.assertIs(conn.sock, sock)
            self.assertEqual(conn.sock.getsockname(), local)
            conn.request("GET", "/v1/proj1/job/unknown", headers={"X-Auth-Token": TOKEN})
            resp = conn.getresponse()
            resp.read()
            self.assertEqual(resp.status, 404)
            self.assertIs(conn.sock, sock)
        finally:
            conn.close()

    def test_token_auth(self):
        job_id = self.sim.create()["job_id"]
        for token in (None, "wrong"):
            status, _, raw = self.sim.get_job(job_id, token=token)
            self.assertEqual(status, 401)
            self.assertEqual(json.loads(raw), {"error_code": "APIGW.0301",
                                               "error_msg": "Incorrect IAM authentication information"})
            self.assertNotIn(TOKEN, raw.decode())
        self.assertEqual(self.sim.get_job(job_id)[0], 200)
        self.assertNotIn(TOKEN, self.sim.stderr())

    def test_stats_and_request_counters(self):
        job_id = self.sim.create(duration_s=1)["job_id"]
        other = self.sim.create(duration_s=1)["job_id"]
        self.sim.admin("POST", "/admin/faults", {"kind": "status", "status": 500, "count": 1,
                                                 "job_id": job_id})
        for _ in range(3):
            self.sim.get_job(job_id)
        self.sim.get_job(other)
        self.sim.get_job("nope")
        self.sim.get_job(other, token=None)

        stats = self.sim.admin("GET", "/admin/stats")
        self.assertEqual(stats["requests_total"], 6)
        self.assertEqual(stats["by_status"], {"200": 3, "404": 1, "500": 1, "401": 1})
        self.assertEqual(stats["faults_injected"], 1)
        self.assertEqual(stats["jobs"], 2)
        per_job = self.sim.admin("GET", "/admin/requests")
        self.assertEqual(per_job, {job_id: 3, other: 2})
        info = self.sim.admin("GET", f"/admin/jobs/{job_id}")
        self.assertEqual(info["requests"], 3)
        self.assertIn(info["status"], (1, 2, 3))
        self.assertEqual(info["detail"]["job_id"], job_id)

        self.sim.admin("POST", "/admin/reset")
        self.assertEqual(self.sim.admin("GET", "/admin/stats")["jobs"], 0)
        self.assertEqual(self.sim.get_job(job_id)[0], 404)


class CommandLine(unittest.TestCase):
    def run_sim(self, *args):
        return subprocess.run([sim_binary(), *args], capture_output=True, text=True, timeout=30)

    def test_version_help_and_usage_errors(self):
        version = self.run_sim("--version")
        self.assertEqual(version.returncode, 0)
        self.assertTrue(version.stdout.startswith("jobwatch-sim "))
        help_ = self.run_sim("--help")
        self.assertEqual(help_.returncode, 0)
        self.assertIn("--port-file", help_.stdout)
        self.assertEqual(self.run_sim("--bogus").returncode, 64)
        self.assertEqual(self.run_sim("--listen", "nowhere").returncode, 64)

    def test_token_file_and_sigint(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "token")
            with open(path, "w") as f:
                f.write(TOKEN + "\n")
            sim = Sim("--token-file", path)
            try:
                job_id = sim.create()["job_id"]
                self.assertEqual(sim.get_job(job_id, token=None)[0], 401)
                self.assertEqual(sim.get_job(job_id)[0], 200)
            finally:
                self.assertEqual(sim.stop(signal.SIGINT), 0, "SIGINT must exit 0")

    def test_demo_scenario(self):
        sim = Sim("--scenario", "demo")
        try:
            ids = sim.stdout().split()
            self.assertEqual(len(ids), 8)
            listed = sim.admin("GET", "/admin/jobs")
            self.assertEqual(sorted(listed["job_ids"]), sorted(ids))
            outcomes = {listed["expected"][i]["outcome"] for i in ids}
            self.assertEqual(outcomes, {"success", "failure"})
            for i in ids:
                self.assertTrue(1 <= len(listed["expected"][i]["subjobs"]) <= 4)
            hidden = [i for i in ids if sim.get_job(i, token=None)[0] == 404]
            self.assertEqual(len(hidden), 1, "one demo job answers 404 for its first 5 s")
        finally:
            self.assertEqual(sim.stop(), 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
