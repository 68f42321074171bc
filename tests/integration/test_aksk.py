"""AK/SK authentication end to end: jobwatchd signs every job request
(SDK-HMAC-SHA256) and jobwatch-sim verifies the signatures.

- right AK/SK: the jobs (app-v1, and one each of app-v2 and desktop-v2)
  finish and their events are written;
- wrong SK: every poll is a 401, shown as the watches' last_error, and
  nothing finishes;
- the simulated gateway's clock 30 min ahead: the daemon corrects its
  X-Sdk-Date from the 401's Date header and the jobs still finish;
- the secret key never appears in the daemon's (debug) log.
"""

from __future__ import annotations

import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

ACCESS_KEY = "HPUATESTACCESSKEY001"
SECRET_KEY = "sk-" + os.urandom(12).hex()


def start_pair(workdir: str, daemon_sk: str, skew_s: int = 0):
    sim_sk_file = h.write_secret(os.path.join(workdir, "sim-sk"), SECRET_KEY)
    sim = h.Sim(workdir, extra_args=["--aksk-access-key", ACCESS_KEY,
                                     "--aksk-secret-key-file", sim_sk_file,
                                     "--clock-skew-s", str(skew_s)]).start()
    daemon_sk_file = h.write_secret(os.path.join(workdir, "daemon-sk"), daemon_sk)
    daemon = h.Daemon(workdir, sim.endpoint, overrides={
        "api": {"auth": {"type": "aksk", "access_key": ACCESS_KEY,
                         "secret_key_file": daemon_sk_file}},
        "log": {"level": "debug"},
    })
    try:
        daemon.start()
    except BaseException:
        sim.stop()
        raise
    return sim, daemon


def check_events(daemon: h.Daemon, job_ids) -> None:
    def all_written():
        if not os.path.exists(daemon.events_path):
            return False
        seen = {e.get("data", {}).get("job_id") for e in h.read_jsonl(daemon.events_path)}
        return all(j in seen for j in job_ids)
    h.wait_until(all_written, 20, what="events for every job in the file sink")


def check_no_secret(daemon: h.Daemon) -> None:
    log = daemon.log_text()
    assert SECRET_KEY not in log, "the secret key appears in the daemon log"
    assert "Signature=" not in log, "a signature appears in the daemon log"


def test_signed_requests_finish() -> None:
    with h.temp_workdir("aksk-ok") as workdir:
        sim, daemon = start_pair(workdir, SECRET_KEY)
        with h.logs_on_failure(sim, daemon):
            try:
                jobs = [sim.create_job(duration_s=2)["job_id"] for _ in range(3)]
                daemon.watch(jobs)
                # The v2 paths are signed as well (the signature covers the path).
                v2 = sim.create_expected(
                    [{"project_id": daemon.project_id, "api": api, "duration_s": 2, "subjobs": 1}
                     for api in ("app-v2", "desktop-v2")], daemon.project_id)
                daemon.watch(v2)
                jobs += list(v2)
                finished = daemon.wait_finished(jobs, 60)
                for j, exp in v2.items():
                    assert finished[j]["api"] == exp.api, finished[j]
                assert sim.stats().get("wrong_api_requests") == 0, sim.stats()
                for j in jobs:
                    assert finished[j]["status"] in ("succeeded", "failed"), finished[j]
                check_events(daemon, jobs)
                stats = sim.stats()
                assert "401" not in json.dumps(stats.get("by_status", {})), stats
                check_no_secret(daemon)
            finally:
                daemon.stop()
                sim.stop()


def test_wrong_secret_key_is_a_persistent_401() -> None:
    with h.temp_workdir("aksk-bad") as workdir:
        sim, daemon = start_pair(workdir, "not-the-" + SECRET_KEY)
        with h.logs_on_failure(sim, daemon):
            try:
                job = sim.create_job(duration_s=1)["job_id"]
                daemon.watch([job])
                h.wait_until(lambda: "401" in json.dumps(h.ctl_json(["show", job],
                                                                    daemon.socket_path)),
                             20, what="a 401 last_error")
                time.sleep(4)  # the job is long over at the simulator by now
                text = json.dumps(h.ctl_json(["show", job], daemon.socket_path))
                assert "401" in text and "APIGW.0301" in text, text
                assert all(s not in text for s in ('"succeeded"', '"failed"')), text
                assert SECRET_KEY not in text
                check_no_secret(daemon)
            finally:
                daemon.stop()
                sim.stop()


def test_skewed_gateway_clock_is_corrected() -> None:
    with h.temp_workdir("aksk-skew") as workdir:
        sim, daemon = start_pair(workdir, SECRET_KEY, skew_s=1800)
        with h.logs_on_failure(sim, daemon):
            try:
                jobs = [sim.create_job(duration_s=2)["job_id"] for _ in range(2)]
                daemon.watch(jobs)
                finished = daemon.wait_finished(jobs, 60)
                for j in jobs:
                    assert finished[j]["status"] in ("succeeded", "failed"), finished[j]
                check_events(daemon, jobs)
                assert "API gateway's clock is" in daemon.log_text(), "no clock correction logged"
                check_no_secret(daemon)
            finally:
                daemon.stop()
                sim.stop()


def main() -> int:
    tests = [test_signed_requests_finish, test_wrong_secret_key_is_a_persistent_401,
             test_skewed_gateway_clock_is_corrected]
    return h.run_tests(tests)


if __name__ == "__main__":
    sys.exit(main())
