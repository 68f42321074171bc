"""The delivery promise across restarts (SPEC §6): watches acknowledged by
Watch survive `kill -9` and SIGTERM, every terminal transition reaches every
sink at least once, re-detected transitions keep their ids, and finished
watches stay finished (Watch answers created: false and emits nothing again).
"""

import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

FINISH_TIMEOUT_S = 90
DRAIN_TIMEOUT_S = 30
SETTLE_S = 3


def report(problems, limit=60):
    more = f"\n… and {len(problems) - limit} more" if len(problems) > limit else ""
    return f"{len(problems)} problem(s):\n  " + "\n  ".join(problems[:limit]) + more


class Restart(unittest.TestCase):
    def run_with_stack(self, name, body):
        receiver = h.WebhookReceiver(h.new_webhook_secret()).start()
        with h.stack(name, seed=31, receiver=receiver) as s:
            body(s.sim, s.daemon, receiver)

    def make_jobs(self, sim, project, count, min_s, max_s, seed):
        specs = h.random_job_specs(project, count, seed, duration_s=(min_s, max_s),
                                   initializing_s=0.5)
        return sim.create_expected(specs, project)

    def sink_problems(self, daemon, receiver, expectations, allow_duplicates):
        h.wait_for_events(lambda: h.read_jsonl(daemon.events_path), expectations,
                          DRAIN_TIMEOUT_S, "file sink")
        h.wait_for_events(lambda: [r["event"] for r in receiver.snapshot() if r["event"]],
                          expectations, DRAIN_TIMEOUT_S, "webhook")
        time.sleep(SETTLE_S)
        hook = [r["event"] for r in receiver.snapshot() if r["event"]]
        problems = h.check_event_stream("file", h.read_jsonl(daemon.events_path), expectations,
                                        allow_duplicates=allow_duplicates)
        problems += h.check_event_stream("webhook", hook, expectations, check_order=False,
                                         allow_duplicates=allow_duplicates)
        problems += [f"webhook: {bad}" for bad in receiver.bad]
        return problems

    def test_kill_9_mid_run_loses_nothing(self):
        def body(sim, daemon, receiver):
            project = daemon.project_id
            expectations = self.make_jobs(sim, project, 30, 2, 14, seed=1)
            ghost = sim.create_job(project_id=project, ghost=True)
            expectations[ghost["job_id"]] = h.Expectation(ghost["job_id"], project, "ghost")
            labels = {"suite": "restart"}
            daemon.watch(expectations, labels)
            for exp in expectations.values():
                exp.labels = labels
                exp.watched_at = time.time()

            time.sleep(3)  # some jobs have ended, most have not
            daemon.kill()
            time.sleep(2)  # more end while nobody watches
            daemon.start()

            problems = []
            listed = daemon.watches()
            lost = [j for j in expectations if j not in listed]
            if lost:
                problems.append(f"{len(lost)} of {len(expectations)} acknowledged watches "
                                f"did not survive kill -9, e.g. {lost[:3]}")
            for job_id, info in listed.items():
                if job_id in expectations and info.get("labels") != labels:
                    problems.append(f"{job_id}: labels after restart {info.get('labels')!r}")
            if not lost:
                final = daemon.wait_finished(expectations, FINISH_TIMEOUT_S)
                for job_id, exp in expectations.items():
                    if final[job_id].get("status") != exp.final_status:
                        problems.append(f"{job_id}: ended {final[job_id].get('status')!r}, "
                                        f"expected {exp.final_status!r}")
                problems += self.sink_problems(daemon, receiver, expectations,
                                               allow_duplicates=True)
            code = daemon.stop()
            if code != 0:
                problems.append(f"jobwatchd exited {code} on SIGTERM after the restart")
            if problems:
                self.fail(h.scrub(report(problems), receiver.secret))

        self.run_with_stack("kill9", body)

    def test_sigterm_restart_keeps_finished_watches(self):
        def body(sim, daemon, receiver):
            project = daemon.project_id
            expectations = self.make_jobs(sim, project, 8, 1, 3, seed=2)
            daemon.watch(expectations)
            before = daemon.wait_finished(expectations, FINISH_TIMEOUT_S)
            problems = self.sink_problems(daemon, receiver, expectations, allow_duplicates=False)
            if problems:
                self.fail(h.scrub(report(problems), receiver.secret))
            file_count = len(h.read_jsonl(daemon.events_path))
            hook_count = len(receiver.snapshot())

            self.assertEqual(daemon.stop(), 0, "jobwatchd did not exit 0 on SIGTERM")
            daemon.start()

            after = daemon.watches()
            for job_id in expectations:
                self.assertIn(job_id, after, "a finished watch vanished across a restart")
                self.assertEqual(after[job_id].get("status"), before[job_id].get("status"))
            with daemon.client() as client:
                again = client.call("io.jobwatch.Watch", {"jobs": h.job_refs(expectations)})
                self.assertTrue(all(w.get("created") is False for w in again["watches"]), again)
                replies = list(client.stream("io.jobwatch.Wait", {"jobs": h.job_refs(expectations),
                                                                  "timeout_s": 5}))
            results = (replies[-1].get("parameters") or {}).get("results") or []
            outcomes = {r.get("job_id"): r.get("outcome") for r in results}
            for job_id, exp in expectations.items():
                self.assertEqual(outcomes.get(job_id), exp.final_status, replies[-1])
            time.sleep(SETTLE_S)
            self.assertEqual(len(h.read_jsonl(daemon.events_path)), file_count,
                             "events were emitted again after a clean restart")
            self.assertEqual(len(receiver.snapshot()), hook_count,
                             "webhooks were delivered again after a clean restart")

        self.run_with_stack("term", body)


if __name__ == "__main__":
    unittest.main(verbosity=2)
