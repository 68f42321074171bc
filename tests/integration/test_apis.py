"""The three job APIs on one daemon (SPEC §1, §1.3, §3, §5): 45 jobs spread
over app-v1, app-v2 and desktop-v2 — a random mix plus subjobs that roll back
and then fail, subjobs and jobs that end ABNORMAL, and jobs that send a
status nobody documented for a while before they succeed — watched with
file and webhook sinks. Every expected event arrives exactly once at both,
with `api`, `job_type`, `upstream_status` and the error fields right; no
request goes to another API's path; List shows each watch's api; bad api
values are rejected as InvalidParameter `api`; and `jobwatchctl wait --api
desktop-v2` exits 0 on a job that succeeds.
"""

import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

APIS = ["app-v1", "app-v2", "desktop-v2"]
FINISH_TIMEOUT_S = 90
DRAIN_TIMEOUT_S = 30
SETTLE_S = 2


def steps(*pairs):
    return [{"at_s": at, "status": status} for at, status in pairs]


def special_specs(project: str) -> list[dict]:
    """The cases the random mix does not make."""
    rollback = steps((0, "WAITING"), (0.5, "RUNNING"), (2, "ROLLBACK"), (4, "FAILED"))
    return [
        # Subjobs that roll back, then fail; the job fails with them.
        {"project_id": project, "api": "app-v2", "job_type": "CHANGE_SERVER_IMAGE",
         "timeline": steps((0, "WAITING"), (0.5, "RUNNING"), (4.5, "FAILED")),
         "subjobs": [{"timeline": rollback, "error_code": "WKS.00010002",
                      "error_message": "rolled back: image not found"},
                     {"duration_s": 1.5}]},
        {"project_id": project, "api": "desktop-v2", "job_type": "rebuildDesktops",
         "timeline": steps((0, "INIT"), (0.5, "RUNNING"), (2, "ABORTING"), (4.5, "FAIL")),
         "job_error_code": "WKS.0040", "fail_reason": "rebuild aborted",
         "subjobs": [{"timeline": rollback, "error_code": "WKS.00020001",
                      "fail_reason": "rollback finished", "message": "rebuild failed"}]},
        # ABNORMAL: a subjob on app-v2, the job itself on desktop-v2.
        {"project_id": project, "api": "app-v2",
         "timeline": steps((0, "RUNNING"), (3.5, "FAILED")),
         "subjobs": [{"duration_s": 1},
                     {"timeline": steps((0.5, "RUNNING"), (3, "ABNORMAL")),
                      "error_code": "WKS.00010009", "error_message": "server is abnormal"}]},
        {"project_id": project, "api": "desktop-v2",
         "timeline": steps((0, "WAITING"), (0.5, "RUNNING"), (3, "ABNORMAL")),
         "subjobs": [{"duration_s": 1}]},
        # A status nobody documented for a while, then success.
        {"project_id": project, "api": "app-v2", "job_type": "UPGRADE_ACCESS_AGENT",
         "timeline": steps((0, "RUNNING"), (0.8, "PAUSED_X"), (4.5, "RUNNING"), (5.5, "SUCCESS")),
         "subjobs": [{"duration_s": 5}]},
        {"project_id": project, "api": "desktop-v2",
         "timeline": steps((0, "INIT"), (0.8, "HIBERNATING"), (4.5, "SUCCESS")),
         "subjobs": [{"timeline": steps((0, "INIT"), (1, "RUNNING"), (4, "SUCCESS"))}]},
    ]


class JobApis(unittest.TestCase):
    def test_three_apis_on_one_daemon(self):
        receiver = h.WebhookReceiver(h.new_webhook_secret()).start()
        with h.stack("apis", seed=11, receiver=receiver) as s:
            problems = self.scenario(s.sim, s.daemon, receiver)
            if problems:
                self.fail(h.scrub("\n".join(problems[:60]), receiver.secret))

    def scenario(self, sim, daemon, receiver) -> list[str]:
        project = daemon.project_id
        specs = h.random_job_specs(project, 39, seed=3, api=APIS) + special_specs(project)
        expectations = sim.create_expected(specs, project)
        self.assertGreaterEqual(len(expectations), 45)
        by_api = {api: sum(1 for e in expectations.values() if e.api == api) for api in APIS}
        self.assertTrue(all(n >= 13 for n in by_api.values()), by_api)
        undocumented = [j for j, spec in zip(expectations, specs)
                        if any(st["status"] in ("PAUSED_X", "HIBERNATING")
                               for st in spec.get("timeline", []))]
        self.assertEqual(len(undocumented), 2)
        # What the event checks compare with: the simulator said it for every job.
        self.assertTrue(all(e.upstream_status is not None for e in expectations.values()))
        self.assertTrue(all(len(e.subjob_upstream) == len(e.subjobs) for e in expectations.values()))

        reply = daemon.watch(expectations, labels={"suite": "apis"})
        for exp in expectations.values():
            exp.labels = {"suite": "apis"}
            exp.watched_at = time.time()
        problems = []
        for info in reply["watches"]:
            exp = expectations[info["job_id"]]
            if info.get("api") != exp.api or info.get("created") is not True:
                problems.append(f"Watch reply for {exp.job_id}: {info}")

        problems += self.check_bad_api(daemon, expectations)
        problems += self.check_undocumented(daemon, undocumented)
        final = daemon.wait_finished(expectations, FINISH_TIMEOUT_S)
        for job_id, exp in expectations.items():
            info = final[job_id]
            if info.get("status") != exp.final_status:
                problems.append(f"{job_id} ({exp.api}): ended {info.get('status')!r}, "
                                f"expected {exp.final_status!r}")
            if info.get("api") != exp.api:
                problems.append(f"List shows {job_id} as {info.get('api')!r}, not {exp.api!r}")
            if exp.job_type is not None and info.get("job_type") != str(exp.job_type):
                problems.append(f"List shows {job_id} job_type {info.get('job_type')!r}, "
                                f"expected {exp.job_type!r}")

        file_events = h.wait_for_events(lambda: h.read_jsonl(daemon.events_path), expectations,
                                        DRAIN_TIMEOUT_S, "file sink")
        h.wait_for_events(lambda: [r["event"] for r in receiver.snapshot() if r["event"]],
                          expectations, DRAIN_TIMEOUT_S, "webhook")
        time.sleep(SETTLE_S)
        file_events = h.read_jsonl(daemon.events_path)
        hook_events = [r["event"] for r in receiver.snapshot() if r["event"]]
        problems += h.check_event_stream("file", file_events, expectations)
        problems += h.check_event_stream("webhook", hook_events, expectations)
        problems += [f"webhook: {bad}" for bad in receiver.bad]
        problems += self.check_special_events(file_events, expectations, specs)

        stats = sim.stats()
        if stats.get("wrong_api_requests") != 0:
            problems.append(f"requests on another API's path: {stats.get('wrong_api_by_job')}")
        for api in APIS:
            if not (stats.get("requests_by_api") or {}).get(api):
                problems.append(f"no request reached {api}: {stats.get('requests_by_api')}")
        problems += self.check_ctl_wait(sim, daemon)
        sys.stderr.write(f"\n{len(expectations)} jobs {by_api}; upstream requests by api "
                         f"{stats.get('requests_by_api')}, wrong api "
                         f"{stats.get('wrong_api_requests')}\n")
        return problems

    def check_bad_api(self, daemon, expectations) -> list[str]:
        problems = []
        v2_job = next(j for j, e in expectations.items() if e.api == "app-v2")
        calls = [
            ("unknown api", {"jobs": [{"job_id": "fresh-1", "api": "app-v3"}]}),
            ("not a string", {"jobs": [{"job_id": "fresh-2", "api": 2}]}),
            ("another api than the watch's", {"jobs": [{"job_id": v2_job, "api": "app-v1"}]}),
            ("two apis in one call", {"jobs": [{"job_id": "fresh-3", "api": "app-v1"},
                                               {"job_id": "fresh-3", "api": "desktop-v2"}]}),
        ]
        with daemon.client() as client:
            for what, params in calls:
                try:
                    client.call("io.jobwatch.Watch", params)
                    problems.append(f"Watch with {what} was accepted")
                except h.VarlinkError as e:
                    if (e.error != "org.varlink.service.InvalidParameter"
                            or e.parameters.get("parameter") != "api"):
                        problems.append(f"Watch with {what}: {e.error} {e.parameters}")
        listed = daemon.watches()
        for fresh in ("fresh-1", "fresh-2", "fresh-3"):
            if fresh in listed:
                problems.append(f"a rejected Watch created {fresh}")
        if listed.get(v2_job, {}).get("api") != "app-v2":
            problems.append(f"a rejected Watch changed {v2_job}: {listed.get(v2_job)}")
        bad = h.run_ctl(["watch", "fresh-4", "--api", "v2"], daemon.socket_path)
        if bad.returncode != 64:
            problems.append(f"jobwatchctl --api v2: {h.describe(bad)}")
        other = h.run_ctl(["watch", v2_job, "--api", "desktop-v2"], daemon.socket_path)
        if other.returncode != 65 or "api" not in other.stderr:
            problems.append(f"jobwatchctl watch --api desktop-v2 on an app-v2 watch: "
                            f"{h.describe(other)}")
        return problems

    def check_undocumented(self, daemon, job_ids) -> list[str]:
        """While the API sends an undocumented status, the watch says so in
        last_error and goes on polling; it does not end."""
        seen = set()

        def reported():
            for job_id in job_ids:
                info = daemon.watches().get(job_id, {})
                if ("unknown value" in (info.get("last_error") or "")
                        and info.get("status") not in h.TERMINAL_STATES):
                    seen.add(job_id)
            return seen == set(job_ids)

        try:
            h.wait_until(reported, 10, interval=0.1, what="last_error for undocumented statuses")
        except h.HarnessError as e:
            return [f"{e}: saw it for {sorted(seen)}"]
        return []

    def check_special_events(self, events, expectations, specs) -> list[str]:
        """Spot checks on the hand-made cases beyond the generic ones."""
        problems = []
        by_key = {h.event_key(e): e for e in events}
        rollback_job = list(expectations)[39]
        exp = expectations[rollback_job]
        sub_id = next(iter(exp.subjob_upstream), None)
        event = by_key.get((rollback_job, sub_id, "subjob.failed"))
        if event is None:
            return [f"no subjob.failed for the rolled-back subjob of {rollback_job}"]
        data = event["data"]
        want = {"api": "app-v2", "status": "failed", "status_code": 0, "upstream_status": "FAILED",
                "previous_status": "handling", "execute_code": "WKS.00010002",
                "execute_message": "rolled back: image not found"}
        for key, value in want.items():
            if data.get(key) != value:
                problems.append(f"rolled-back subjob event: data.{key} {data.get(key)!r} != {value!r}")
        abnormal_job = list(expectations)[42]
        job_event = by_key.get((abnormal_job, "", "job.failed"))
        if job_event is None or job_event["data"].get("upstream_status") != "ABNORMAL":
            problems.append(f"desktop ABNORMAL job event: {job_event}")
        elif job_event["data"].get("api") != "desktop-v2":
            problems.append(f"desktop ABNORMAL job event api: {job_event['data'].get('api')}")
        return problems

    def check_ctl_wait(self, sim, daemon) -> list[str]:
        spec = {"project_id": daemon.project_id, "api": "desktop-v2", "duration_s": 1.5,
                "subjobs": 2}
        job = sim.create_jobs([spec])["jobs"][0]["job_id"]
        result = h.run_ctl(["wait", job, "--api", "desktop-v2", "--timeout", "30s"],
                           daemon.socket_path, timeout=40)
        if result.returncode != 0:
            return [f"jobwatchctl wait --api desktop-v2: {h.describe(result)}"]
        if daemon.watches().get(job, {}).get("api") != "desktop-v2":
            return [f"wait --api desktop-v2 watched {job} as {daemon.watches().get(job)}"]
        return []


if __name__ == "__main__":
    unittest.main(verbosity=2)
