"""Metrics (issue 5): `metrics.listen` serves Prometheus text at /metrics.

The simulator answers some polls 500 and 429 and the webhook receiver
refuses its first deliveries, so every counter has something to count. The
scrapes are parsed with a strict text-format parser and checked against what
the simulator, the receiver and `jobwatchctl stats` saw:
- jobwatch_watches follows the unfinished watches;
- jobwatch_upstream_requests_total{code} equals the simulator's count of
  answers per status, and the duration histogram counts the same requests;
- jobwatch_events_total{type,sink,result} has one `delivered` per event and
  sink, and the refused deliveries as `retry`;
- jobwatch_outbox_pending{sink} is 0 once everything is delivered;
- jobwatch_detection_delay_seconds counts one observation per terminal
  transition, none negative;
- jobwatch_build_info{version} is jobwatchd --version's;
- no label carries a job id, and only the documented label names occur
  (the engine's, the store's and the control socket's counters included);
- `promtool check metrics` (Debian's prometheus package) finds nothing to
  say about the final scrape;
- other paths are 404 and other methods 405; a SIGHUP moving metrics.listen
  rebinds it; with no metrics.listen nothing listens.
"""

import collections
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import durability as d  # noqa: E402
import harness as h  # noqa: E402
import prometheus  # noqa: E402

FINISH_TIMEOUT_S = 60
REFUSED_DELIVERIES = 4
LABEL_NAMES = {"code", "type", "sink", "result", "le", "version", "answer", "method", "error"}


def scrape_text(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as reply:
        if reply.status != 200:
            raise h.HarnessError(f"GET {url}: {reply.status}")
        content_type = reply.headers.get("Content-Type", "")
        if not content_type.startswith("text/plain; version=0.0.4"):
            raise h.HarnessError(f"GET {url}: Content-Type {content_type!r}")
        return reply.read().decode("utf-8")


def scrape(url: str) -> dict:
    return prometheus.parse(scrape_text(url))


def promtool_problems(text: str) -> list[str]:
    """What Prometheus's own checker says about a scrape: format errors and
    lint (naming, units, help). scripts/test installs it."""
    promtool = shutil.which("promtool")
    if promtool is None:
        return ["promtool not found (Debian package prometheus; scripts/test installs it)"]
    run = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True,
                         text=True, timeout=30)
    said = (run.stdout + run.stderr).strip()
    if run.returncode != 0 or said:
        return [f"promtool check metrics exited {run.returncode}: {said}"]
    return []


def samples(families: dict, name: str) -> list:
    return families[name]["samples"] if name in families else []


def metrics_url(daemon, after: int = 0) -> str:
    """The URL of the last "metrics: … at http://…/metrics" log line."""
    found = []

    def logged():
        found[:] = re.findall(r"metrics: Prometheus text at (http://\S+/metrics)",
                              daemon.log_text())
        return len(found) > after

    h.wait_until(logged, 10, what="the metrics address in the log")
    return found[-1]


def status_of(url: str, method: str = "GET") -> int:
    request = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            return reply.status
    except urllib.error.HTTPError as e:
        return e.code


class Metrics(unittest.TestCase):
    def test_metrics_endpoint_counts_what_happened(self):
        receiver = h.WebhookReceiver(h.new_webhook_secret()).start()
        receiver.fail_with(503, count=REFUSED_DELIVERIES)
        with h.stack("metrics", seed=21, receiver=receiver,
                     overrides={"metrics": {"listen": "127.0.0.1:0"}}) as s:
            problems = self.scenario(s.sim, s.daemon, receiver)
            if problems:
                self.fail(h.scrub(d.report(problems), receiver.secret))

    def test_no_listener_without_metrics_listen(self):
        with h.stack("nometrics", seed=22) as s:
            daemon = s.daemon
            self.assertNotIn("metrics:", daemon.log_text())
            listening = ""
            for table in ("/proc/net/tcp", "/proc/net/tcp6"):
                with open(table) as f:
                    listening += f.read()
            inodes = {os.readlink(f"/proc/{daemon.proc.pid}/fd/{fd}")
                      for fd in os.listdir(f"/proc/{daemon.proc.pid}/fd")}
            sockets = {i[len("socket:["):-1] for i in inodes if i.startswith("socket:[")}
            for line in listening.splitlines()[1:]:
                fields = line.split()
                if fields[3] == "0A" and fields[9] in sockets:  # LISTEN
                    self.fail(f"jobwatchd listens on TCP without metrics.listen: {line}")

    def scenario(self, sim, daemon, receiver):
        problems = []
        url = metrics_url(daemon)
        if not url.startswith("http://127.0.0.1:"):
            problems.append(f"metrics served at {url}, expected 127.0.0.1")
        first = scrape(url)
        if [s[2] for s in samples(first, "jobwatch_watches")] != [0]:
            problems.append(f"jobwatch_watches before any watch: {samples(first, 'jobwatch_watches')}")
        version = subprocess.run([h.jobwatchd(), "--version"], capture_output=True, text=True,
                                 timeout=10).stdout.split()[-1]
        build = samples(first, "jobwatch_build_info")
        if build != [("jobwatch_build_info", {"version": version}, 1)]:
            problems.append(f"jobwatch_build_info is {build}, expected version {version!r}")

        sim.add_fault(kind="status", status=500, count=5)
        sim.add_fault(kind="throttle", status=429, count=3, retry_after_s=1)
        rng = random.Random(7)
        specs = [{"project_id": daemon.project_id, "duration_s": round(rng.uniform(1.5, 3), 1),
                  "initializing_s": 0.2, "outcome": rng.choice(["success", "failure"]),
                  "subjobs": rng.randint(0, 3)} for _ in range(20)]
        jobs = sim.create_expected(specs, daemon.project_id)
        daemon.watch(jobs)
        during = scrape(url)
        active = d.ctl_stats(daemon.socket_path)["engine"]["watches"]["active"]
        watching = samples(during, "jobwatch_watches")[0][2]
        if not 0 < watching <= len(jobs) or active > watching:
            problems.append(f"jobwatch_watches {watching} while {active} of {len(jobs)} "
                            f"were still open right after")

        daemon.wait_finished(jobs, FINISH_TIMEOUT_S)
        expected = d.expected_keys(jobs)
        h.wait_until(lambda: len(receiver.snapshot()) >= len(expected), 30, interval=0.2,
                     what="every event at the webhook")
        h.wait_until(lambda: d.ctl_stats(daemon.socket_path)["sinks"]["pending"] == 0, 10,
                     what="nothing pending")
        final_text = scrape_text(url)
        final = prometheus.parse(final_text)
        problems += self.check_final(final, sim, daemon, jobs, expected)
        problems += promtool_problems(final_text)

        # The endpoint answers nothing but GET/HEAD /metrics.
        base = url[: -len("/metrics")]
        for path, method, want in (("/", "GET", 404), ("/metricsx", "GET", 404),
                                   ("/metrics", "POST", 405), ("/metrics", "HEAD", 200),
                                   ("/metrics?x=1", "GET", 200)):
            got = status_of(base + path, method)
            if got != want:
                problems.append(f"{method} {path}: {got}, expected {want}")

        # SIGHUP moving metrics.listen rebinds it; the counters carry on.
        daemon.config["metrics"]["listen"] = "[::1]:0"
        daemon.write_config()
        daemon.proc.send_signal(signal.SIGHUP)
        moved = metrics_url(daemon, after=1)
        if not moved.startswith("http://[::1]:"):
            problems.append(f"after the reload metrics are at {moved}, expected [::1]")
        else:
            again = scrape(moved)
            before = sum(s[2] for s in samples(final, "jobwatch_events_total"))
            after = sum(s[2] for s in samples(again, "jobwatch_events_total"))
            if after < before:
                problems.append(f"jobwatch_events_total fell from {before} to {after} on reload")
            try:
                urllib.request.urlopen(url, timeout=5)
                problems.append(f"the old address {url} still answers after the reload")
            except (urllib.error.URLError, ConnectionError):
                pass
        return problems

    def check_final(self, families, sim, daemon, jobs, expected):
        problems = []
        if [s[2] for s in samples(families, "jobwatch_watches")] != [0]:
            problems.append(f"jobwatch_watches after all finished: "
                            f"{samples(families, 'jobwatch_watches')}")

        # Requests: exactly what the simulator answered, status by status.
        by_code = {s[1]["code"]: s[2] for s in samples(families, "jobwatch_upstream_requests_total")}
        sim_by_status = {k: v for k, v in sim.stats()["by_status"].items() if v}
        if by_code != sim_by_status:
            problems.append(f"jobwatch_upstream_requests_total {by_code} != the simulator's "
                            f"answers by status {sim_by_status}")
        for code in ("200", "500", "429"):
            if not by_code.get(code):
                problems.append(f"no request counted with code {code}")
        duration = {s[0]: s for s in samples(families, "jobwatch_upstream_request_duration_seconds")
                    if s[0].endswith("_count")}
        count = next(iter(duration.values()))[2] if duration else None
        if count != sum(by_code.values()):
            problems.append(f"request duration histogram counts {count}, requests "
                            f"{sum(by_code.values())}")

        # Events: one `delivered` per (event, sink), by type; the refusals as `retry`.
        want = {t: float(n) for t, n in collections.Counter(key[2] for key in expected).items()}
        delivered = collections.defaultdict(dict)
        retries = collections.Counter()
        for _name, labels, value in samples(families, "jobwatch_events_total"):
            if labels["result"] == "delivered":
                delivered[labels["sink"]][labels["type"]] = value
            elif labels["result"] == "retry":
                retries[labels["sink"]] += value
            else:
                problems.append(f"jobwatch_events_total has result {labels['result']!r} "
                                f"although nothing was dead-lettered")
        for sink in ("log", "archive", "hook"):
            if delivered.get(sink) != want:
                problems.append(f"jobwatch_events_total delivered to {sink} by type: "
                                f"{delivered.get(sink)}, expected {want}")
        if dict(retries) != {"hook": REFUSED_DELIVERIES}:
            problems.append(f"jobwatch_events_total retry by sink: {dict(retries)}, expected "
                            f"{REFUSED_DELIVERIES} for hook (the receiver's refusals)")

        pending = {s[1]["sink"]: s[2] for s in samples(families, "jobwatch_outbox_pending")}
        if pending != {"log": 0, "archive": 0, "hook": 0}:
            problems.append(f"jobwatch_outbox_pending {pending}, expected 0 for each of the sinks")

        # Detection delay: one observation per terminal transition.
        delay = {s[0]: s for s in samples(families, "jobwatch_detection_delay_seconds")}
        delay_count = next((s[2] for name, s in delay.items() if name.endswith("_count")), None)
        delay_sum = next((s[2] for name, s in delay.items() if name.endswith("_sum")), None)
        if delay_count != len(expected):
            problems.append(f"jobwatch_detection_delay_seconds counts {delay_count}, expected "
                            f"one per transition: {len(expected)}")
        if delay_sum is None or delay_sum < 0:
            problems.append(f"jobwatch_detection_delay_seconds sum {delay_sum}")

        # Labels: only the documented names, never an id.
        ids = set(jobs) | {daemon.project_id}
        for exp in jobs.values():
            ids.update(subjob_id for _job, subjob_id, _type in exp.keys() if subjob_id)
        for family in families.values():
            for name, labels, _value in family["samples"]:
                if set(labels) - LABEL_NAMES:
                    problems.append(f"{name} has undocumented labels {sorted(labels)}")
                leaked = [v for v in labels.values() if v in ids]
                if leaked:
                    problems.append(f"{name} carries an id in a label: {labels}")
        return problems


if __name__ == "__main__":
    unittest.main()
