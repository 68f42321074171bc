"""iam-password authentication end to end against jobwatch-sim's fake IAM:

- tokens live 8 s, so they expire in the middle of the run: every job still
  finishes with exactly the expected events;
- POST /admin/iam/expire-all while 50 watches poll: the burst of 401s costs
  one new token (two if a proactive refresh raced), not one per poll;
- a wrong password: the watches show the failed refresh, nothing finishes;
- the password and tokens never appear in the daemon's debug log.
"""

from __future__ import annotations

import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

USER = "jobwatch-bot"
DOMAIN = "example-domain"
PASSWORD = "pw-" + os.urandom(12).hex()


def start_pair(workdir: str, daemon_password: str, ttl_s: int):
    sim_pw = h.write_secret(os.path.join(workdir, "sim-password"), PASSWORD)
    sim = h.Sim(workdir, extra_args=["--iam-user", USER, "--iam-domain", DOMAIN,
                                     "--iam-password-file", sim_pw,
                                     "--iam-token-ttl-s", str(ttl_s)]).start()
    daemon_pw = h.write_secret(os.path.join(workdir, "daemon-password"), daemon_password)
    daemon = h.Daemon(workdir, sim.endpoint, overrides={
        "api": {"auth": {"type": "iam-password", "iam_endpoint": sim.endpoint,
                         "domain": DOMAIN, "user": USER, "password_file": daemon_pw}},
        "log": {"level": "debug"},
    })
    try:
        daemon.start()
    except BaseException:
        sim.stop()
        raise
    return sim, daemon


def check_events(daemon: h.Daemon, expectations) -> None:
    def file_events():
        return h.read_jsonl(daemon.events_path) if os.path.exists(daemon.events_path) else []
    events = h.wait_for_events(file_events, expectations, 20, "file sink events")
    problems = h.check_event_stream("file", events, expectations)
    assert not problems, "\n".join(problems[:20])


def check_no_secret(daemon: h.Daemon) -> None:
    log = daemon.log_text()
    assert PASSWORD not in log, "the password appears in the daemon log"
    assert "MIIsim" not in log, "an IAM token appears in the daemon log"
    assert "token obtained" in log, "the debug log does not show token refreshes"


def test_tokens_expire_mid_run() -> None:
    with h.temp_workdir("iam-ttl") as workdir:
        sim, daemon = start_pair(workdir, PASSWORD, ttl_s=8)
        with h.logs_on_failure(sim, daemon):
            try:
                # Every fifth job is a v2 one: the same token serves every API.
                specs = [{"duration_s": 4 + i, "subjobs": 1,
                          "outcome": "failure" if i % 4 == 0 else "success",
                          **({"api": "app-v2" if i % 2 else "desktop-v2"} if i % 5 == 1 else {})}
                         for i in range(20)]
                expectations = sim.create_expected(specs, daemon.project_id)
                daemon.watch(expectations)
                finished = daemon.wait_finished(expectations, 90)
                for job_id, exp in expectations.items():
                    assert finished[job_id]["status"] == exp.final_status, finished[job_id]
                    assert finished[job_id]["api"] == exp.api, finished[job_id]
                check_events(daemon, expectations)
                stats = sim.stats()
                assert stats["iam_tokens_issued"] >= 3, stats  # 23 s of polling, 8 s tokens
                assert stats["wrong_api_requests"] == 0, stats
                assert all(stats["requests_by_api"].get(api) for api in ("app-v2", "desktop-v2"))
                check_no_secret(daemon)
            finally:
                daemon.stop()
                sim.stop()


def test_expire_all_costs_one_refresh() -> None:
    with h.temp_workdir("iam-burst") as workdir:
        sim, daemon = start_pair(workdir, PASSWORD, ttl_s=3600)
        with h.logs_on_failure(sim, daemon):
            try:
                specs = [{"duration_s": 25, "subjobs": 1} for _ in range(50)]
                expectations = sim.create_expected(specs, daemon.project_id)
                daemon.watch(expectations)

                def all_polled():
                    requests = sim.requests()
                    return all(requests.get(j, 0) >= 2 for j in expectations)
                h.wait_until(all_polled, 20, what="every watch polling")
                time.sleep(2.5)  # past the daemon's grace for 401s right after a new token
                before = sim.stats()
                polls_before = sim.requests()
                expired = sim.admin("POST", "/admin/iam/expire-all")
                assert expired["expired"] >= 1, expired

                def all_polled_again():
                    now = sim.requests()
                    return all(now.get(j, 0) >= polls_before.get(j, 0) + 2 for j in expectations)
                h.wait_until(all_polled_again, 30, what="every watch polling after expire-all")
                after = sim.stats()
                new_tokens = after["iam_tokens_issued"] - before["iam_tokens_issued"]
                new_401s = (after["by_status"].get("401", 0) - before["by_status"].get("401", 0))
                assert new_401s >= 1, (before, after)
                assert 1 <= new_tokens <= 2, f"{new_tokens} new tokens after {new_401s} 401s"

                finished = daemon.wait_finished(expectations, 60)
                for job_id, exp in expectations.items():
                    assert finished[job_id]["status"] == exp.final_status, finished[job_id]
                check_events(daemon, expectations)
                check_no_secret(daemon)
            finally:
                daemon.stop()
                sim.stop()


def test_wrong_password_is_shown() -> None:
    with h.temp_workdir("iam-bad") as workdir:
        sim, daemon = start_pair(workdir, "not-the-" + PASSWORD, ttl_s=3600)
        with h.logs_on_failure(sim, daemon):
            try:
                job = sim.create_job(duration_s=1)["job_id"]
                daemon.watch([job])
                shown: dict = {}

                def refresh_failed():
                    nonlocal shown
                    shown = h.ctl_json(["show", job], daemon.socket_path)
                    return "refresh failed" in json.dumps(shown)
                h.wait_until(refresh_failed, 20, what="a failed IAM refresh in Show")
                text = json.dumps(shown)
                assert "HTTP 401" in text, text
                assert PASSWORD not in text
                assert '"succeeded"' not in text, text
                stats = sim.stats()
                assert stats["iam_tokens_issued"] == 0, stats
                # Backoff: a handful of IAM attempts, not one per poll.
                assert stats["iam_requests"] <= 8, stats
                log = daemon.log_text()
                assert PASSWORD not in log, "the password appears in the daemon log"
            finally:
                daemon.stop()
                sim.stop()


def main() -> int:
    tests = [test_tokens_expire_mid_run, test_expire_all_costs_one_refresh,
             test_wrong_password_is_shown]
    return h.run_tests(tests)


if __name__ == "__main__":
    sys.exit(main())
