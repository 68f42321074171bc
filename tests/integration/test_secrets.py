"""Secrets never leave the daemon (SPEC: no token, key, password or webhook
secret appears in logs at debug level, in Show/Stats/GetInfo output, or in
any error message), for every kind of secret:

- static token + signed webhook: a daemon at log level debug runs jobs to
  completion through upstream faults (401, 500, 429) and webhook failures;
  neither the API token nor the webhook secret (nor its key bytes in hex or
  base64) may appear in its log, jobwatchctl --json list/show/stats, varlink
  GetInfo or Stats, or the errors of --check-config and of a failed start;
- aksk: a signing daemon (secret_key_file + inline security_token) runs jobs
  to completion; a second one with a wrong inline secret_key and a
  security_token_file gets 401s; neither SK, nor the security tokens, nor any
  Signature= value may appear in their logs and replies;
- iam-password: tokens live 5 s so the daemon refreshes mid-run; neither the
  password nor any issued token (MIIsim…) may appear; a second daemon with a
  wrong inline password shows the failed refresh, but not the password;
- --check-config with a wrong-typed secret_key / password names the key but
  does not echo the value.
"""

import base64
import json
import os
import re
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

ACCESS_KEY = "HPUATESTACCESSKEY001"
IAM_USER = "jobwatch-bot"
IAM_DOMAIN = "example-domain"

# What the wire credentials look like, whatever their value: an AK/SK
# Authorization header's signature (64 hex digits) and jobwatch-sim's IAM
# tokens ("MIIsim" + 64 hex digits, see src/jobwatch-sim/iam.cpp).
SIGNATURE_PATTERNS = {
    "an AK/SK signature (Signature=…)": re.compile(r"Signature=\s*\S"),
    "an AK/SK signature (64 hex digits)": re.compile(r"(?<![0-9a-fA-F])[0-9a-f]{64}(?![0-9a-fA-F])"),
}
IAM_TOKEN_PATTERNS = {
    "an IAM token (MIIsim prefix)": re.compile(r"MIIsim"),
    "an IAM token body": re.compile(r"[0-9a-f]{64}"),
}


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


def marker(prefix: str) -> str:
    return prefix + os.urandom(12).hex()


def subdir(workdir: str, name: str) -> str:
    """One daemon per folder: the harness puts its socket, state and log there."""
    path = os.path.join(workdir, name)
    os.makedirs(path, exist_ok=True)
    return path


def show_text(daemon: h.Daemon, job_id: str) -> str:
    result = h.run_ctl(["--json", "show", job_id], daemon.socket_path)
    assert result.returncode == 0, f"jobwatchctl show {job_id} exited {result.returncode}"
    return result.stdout + result.stderr


def daemon_outputs(daemon: h.Daemon, job_ids) -> dict[str, str]:
    """Everything the daemon tells a client, keyed by where it came from."""
    outputs = {}
    for args in (["--json", "list"], ["--json", "stats"], ["list"], ["stats"]):
        result = h.run_ctl(args, daemon.socket_path)
        assert result.returncode == 0, f"jobwatchctl {' '.join(args)} exited {result.returncode}"
        outputs["jobwatchctl " + " ".join(args)] = result.stdout + result.stderr
    for job_id in job_ids:
        outputs[f"jobwatchctl --json show {job_id}"] = show_text(daemon, job_id)
        result = h.run_ctl(["show", job_id], daemon.socket_path)
        outputs[f"jobwatchctl show {job_id}"] = result.stdout + result.stderr
    with daemon.client() as client:
        outputs["varlink GetInfo"] = json.dumps(client.call("org.varlink.service.GetInfo"))
        outputs["varlink Stats"] = json.dumps(client.call("io.jobwatch.Stats"))
        outputs["varlink List"] = json.dumps(client.call("io.jobwatch.List"))
    return outputs


class SecretsTest(unittest.TestCase):
    def setUp(self):
        self.token = "tok-" + os.urandom(16).hex()
        self.webhook_secret = h.new_webhook_secret()
        self.forms = secret_forms(self.token, self.webhook_secret)

    # ------------------------------------------------------------------
    # Assertions (they name the secret that leaked, never print it)

    def assert_no_secret(self, where: str, text: str, forms: dict[str, str] | None = None,
                         patterns: dict[str, re.Pattern] | None = None) -> None:
        for name, value in (self.forms if forms is None else forms).items():
            self.assertNotIn(value, text, f"the {name} appears in {where}")
        for name, pattern in (patterns or {}).items():
            self.assertIsNone(pattern.search(text), f"{name} appears in {where}")

    def assert_daemon_clean(self, daemon: h.Daemon, job_ids, forms, patterns=None) -> None:
        for where, text in daemon_outputs(daemon, job_ids).items():
            self.assert_no_secret(where, text, forms, patterns)
        self.assert_no_secret("the daemon's log", daemon.log_text(), forms, patterns)

    # ------------------------------------------------------------------
    # Static token + webhook secret

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
            daemon.watch(job_ids)
            daemon.wait_finished(job_ids, timeout=60)
            h.wait_until(lambda: len(receiver.snapshot()) >= len(job_ids), 30, interval=0.2,
                         what="webhook deliveries after the receiver's 500s")
            self.assertTrue(receiver.refused, "the receiver never refused a delivery")
            self.assertFalse(receiver.bad, "a delivery did not verify")
            self.assertGreater(sim.stats()["faults_injected"], 0)
            self.assert_daemon_clean(daemon, job_ids, self.forms)
        # The log did see the failures (the check above is not vacuous).
        log = daemon.log_text()
        self.assertIn("401", log)
        return daemon

    # ------------------------------------------------------------------
    # AK/SK: secret key, security token, signatures

    def test_aksk_secrets_stay_out(self):
        secret_key = marker("sk-")
        wrong_key = marker("wrong-sk-")
        forms = {"secret key": secret_key, "wrong secret key": wrong_key,
                 "security token": marker("sectok-"), "security token (file)": marker("sectok-f-")}
        with h.temp_workdir("secrets-aksk") as workdir:
            sim = h.Sim(workdir, extra_args=[
                "--aksk-access-key", ACCESS_KEY,
                "--aksk-secret-key-file", h.write_secret(os.path.join(workdir, "sim-sk"), secret_key),
            ]).start()
            try:
                self._aksk_good(workdir, sim, forms)
                self._aksk_wrong_key(workdir, sim, forms)
            finally:
                sim.stop()

    def _aksk_good(self, workdir: str, sim: h.Sim, forms: dict[str, str]) -> None:
        home = subdir(workdir, "good")
        sk_file = h.write_secret(os.path.join(home, "sk"), forms["secret key"])
        daemon = h.Daemon(home, sim.endpoint, overrides={
            "api": {"auth": {"type": "aksk", "access_key": ACCESS_KEY,
                             "secret_key_file": sk_file,
                             "security_token": forms["security token"]}},
            "log": {"level": "debug"}})
        with h.logs_on_failure(sim, daemon):
            try:
                daemon.start()
                job_ids = [sim.create_job(duration_s=2)["job_id"] for _ in range(3)]
                daemon.watch(job_ids)
                finished = daemon.wait_finished(job_ids, 30)
                for j in job_ids:
                    self.assertIn(finished[j]["status"], ("succeeded", "failed"))
                self.assertNotIn("401", json.dumps(sim.stats().get("by_status", {})))
                self.assert_daemon_clean(daemon, job_ids, forms, SIGNATURE_PATTERNS)
            finally:
                daemon.stop()
        self.assert_no_secret("the daemon's log", daemon.log_text(), forms, SIGNATURE_PATTERNS)
        self.assertIn(" debug ", daemon.log_text(), "the log is not at debug level")

    def _aksk_wrong_key(self, workdir: str, sim: h.Sim, forms: dict[str, str]) -> None:
        home = subdir(workdir, "wrong")
        token_file = h.write_secret(os.path.join(home, "sectok"), forms["security token (file)"])
        daemon = h.Daemon(home, sim.endpoint, overrides={
            "api": {"auth": {"type": "aksk", "access_key": ACCESS_KEY,
                             "secret_key": forms["wrong secret key"],
                             "security_token_file": token_file}},
            "log": {"level": "debug"}})
        with h.logs_on_failure(sim, daemon):
            try:
                daemon.start()
                job = sim.create_job(duration_s=1)["job_id"]
                daemon.watch([job])
                h.wait_until(lambda: "401" in show_text(daemon, job), 20,
                             what="a 401 last_error for the wrong secret key")
                self.assert_daemon_clean(daemon, [job], forms, SIGNATURE_PATTERNS)
            finally:
                daemon.stop()
        self.assert_no_secret("the daemon's log (wrong SK)", daemon.log_text(), forms,
                              SIGNATURE_PATTERNS)

    # ------------------------------------------------------------------
    # IAM password and the tokens it buys

    def test_iam_secrets_stay_out(self):
        password = marker("pw-")
        forms = {"IAM password": password, "wrong IAM password": marker("wrong-pw-")}
        with h.temp_workdir("secrets-iam") as workdir:
            sim = h.Sim(workdir, extra_args=[
                "--iam-user", IAM_USER, "--iam-domain", IAM_DOMAIN,
                "--iam-password-file", h.write_secret(os.path.join(workdir, "sim-pw"), password),
                "--iam-token-ttl-s", "5"]).start()
            try:
                self._iam_good(workdir, sim, forms)
                self._iam_wrong_password(workdir, sim, forms)
            finally:
                sim.stop()

    def _iam_daemon(self, home: str, sim: h.Sim, auth: dict) -> h.Daemon:
        return h.Daemon(home, sim.endpoint, overrides={
            "api": {"auth": {"type": "iam-password", "iam_endpoint": sim.endpoint,
                             "domain": IAM_DOMAIN, "user": IAM_USER, **auth}},
            "log": {"level": "debug"}})

    def _iam_good(self, workdir: str, sim: h.Sim, forms: dict[str, str]) -> None:
        home = subdir(workdir, "good")
        pw_file = h.write_secret(os.path.join(home, "pw"), forms["IAM password"])
        daemon = self._iam_daemon(home, sim, {"password_file": pw_file})
        with h.logs_on_failure(sim, daemon):
            try:
                daemon.start()
                # 7-9 s of polling with 5 s tokens: at least one refresh mid-run.
                job_ids = [sim.create_job(duration_s=7 + i % 3, subjobs=1)["job_id"]
                           for i in range(4)]
                daemon.watch(job_ids)
                finished = daemon.wait_finished(job_ids, 40)
                for j in job_ids:
                    self.assertIn(finished[j]["status"], ("succeeded", "failed"))
                self.assertGreaterEqual(sim.stats()["iam_tokens_issued"], 2,
                                        "no token refresh happened during the run")
                self.assert_daemon_clean(daemon, job_ids, forms, IAM_TOKEN_PATTERNS)
            finally:
                daemon.stop()
        log = daemon.log_text()
        self.assert_no_secret("the daemon's log", log, forms, IAM_TOKEN_PATTERNS)
        self.assertIn("token obtained", log, "the debug log does not show token refreshes")

    def _iam_wrong_password(self, workdir: str, sim: h.Sim, forms: dict[str, str]) -> None:
        home = subdir(workdir, "wrong")
        daemon = self._iam_daemon(home, sim, {"password": forms["wrong IAM password"]})
        with h.logs_on_failure(sim, daemon):
            try:
                daemon.start()
                job = sim.create_job(duration_s=1)["job_id"]
                daemon.watch([job])
                h.wait_until(lambda: "refresh failed" in show_text(daemon, job), 20,
                             what="a failed IAM refresh in Show")
                stats = daemon_outputs(daemon, [])["jobwatchctl --json stats"]
                self.assertIn("refresh failed", stats, "Stats does not show the failed refresh")
                self.assert_daemon_clean(daemon, [job], forms, IAM_TOKEN_PATTERNS)
            finally:
                daemon.stop()
        self.assert_no_secret("the daemon's log (wrong password)", daemon.log_text(), forms,
                              IAM_TOKEN_PATTERNS)

    # ------------------------------------------------------------------
    # Config errors and failed starts

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

    def test_check_config_reads_the_secret_files(self):
        # ExecStartPre= runs --check-config: a secret file that is missing must
        # fail it with 78 (not restarted), naming the setting but not the value.
        with h.temp_workdir("secrets-files") as workdir:
            creds = os.path.join(workdir, "creds")
            os.makedirs(creds)
            self._write(os.path.join(creds, "jobwatch_api-token"), self.token + "\n")
            missing = os.path.join(workdir, "no-such-token")
            absent = self._config(workdir, "http://127.0.0.1:9", "absent.yaml",
                                  f"  auth:\n    type: token\n    token_file: \"{missing}\"",
                                  "    secret_file: \"jobwatch_webhook-secret\"")
            result = self._jobwatchd("--check-config", "--config", absent)
            self.assertEqual(result.returncode, 78, h.describe(result))
            self.assertIn(f"api.auth.token: cannot read {missing}", result.stderr)
            # Relative names are systemd credentials: unchecked without
            # $CREDENTIALS_DIRECTORY, read from it when set.
            relative = self._config(workdir, "http://127.0.0.1:9", "relative.yaml",
                                    "  auth:\n    type: token\n    token_file: jobwatch_api-token",
                                    "")
            result = self._jobwatchd("--check-config", "--config", relative)
            self.assertEqual(result.returncode, 0, h.describe(result))
            self.assertIn("1 relative secret file(s) not checked", result.stdout)
            env = dict(os.environ, CREDENTIALS_DIRECTORY=creds)
            result = subprocess.run([h.jobwatchd(), "--check-config", "--config", relative],
                                    capture_output=True, text=True, timeout=20, env=env)
            self.assertEqual(result.returncode, 0, h.describe(result))
            self.assertNotIn("not checked", result.stdout)
            self.assert_no_secret("--check-config (credentials)", result.stdout + result.stderr)
            os.unlink(os.path.join(creds, "jobwatch_api-token"))
            result = subprocess.run([h.jobwatchd(), "--check-config", "--config", relative],
                                    capture_output=True, text=True, timeout=20, env=env)
            self.assertEqual(result.returncode, 78, h.describe(result))
            self.assertIn("jobwatch_api-token", result.stderr)

    def test_check_config_wrong_typed_key_and_password(self):
        cases = {
            "secret_key": (f"  auth:\n    type: aksk\n    access_key: \"{ACCESS_KEY}\"\n"
                           "    secret_key: [\"{value}\"]\n"
                           "    security_token: {{a: \"{value}\"}}"),
            "password": ("  auth:\n    type: iam-password\n    iam_endpoint: \"http://127.0.0.1:9\"\n"
                         f"    domain: {IAM_DOMAIN}\n    user: {IAM_USER}\n"
                         "    password: {{a: \"{value}\"}}"),
        }
        with h.temp_workdir("secrets-types") as workdir:
            for key, auth_yaml in cases.items():
                value = marker("wrongtype-")
                config = self._config(workdir, "http://127.0.0.1:9", f"{key}.yaml",
                                      auth_yaml.format(value=value),
                                      "    secret: \"" + self.webhook_secret + "\"")
                for args in (["--check-config", "--config", config], ["--config", config]):
                    result = self._jobwatchd(*args)
                    where = f"jobwatchd {args[0]} (wrong-typed {key})"
                    output = result.stdout + result.stderr
                    self.assertNotEqual(result.returncode, 0, f"{where} succeeded")
                    self.assertIn(key, output, f"{where} does not name the key")
                    self.assert_no_secret(where, output, {f"wrong-typed {key}": value,
                                                          "marker tail": value[-12:]})
                    self.assert_no_secret(where, output)

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
