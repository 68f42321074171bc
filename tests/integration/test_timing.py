"""Poll timing (SPEC §7) end to end: the daemon learns how long each
(api, project, job type) takes, polls later jobs where their end is likely
(poll.target_delay apart) and sparsely elsewhere, shows the models through
`jobwatchctl timing`, prints the finished jobs as a replay trace through
`jobwatchctl timing --trace`, and keeps the models across kill -9.

Three projects of app-v1 jobs of 4-8 s: honest estimates, estimates that
run late (the job takes 1.5x the estimate), and no estimate at all. Jobs
start one every ~2 s per project for about a minute.

The simulated API's clock runs an hour ahead of the host's (its Date
header says so): the job times are in that clock, so the daemon must read
ages as now + the offset it learned, or it would take every job for not
begun yet and poll at max_interval.
"""

import calendar
import json
import os
import random
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

JOBS_PER_PROJECT = 30
SPACING_S = 2.0
LEARNING_JOBS = 12  # the later jobs (the rest) are the ones measured
# app-v1's end_time and the event's observed_at are whole seconds, so a true
# delay of up to target_delay (1 s) reads as up to 2 s. (The brief's ~1.5 s
# cannot be read off whole-second stamps.)
MAX_DELAY_S = 2
# How far the simulator's clock (its job times and Date headers) is ahead.
API_CLOCK_AHEAD_S = 3600
TRACE_FIELDS = {"project_id", "api", "job_type", "submitted_at", "begin_at", "expected_end_at",
                "end_at", "outcome"}
OVERRIDES = {"poll": {"target_delay": "1s", "min_interval": "200ms", "max_interval": "6s"},
             "api": {"rate_limit": 200}}


def parse_time(text: str) -> float:
    return calendar.timegm(time.strptime(text[:19], "%Y-%m-%dT%H:%M:%S"))


def kinds():
    return {"honest": lambda d: d, "late": lambda d: d / 1.5, "none": lambda d: None}


class Timing(unittest.TestCase):
    def test_learns_polls_where_likely_and_keeps_the_models(self):
        with h.stack("timing", seed=71, overrides=OVERRIDES) as s:
            s.sim.admin("POST", "/admin/clock", {"advance_s": API_CLOCK_AHEAD_S})
            projects = {kind: h.random_project_id() for kind in kinds()}
            started = {}  # job_id -> (kind, index, watched_at)
            lock = threading.Lock()

            def feed(kind):
                # One generator per project, so each run has the same
                # durations: with one shared by the three threads they
                # changed from run to run, and one run in seven had a
                # measured job seen max_interval (6 s) late — likely one
                # that ran past every duration its model had learned,
                # which SPEC §7 polls at max_interval.
                rng = random.Random(f"timing-{kind}")
                estimate = kinds()[kind]
                project = projects[kind]
                for i in range(JOBS_PER_PROJECT):
                    duration = rng.uniform(4.0, 8.0)
                    spec = {"project_id": project, "duration_s": duration,
                            "initializing_s": 0.2, "outcome": "success",
                            "expected_end_offset_s": estimate(duration)}
                    job = s.sim.create_job(**spec)
                    with s.daemon.client() as client:
                        client.call("io.jobwatch.Watch",
                                    {"jobs": [{"job_id": job["job_id"], "project_id": project}]})
                    with lock:
                        started[job["job_id"]] = (kind, i)
                    time.sleep(SPACING_S)

            threads = [threading.Thread(target=feed, args=(k,)) for k in kinds()]
            for t in threads:
                t.start()
            for t in threads:
                t.join()

            def all_done():
                with s.daemon.client() as client:
                    watches = client.call("io.jobwatch.List").get("watches") or []
                mine = [w for w in watches if w["job_id"] in started]
                done = [w for w in mine if w["status"] in h.TERMINAL_STATES]
                return mine if len(done) == len(started) else None

            watches = h.wait_until(all_done, 60, what="every timing job to end")
            polls = {w["job_id"]: w["polls"] for w in watches}
            events = {e["data"]["job_id"]: e for e in h.read_jsonl(s.daemon.events_path)
                      if e["type"] in ("job.succeeded", "job.failed")}
            problems = []
            for kind in kinds():
                delays, calls, fixed = [], 0, 0
                for job_id, (k, i) in started.items():
                    if k != kind or i < LEARNING_JOBS:
                        continue
                    event = events.get(job_id)
                    if event is None:
                        problems.append(f"{kind}: no job event for {job_id}")
                        continue
                    data = event["data"]
                    # observed_at is the host's clock, end_time the API's.
                    delay = (parse_time(data["observed_at"]) + API_CLOCK_AHEAD_S
                             - parse_time(data["end_time"]))
                    delays.append(delay)
                    calls += polls[job_id]
                    # A 1 s loop from the watch to the end: one call a second,
                    # plus the one that sees the end.
                    run_s = parse_time(data["end_time"]) - parse_time(data["begin_time"]) + 0.2
                    fixed += int(run_s) + 2
                delays.sort()
                p99 = delays[min(len(delays) - 1, int(0.99 * len(delays)))] if delays else None
                print(f"{kind}: {len(delays)} later jobs, delay p50 "
                      f"{delays[len(delays) // 2] if delays else '-'} s p99 {p99} s, "
                      f"{calls} polls (a 1 s loop: ~{fixed})")
                if p99 is None or p99 > MAX_DELAY_S:
                    problems.append(f"{kind}: p99 delay {p99} s > {MAX_DELAY_S} s: {delays}")
                if delays and delays[len(delays) // 2] > MAX_DELAY_S:
                    problems.append(f"{kind}: median delay {delays[len(delays) // 2]} s")
                if calls >= fixed:
                    problems.append(f"{kind}: {calls} polls, a 1 s loop would make ~{fixed}")
            self.assertEqual(problems, [], "\n".join(problems))

            def keys(reply):
                return {(m["api"], m["project_id"]): m for m in reply["models"]}

            models = keys(h.ctl_json(["timing"], s.daemon.socket_path))
            for kind, project in projects.items():
                model = models.get(("app-v1", project))
                self.assertIsNotNone(model, f"{kind}: no model in {models}")
                self.assertEqual(model["jobs"], JOBS_PER_PROJECT)
                self.assertIn("window", model)
                self.assertEqual("estimate_error" in model, kind != "none", model)
            self.assertGreater(models[("app-v1", projects["late"])]["estimate_error"]["p50"], 1.3)
            text = h.run_ctl(["timing"], s.daemon.socket_path)
            self.assertEqual(text.returncode, 0, h.describe(text))
            for project in projects.values():
                self.assertIn(project, text.stdout)

            with s.daemon.client() as client:
                clock = client.call("io.jobwatch.Stats")["engine"]["polls"]["api_clock"]
            self.assertAlmostEqual(clock["app_streaming"]["offset_s"], API_CLOCK_AHEAD_S,
                                   delta=1.5, msg=clock)

            self.check_trace(s, projects, started)

            s.daemon.kill()
            s.daemon.start()
            after = keys(h.ctl_json(["timing"], s.daemon.socket_path))
            for kind, project in projects.items():
                self.assertEqual(after[("app-v1", project)]["jobs"], JOBS_PER_PROJECT, kind)
                self.assertEqual(after[("app-v1", project)]["duration_s"],
                                 models[("app-v1", project)]["duration_s"], kind)

    def check_trace(self, s, projects, started):
        """`timing --trace`: one JSON line per job seen to end, in the
        format of docs/TRACE-FORMAT.md, in order of submission."""
        result = h.run_ctl(["timing", "--trace"], s.daemon.socket_path)
        self.assertEqual(result.returncode, 0, h.describe(result))
        lines = result.stdout.splitlines()
        self.assertEqual(len(lines), len(started), result.stdout[:2000])
        jobs = [json.loads(line) for line in lines]
        kind_of = {project: kind for kind, project in projects.items()}
        for job in jobs:
            self.assertLessEqual(TRACE_FIELDS, set(job), job)
            self.assertEqual(job["api"], "app-v1", job)
            self.assertIn(job["project_id"], kind_of, job)
            self.assertEqual(job["outcome"], "succeeded", job)
            self.assertGreaterEqual(job["begin_at"], 0, job)
            self.assertGreaterEqual(job["submitted_at"], 0, job)
            self.assertGreaterEqual(job["end_at"], job["begin_at"], job)
            self.assertGreaterEqual(job["end_at"] - job["begin_at"], 3, job)  # 4-8 s jobs
            # Submission and begin share the API's clock: each job was
            # watched right after the simulator made it (it begins 0.2 s
            # later), not an hour apart.
            self.assertLess(abs(job["submitted_at"] - job["begin_at"]), 5, job)
            estimated = kind_of[job["project_id"]] != "none"
            self.assertEqual(job["expected_end_at"] is not None, estimated, job)
        self.assertEqual(min(min(j["submitted_at"], j["begin_at"]) for j in jobs), 0)
        submitted = [j["submitted_at"] for j in jobs]
        self.assertEqual(submitted, sorted(submitted))
        # --json changes nothing: the lines are JSON already.
        with_json = h.run_ctl(["--json", "timing", "--trace"], s.daemon.socket_path)
        self.assertEqual(with_json.returncode, 0, h.describe(with_json))
        self.assertEqual(len(with_json.stdout.splitlines()), len(lines))


if __name__ == "__main__":
    unittest.main()
