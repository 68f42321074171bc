"""Secrets never leave the daemon (BRIEF: never print tokens, keys, webhook
secrets): a token-authenticated daemon at log level debug, with a signed
webhook sink, runs jobs to completion through upstream faults (401, 500, 429)
and webhook failures; then neither the API token nor the webhook secret (nor
its key bytes in hex or base64) may appear in the daemon's log, jobwatchctl
--json list/show/stats, varlink GetInfo, or the errors of --check-config and
of a failed start.
"""

import base64
import json
import os
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402


def secret_forms(token: str, webhook_secret: str) -> dict[str, str]:
    """Every spelling of the secrets that must not show up anywhere."""
    key = base64.b64decode(webhook_secret.removeprefix("whsec_"))
    return {
        "api token": token,
        "webhook secret": webhook_secret,
        "webhook key (base64)": webhook_secret.removeprefix("whsec_"),
        "webhook key (urlsafe base64)": base64.urlsafe_b64encode(key).decode().rstrip("="),
        "webhook key (hex)": key.hex(),
        "webhook key (HEX)": key.hex().upper(),
    }


class SecretsTest(unittest.TestCase):
    def setUp(self):
        self.token = "tok-" + os.urandom(16).hex()
        self.webhook_secret = h.new_webhook_secret()
        self.forms = secret_forms(self.token, self.webhook_secret)

    def assert_no_secret(self, where: str, text: str) -> None:
        for name, value in self.forms.items():
            # Only say which secret leaked, never print it.
            self.assertNotIn(value, text, f"the {name} appears in {where}")

    def test_secrets_stay_out_of_logs_and_replies(self):
        with h.temp_workdir("secrets") as workdir:
            sim = h.Sim(workdir, seed=5, extra_args=["--token", self.token])
            receiver = h.WebhookReceiver(self.webhook_secret)
            daemon = None
            try:
                sim.start()
                receiver.start()
                daemon = self._run(workdir, sim, receiver)
            finally:
                if daemon is not None:
                    daemon.stop()
                receiver.stop()
                sim.stop()
            if daemon is not None:
                self.assert_no_secret("the daemon's log", daemon.log_text())
            self._check_config_errors(workdir, sim.endpoint)
            self._failed_start(workdir, sim.endpoint)

    def _run(self, workdir: str, sim: h.Sim, receiver) -> h.Daemon:
        project = h.random_project_id()
        specs = [
            {"project_id": project, "duration_s": 2, "initializing_s": 0, "outcome": "success"},
            {"project_id": project, "duration_s": 3, "initializing_s": 0,
             "subjobs": [{"duration_s": 1, "outcome": "success"},
                         {"duration_s": 2, "outcome": "failure"}]},
            {"project_id": project, "duration_s": 2, "initializing_s": 0, "outcome": "failure"},
        ]
        job_ids = [j["job_id"] for j in sim.create_jobs(specs)["jobs"]]
        # Upstream failures, in order of arrival: 401s, 500s, throttling.
        sim.add_fault(kind="status", status=401, count=3)
        sim.add_fault(kind="status", status=500, count=3)
        sim.add_fault(kind="throttle", status=429, count=2, retry_after_s=1)
        receiver.fail_with(500, count=3)

        daemon = h.Daemon(workdir, sim.endpoint, project_id=project,
                          webhook_url=receiver.url, webhook_secret=self.webhook_secret,
                          overrides={"api": {"auth": {"type": "token", "token": self.token}},
                                     "log": {"level": "debug"}})
        with h.logs_on_failure(daemon):
            daemon.start()
            with daemon.client() as client:
                client.call("io.jobwatch.Watch", {"jobs": h.job_refs(job_ids)})
            daemon.wait_finished(job_ids, timeout=60)
            h.wait_until(lambda: len(receiver.snapshot()) >= len(job_ids), 30, interval=0.2,
                         what="webhook deliveries after the receiver's 500s")
            self.assertTrue(receiver.refused, "the receiver never refused a delivery")
            self.assertFalse(receiver.bad, "a delivery did not verify")
            self.assertGreater(sim.stats()["faults_injected"], 0)

            outputs = {
                "jobwatchctl --json list": h.run_ctl(["--json", "list"], daemon.socket_path),
                "jobwatchctl --json stats": h.run_ctl(["--json", "stats"], daemon.socket_path),
                "jobwatchctl list": h.run_ctl(["list"], daemon.socket_path),
            }
            for job_id in job_ids:
                outputs[f"jobwatchctl --json show {job_id}"] = h.run_ctl(
                    ["--json", "show", job_id], daemon.socket_path)
            for where, result in outputs.items():
                self.assertEqual(result.returncode, 0, where)
                self.assert_no_secret(where, result.stdout + result.stderr)
            with daemon.client() as client:
                info = client.call("org.varlink.service.GetInfo")
                stats = client.call("io.jobwatch.Stats")
            self.assert_no_secret("GetInfo", json.dumps(info))
            self.assert_no_secret("Stats", json.dumps(stats))
        # The log did see the failures (the check above is not vacuous).
        log = daemon.log_text()
        self.assertIn("401", log)
        return daemon

    def _write(self, path: str, text: str) -> str:
        with open(path, "w") as f:
            f.write(text)
        return path

    def _config(self, workdir: str, endpoint: str, name: str, auth_yaml: str,
                webhook_yaml: str) -> str:
        return self._write(os.path.join(workdir, name), "\n".join([
            "api:",
            f"  endpoint: \"{endpoint}\"",
            "  project_id: \"0123456789abcdef0123456789abcdef\"",
            auth_yaml,
            "control:",
            f"  socket: \"{os.path.join(workdir, name + '.sock')}\"",
            "state:",
            f"  dir: \"{os.path.join(workdir, name + '.state')}\"",
            "sinks:",
            "  - name: hook",
            "    type: webhook",
            "    url: \"http://127.0.0.1:9/hook\"",
            webhook_yaml,
            "log:",
            "  level: debug",
            ""]))

    def _jobwatchd(self, *args: str) -> subprocess.CompletedProcess:
        try:
            return subprocess.run([h.jobwatchd(), *args], stdin=subprocess.DEVNULL,
                                  capture_output=True, text=True, timeout=20)
        except subprocess.TimeoutExpired:
            self.fail(f"jobwatchd {' '.join(args)} did not exit within 20 s")

    def _check_config_errors(self, workdir: str, endpoint: str) -> None:
        # Secrets of the wrong type: the error must name the key, not echo the value.
        wrong_types = self._config(
            workdir, endpoint, "wrong-types.yaml",
            "  auth:\n    type: token\n    token: [\"" + self.token + "\"]",
            "    secret: {value: \"" + self.webhook_secret + "\"}")
        result = self._jobwatchd("--check-config", "--config", wrong_types)
        self.assertNotEqual(result.returncode, 0, "a list as the token passed --check-config")
        self.assertIn("token", result.stdout + result.stderr)
        self.assert_no_secret("--check-config (wrong-typed secrets)", result.stdout + result.stderr)

        # Valid secrets next to an unrelated error: still not echoed.
        valid = self._config(
            workdir, endpoint, "other-error.yaml",
            "  auth:\n    type: token\n    token: \"" + self.token + "\"\n  rate_limit: -1",
            "    secret: \"" + self.webhook_secret + "\"")
        result = self._jobwatchd("--check-config", "--config", valid)
        self.assertNotEqual(result.returncode, 0, "rate_limit: -1 passed --check-config")
        self.assert_no_secret("--check-config (other error)", result.stdout + result.stderr)

    def _failed_start(self, workdir: str, endpoint: str) -> None:
        # A token file that cannot be used: larger than a secret can be, made
        # of the token, so a message quoting the content would show it.
        token_file = self._write(os.path.join(workdir, "huge-token"),
                                 (self.token + "\n") * (70 * 1024 // len(self.token) + 1))
        config = self._config(
            workdir, endpoint, "bad-token-file.yaml",
            f"  auth:\n    type: token\n    token_file: \"{token_file}\"",
            "    secret: \"" + self.webhook_secret + "\"")
        result = self._jobwatchd("--config", config)
        where = "jobwatchd (unusable token_file)"
        self.assertNotEqual(result.returncode, 0, f"{where} started")
        self.assertIn(token_file, result.stdout + result.stderr, f"{where} names no file")
        self.assert_no_secret(where, result.stdout + result.stderr)
        # --check-config does not read secret files (it checks the YAML), but
        # whatever it prints must not carry the content either.
        result = self._jobwatchd("--check-config", "--config", config)
        self.assert_no_secret("jobwatchd --check-config (unusable token_file)",
                              result.stdout + result.stderr)

        # A token file the daemon cannot open at all.
        missing = os.path.join(workdir, "no-such-token")
        config = self._config(
            workdir, endpoint, "missing-token-file.yaml",
            f"  auth:\n    type: token\n    token_file: \"{missing}\"",
            "    secret: \"" + self.webhook_secret + "\"")
        result = self._jobwatchd("--config", config)
        self.assertNotEqual(result.returncode, 0, "start with a missing token_file succeeded")
        self.assertIn(missing, result.stdout + result.stderr)
        self.assert_no_secret("jobwatchd (missing token_file)", result.stdout + result.stderr)


if __name__ == "__main__":
    unittest.main()
