"""The headline end-to-end test: 200 simulated jobs (0-5 subjobs, mixed
outcomes, ghosts, late 404s) under 5 % injected upstream faults, watched over
varlink; every expected event must reach the file sink and the webhook
receiver exactly once, valid, signed and in order. Also jobwatchctl's exit
codes for `wait`.
"""

import collections
import json
import os
import socket
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

JOBS = 200
BATCHES = 4
FINISH_TIMEOUT_S = 120
DRAIN_TIMEOUT_S = 30
SETTLE_S = 3
# The job mix; another seed explores another mix (JOBWATCH_E2E_SEED=n).
SEED = int(os.environ.get("JOBWATCH_E2E_SEED", "7"))


class Follower:
    """A Follow stream read on a thread, to compare with the sinks."""

    def __init__(self, socket_path: str):
        self.client = h.Varlink(socket_path, timeout=0.5)
        self.events: list[dict] = []
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="follow", daemon=True)

    def start(self):
        self.client.send({"method": "io.jobwatch.Follow", "more": True})
        self._thread.start()
        return self

    def _run(self):
        while not self._stop.is_set():
            try:
                reply = self.client.recv()
            except socket.timeout:
                continue
            except (OSError, ValueError, AssertionError) as e:
                if not self._stop.is_set():
                    self.errors.append(f"Follow: {e!r}")
                return
            if reply is None:
                if not self._stop.is_set():
                    self.errors.append("Follow: the daemon closed the stream")
                return
            if "error" in reply:
                self.errors.append(f"Follow: error reply {reply}")
                return
            event = (reply.get("parameters") or {}).get("event")
            if event is None:
                self.errors.append(f"Follow: a reply without an event: {reply}")
            else:
                self.events.append(event)
            if not reply.get("continues"):
                self.errors.append("Follow: stream ended (no `continues`)")
                return

    def stop(self):
        self._stop.set()
        self._thread.join(5)
        self.client.close()


def report(problems: list[str], limit: int = 80) -> str:
    shown = problems[:limit]
    more = f"\n… and {len(problems) - limit} more" if len(problems) > limit else ""
    return f"{len(problems)} problem(s):\n  " + "\n  ".join(shown) + more


class EndToEnd(unittest.TestCase):
    maxDiff = None

    def test_200_jobs_under_faults_exactly_once(self):
        with h.temp_workdir("e2e") as work:
            receiver = h.WebhookReceiver(h.new_webhook_secret()).start()
            sim = h.Sim(work, seed=4242)
            daemon = None
            try:
                sim.start()
                # The simulator's late jobs answer 404 for up to 10 s; the grace
                # must exceed that, or they are (rightly) abandoned.
                daemon = h.Daemon(work, sim.endpoint, webhook_url=receiver.url,
                                  webhook_secret=receiver.secret,
                                  overrides={"poll": {"not_found_grace": "15s"}})
                with h.logs_on_failure(daemon, sim):
                    daemon.start()
                    self.scenario(sim, daemon, receiver)
                    self.assertEqual(daemon.stop(), 0, "jobwatchd did not exit 0 on SIGTERM")
            finally:
                if daemon is not None:
                    daemon.stop()
                sim.stop()
                receiver.stop()

    def scenario(self, sim: h.Sim, daemon: h.Daemon, receiver: h.WebhookReceiver):
        project = daemon.project_id
        problems: list[str] = []

        # Jobs: the random mix, plus one whose first answer is already
        # terminal (previous_status must then be null).
        randoms = sim.random_jobs(count=JOBS, seed=SEED, max_duration_s=20, ghost_fraction=0.03,
                                  late_404_fraction=0.1, project_id=project)
        expectations = h.expectations_from_random(randoms, project)
        self.assertEqual(len(expectations), JOBS, "the simulator made a different number of jobs")
        instant_spec = {"project_id": project, "duration_s": 0, "initializing_s": 0,
                        "outcome": "failure",
                        "subjobs": [{"duration_s": 0, "outcome": "success"},
                                    {"duration_s": 0, "outcome": "failure"}]}
        instant = h.expectation_from_created(sim.create_jobs([instant_spec])["jobs"][0],
                                             project, instant_spec)
        expectations[instant.job_id] = instant
        self.instant_job_id = instant.job_id
        outcomes = sorted(e.outcome for e in expectations.values())
        self.assertIn("success", outcomes)
        self.assertIn("failure", outcomes)
        self.assertIn("ghost", outcomes)

        # 5 % faults: four kinds at 1.25 % each.
        for rule in ({"kind": "status", "status": 500},
                     {"kind": "throttle", "status": 429, "retry_after_s": 1},
                     {"kind": "reset"},
                     {"kind": "malformed"}):
            sim.add_fault(probability=0.0125, **rule)

        follower = Follower(daemon.socket_path).start()
        try:
            self.watch_all(daemon, expectations, problems)
            self.wait_finished(daemon, sim, expectations, problems)
            self.check_sinks(daemon, receiver, follower, expectations, problems)
            self.check_wait(daemon, expectations, problems)
        finally:
            follower.stop()

        stats = sim.stats()
        outcomes = collections.Counter(e.outcome for e in expectations.values())
        n_events = sum(len(e.keys()) for e in expectations.values())
        sys.stderr.write(f"\nseed {SEED}: {len(expectations)} jobs {dict(outcomes)}, "
                         f"{n_events} expected events; "
                         f"upstream: {stats.get('requests_total')} requests, by status "
                         f"{stats.get('by_status')}, faults {stats.get('faults_by_kind')}; "
                         f"webhook deliveries {len(receiver.records)}, "
                         f"bad {len(receiver.bad)}\n")
        if not stats.get("faults_injected"):
            problems.append(f"the simulator injected no faults: {stats}")
        log = daemon.log_text()
        if receiver.secret in log or receiver.secret.removeprefix("whsec_") in log:
            problems.append("the webhook secret appears in the daemon's log")
        if daemon.proc.poll() is not None:
            problems.append(f"jobwatchd exited early with {daemon.proc.returncode}")
        if problems:
            self.fail(h.scrub(report(problems), receiver.secret))

    def watch_all(self, daemon, expectations, problems):
        job_ids = sorted(expectations)
        batches = [job_ids[i::BATCHES] for i in range(BATCHES)]
        with daemon.client() as client:
            for index, batch in enumerate(batches):
                labels = {"suite": "e2e", "batch": f"b{index}", "team.name": "itest-" + str(index)}
                # Half the batches name the project, half rely on api.project_id.
                project = daemon.project_id if index % 2 == 0 else None
                reply = client.call("io.jobwatch.Watch",
                                    {"jobs": h.job_refs(batch, project), "labels": labels})
                now = time.time()
                watches = reply.get("watches")
                if not isinstance(watches, list) or len(watches) != len(batch):
                    problems.append(f"Watch batch {index}: {len(watches or [])} watches for "
                                    f"{len(batch)} jobs")
                    continue
                for info in watches:
                    exp = expectations.get(info.get("job_id"))
                    if exp is None:
                        problems.append(f"Watch batch {index}: unknown job in reply {info}")
                        continue
                    exp.labels = labels
                    exp.watched_at = now
                    if info.get("created") is not True:
                        problems.append(f"Watch: {exp.job_id} created={info.get('created')!r}")
                    if info.get("project_id") != daemon.project_id:
                        problems.append(f"Watch: {exp.job_id} project_id={info.get('project_id')!r}")
                    if info.get("labels") != labels:
                        problems.append(f"Watch: {exp.job_id} labels={info.get('labels')!r}")
                    known = ("pending",) + h.NON_TERMINAL_STATES + h.TERMINAL_STATES
                    if info.get("status") not in known:
                        problems.append(f"Watch: {exp.job_id} status={info.get('status')!r}")
            # Watching again changes nothing: created false, labels kept.
            again = client.call("io.jobwatch.Watch",
                                {"jobs": h.job_refs(batches[0]), "labels": {"other": "x"}})
            for info in again.get("watches") or []:
                if info.get("created") is not False:
                    problems.append(f"re-Watch: {info.get('job_id')} created={info.get('created')!r}")
                if info.get("labels") != {"suite": "e2e", "batch": "b0", "team.name": "itest-0"}:
                    problems.append(f"re-Watch changed labels of {info.get('job_id')}: "
                                    f"{info.get('labels')!r}")
            if len(again.get("watches") or []) != len(batches[0]):
                problems.append(f"re-Watch: {len(again.get('watches') or [])} watches for "
                                f"{len(batches[0])} jobs")

    def wait_finished(self, daemon, sim, expectations, problems):
        deadline = time.monotonic() + FINISH_TIMEOUT_S
        with daemon.client() as client:
            while True:
                watches = client.call("io.jobwatch.List").get("watches") or []
                by_job = {w.get("job_id"): w for w in watches}
                open_ = [j for j in expectations
                         if by_job.get(j, {}).get("status") not in h.TERMINAL_STATES]
                if not open_:
                    break
                if time.monotonic() > deadline:
                    sample = [(j, by_job.get(j), sim.job(j)) for j in open_[:5]]
                    self.fail(f"{len(open_)} watches not finished after {FINISH_TIMEOUT_S}s, "
                              f"e.g. {json.dumps(sample)[:3000]}")
                time.sleep(1)
        extra = set(by_job) - set(expectations)
        if extra:
            problems.append(f"List shows watches nobody asked for: {sorted(extra)[:5]}")
        for job_id, exp in expectations.items():
            info = by_job[job_id]
            if info.get("status") != exp.final_status:
                problems.append(f"List: {job_id} ended {info.get('status')!r}, the simulator "
                                f"says {exp.final_status!r} ({exp.outcome})")
            if exp.outcome != "ghost":
                total = len(exp.subjobs)
                if info.get("subjobs_total") != total or info.get("subjobs_done") != total:
                    problems.append(f"List: {job_id} subjobs {info.get('subjobs_done')}/"
                                    f"{info.get('subjobs_total')}, expected {total}/{total}")
            if not isinstance(info.get("polls"), int) or info["polls"] < 1:
                problems.append(f"List: {job_id} polls={info.get('polls')!r}")
            if info.get("labels") != exp.labels:
                problems.append(f"List: {job_id} labels={info.get('labels')!r}")

    def check_sinks(self, daemon, receiver, follower, expectations, problems):
        file_events = h.wait_for_events(lambda: h.read_jsonl(daemon.events_path), expectations,
                                        DRAIN_TIMEOUT_S, "file sink")
        h.wait_for_events(lambda: [r["event"] for r in receiver.snapshot() if r["event"]],
                          expectations, DRAIN_TIMEOUT_S, "webhook")
        time.sleep(SETTLE_S)  # let stray duplicates or extras arrive before judging
        file_events = h.read_jsonl(daemon.events_path)
        records = receiver.snapshot()

        problems += h.check_event_stream("file", file_events, expectations)
        hook_events = []
        for rec in records:
            if rec["event"] is None:
                problems.append(f"webhook: body is not JSON: {rec['body'][:200]!r}")
                continue
            if rec["event"].get("id") != rec["id"]:
                problems.append(f"webhook: webhook-id {rec['id']!r} != body id "
                                f"{rec['event'].get('id')!r}")
            hook_events.append(rec["event"])
        problems += h.check_event_stream("webhook", hook_events, expectations)
        problems += [f"webhook: {bad}" for bad in receiver.bad]
        problems += follower.errors
        problems += h.check_event_stream("Follow", follower.events, expectations)

        # Every sink receives the same document with the same id.
        id_of_key = {h.event_key(e): e.get("id") for e in file_events}
        for event in hook_events + follower.events:
            file_id = id_of_key.get(h.event_key(event))
            if file_id is not None and file_id != event.get("id"):
                problems.append(f"transition {h.event_key(event)} has id {event.get('id')} at "
                                f"the webhook/Follow but {file_id} in the file")
                break
        by_id_file = {e.get("id"): e for e in file_events}
        for event in hook_events + follower.events:
            twin = by_id_file.get(event.get("id"))
            if twin is not None and twin != event:
                problems.append(f"event {event.get('id')} differs between sinks:\n"
                                f"    file: {json.dumps(twin)[:400]}\n"
                                f"    other: {json.dumps(event)[:400]}")
                break

        # The job created already terminal: its first answer was terminal, so
        # previous_status is null for it and its subjobs.
        for event in file_events:
            data = event.get("data") or {}
            if data.get("job_id") == self.instant_job_id and data.get("previous_status") is not None:
                problems.append(f"file: {h.event_key(event)}: previous_status "
                                f"{data.get('previous_status')!r}, but the first answer was terminal")

    def check_wait(self, daemon, expectations, problems):
        job_ids = sorted(expectations)
        with daemon.client(timeout=15) as client:
            replies = list(client.stream("io.jobwatch.Wait", {"jobs": h.job_refs(job_ids),
                                                              "timeout_s": 5}))
        final = replies[-1]
        if "error" in final:
            problems.append(f"Wait on finished watches: {final}")
            return
        results = (final.get("parameters") or {}).get("results") or []
        by_job = {r.get("job_id"): r for r in results}
        word = {"success": "succeeded", "failure": "failed", "ghost": "abandoned"}
        for job_id, exp in expectations.items():
            result = by_job.get(job_id)
            if result is None:
                problems.append(f"Wait: no result for {job_id}")
                continue
            if result.get("outcome") != word[exp.outcome]:
                problems.append(f"Wait: {job_id} outcome {result.get('outcome')!r}, "
                                f"expected {word[exp.outcome]!r}")
            event = result.get("event")
            if event is not None and h.event_key(event) != exp.keys()[-1]:
                problems.append(f"Wait: {job_id} event is {h.event_key(event)}, "
                                f"expected {exp.keys()[-1]}")


class WebhookOutage(unittest.TestCase):
    """A receiver answering 503 for a while gets every event once it
    recovers (SPEC §5: 5xx retry with backoff, honouring Retry-After)."""

    def test_events_arrive_after_a_503_outage(self):
        receiver = h.WebhookReceiver(h.new_webhook_secret()).start()
        with h.stack("outage", seed=11, receiver=receiver) as st:
            sim, daemon = st.sim, st.daemon
            project = daemon.project_id
            specs = [{"project_id": project, "duration_s": 1, "initializing_s": 0.2,
                      "outcome": outcome, "subjobs": 1}
                     for outcome in ("success", "failure", "success")]
            expectations = sim.create_expected(specs, project)
            receiver.fail_with(503, seconds=4, retry_after=1)
            daemon.watch(expectations)
            events = h.wait_for_events(
                lambda: [r["event"] for r in receiver.snapshot() if r["event"]],
                expectations, 40, "webhook after the outage")
            time.sleep(SETTLE_S)
            events = [r["event"] for r in receiver.snapshot() if r["event"]]
            problems = [p for p in h.check_event_stream("webhook", events, expectations,
                                                        check_order=False)]
            problems += h.check_event_stream("file", h.read_jsonl(daemon.events_path),
                                             expectations)
            problems += [f"webhook: {bad}" for bad in receiver.bad]
            if not receiver.refused:
                problems.append("no delivery hit the outage: the test proved nothing")
            self.assertFalse(problems, h.scrub(report(problems), receiver.secret))


class CtlWaitExitCodes(unittest.TestCase):
    """`jobwatchctl wait` exit codes (SPEC §2)."""

    @classmethod
    def setUpClass(cls):
        cls.workdir = h.temp_workdir("ctl")
        work = cls.workdir.name
        cls.sim = h.Sim(work, seed=99)
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

    def ctl(self, args, timeout=60, use_env=False, socket_path=None):
        return h.run_ctl(args, socket_path or self.daemon.socket_path, timeout=timeout,
                         use_env=use_env)

    def test_wait_exit_codes(self):
        project = self.daemon.project_id
        specs = {
            "ok": {"project_id": project, "duration_s": 2, "outcome": "success", "subjobs": 2},
            "failed": {"project_id": project, "duration_s": 2, "outcome": "failure", "subjobs": 1},
            "ghost": {"project_id": project, "ghost": True},
            "long": {"project_id": project, "duration_s": 60, "outcome": "success"},
        }
        sim_jobs = self.sim.create_jobs(list(specs.values()))["jobs"]
        ids = dict(zip(specs, (c["job_id"] for c in sim_jobs)))
        cases = {
            "ok": (["wait", ids["ok"], "--timeout", "60s"], {}, 0),
            "failed": (["--json", "wait", ids["failed"], "--project", project, "--timeout", "60s"],
                       {"use_env": True}, 1),
            "ghost": (["wait", ids["ghost"], "--timeout", "60s"], {}, 2),
            "long": (["wait", ids["long"], "--timeout", "1s"], {}, 124),
        }
        results = {}

        def run(name, args, kwargs):
            try:
                results[name] = self.ctl(args, timeout=90, **kwargs)
            except Exception as e:  # noqa: BLE001 - reported below
                results[name] = e

        threads = [threading.Thread(target=run, args=(name, args, kwargs))
                   for name, (args, kwargs, _) in cases.items()]
        with h.logs_on_failure(self.daemon, self.sim):
            for t in threads:
                t.start()
            for t in threads:
                t.join(120)
            failures = []
            for name, (_, _, code) in cases.items():
                result = results.get(name)
                if not hasattr(result, "returncode"):
                    failures.append(f"{name}: {result!r}")
                elif result.returncode != code:
                    failures.append(f"{name}: expected exit {code}; {h.describe(result)}")
            failed = results.get("failed")
            if hasattr(failed, "stdout"):
                try:
                    json.loads(failed.stdout)
                except ValueError:
                    failures.append(f"--json wait printed no single JSON document: "
                                    f"{failed.stdout[:500]!r}")
            if failures:
                self.fail("\n".join(failures))

    def test_unreachable_daemon_is_69(self):
        result = self.ctl(["wait", "abc", "--timeout", "5s"],
                          socket_path=os.path.join(self.workdir.name, "nobody-here.sock"))
        self.assertEqual(result.returncode, 69, h.describe(result))

    def test_invalid_id_is_rejected_65(self):
        result = self.ctl(["wait", "../x", "--timeout", "5s"])
        self.assertEqual(result.returncode, 65, h.describe(result))
        self.assertTrue(result.stderr.strip(), "the rejection does not say why")

    def test_usage_error_is_64(self):
        for args in (["wait"], ["no-such-command"], ["wait", "abc", "--timeout", "soon"]):
            result = self.ctl(args)
            self.assertEqual(result.returncode, 64, h.describe(result))


if __name__ == "__main__":
    unittest.main(verbosity=2)
