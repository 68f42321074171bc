"""Upstream throttling etiquette (SPEC §1: 429/503 slow the shared request
budget). The simulator's gateway takes 20 requests/s; the daemon is told it
may send 100/s and has far more demand than 20/s (400 long jobs, polled at
most 1 s apart). After a settling period the daemon's request rate must sit
at or below the gateway's limit with few requests throttled.
"""

import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

GATEWAY_RATE = 20  # requests/s the simulator answers before 429
CONFIGURED_RATE = 100  # what the daemon is told: 5x too high
JOBS = 400
RUN_S = 40
SETTLE_S = 10


def counts(stats: dict) -> tuple[int, int, int]:
    by_status = stats.get("by_status") or {}
    total = sum(int(n) for n in by_status.values())
    return total, int(by_status.get("200", 0)), int(by_status.get("429", 0))


class ThrottlingTest(unittest.TestCase):
    def test_request_rate_settles_below_the_gateway_limit(self):
        with h.temp_workdir("throttle") as workdir:
            sim = h.Sim(workdir, seed=11, extra_args=["--rate-limit", str(GATEWAY_RATE)])
            daemon = None
            with h.logs_on_failure(sim):
                sim.start()
                try:
                    project = h.random_project_id()
                    specs = [{"project_id": project, "duration_s": 600, "initializing_s": 0}
                             for _ in range(JOBS)]
                    job_ids = [j["job_id"] for j in sim.create_jobs(specs)["jobs"]]
                    daemon = h.Daemon(workdir, sim.endpoint, project_id=project, overrides={
                        "api": {"rate_limit": CONFIGURED_RATE, "max_connections": 8},
                        "poll": {"min_interval": "200ms", "max_interval": "1s",
                                 "default_deadline": "30m"},
                    })
                    with h.logs_on_failure(daemon):
                        daemon.start()
                        self._run(sim, daemon, job_ids)
                finally:
                    if daemon is not None:
                        daemon.stop()
                    sim.stop()

    def _run(self, sim: h.Sim, daemon: h.Daemon, job_ids: list[str]) -> None:
        sim.admin("DELETE", "/admin/stats")
        daemon.watch(job_ids)
        start = time.monotonic()
        samples = []  # (seconds since start, total, 200, 429)
        next_sample = start
        while True:
            now = time.monotonic()
            if now - start > RUN_S:
                break
            if now < next_sample:
                time.sleep(next_sample - now)
                continue
            total, ok, throttled = counts(sim.stats())
            samples.append((time.monotonic() - start, total, ok, throttled))
            next_sample += 1.0

        with daemon.client() as client:
            daemon_stats = client.call("io.jobwatch.Stats")
        polls = daemon_stats.get("engine", {}).get("polls", {})

        settled = [s for s in samples if s[0] >= SETTLE_S]
        self.assertGreaterEqual(len(settled), 20, "too few samples")
        first, last = settled[0], settled[-1]
        span = last[0] - first[0]
        total_rate = (last[1] - first[1]) / span
        ok_rate = (last[2] - first[2]) / span
        throttled = last[3] - first[3]
        throttled_pct = 100.0 * throttled / max(1, last[1] - first[1])
        early_total, _, early_throttled = samples[min(len(samples) - 1, SETTLE_S)][1:]

        table = (
            f"\nThrottling: gateway {GATEWAY_RATE} req/s, daemon api.rate_limit "
            f"{CONFIGURED_RATE}, {JOBS} jobs, window {first[0]:.0f}-{last[0]:.0f} s\n\n"
            "| total req/s | 200/s | 429 % | first 10 s: requests / 429s |\n"
            "|---:|---:|---:|---:|\n"
            f"| {total_rate:.1f} | {ok_rate:.1f} | {throttled_pct:.1f} | "
            f"{early_total} / {early_throttled} |\n\n"
            f"daemon: rate_limit {polls.get('rate_limit')}, configured "
            f"{polls.get('rate_limit_configured')}, throttled_total "
            f"{polls.get('throttled_total')}\n")
        sys.stderr.write(table)

        # The budget came down from 100/s to what the gateway takes...
        self.assertLessEqual(total_rate, GATEWAY_RATE * 1.1, table)
        self.assertLess(throttled_pct, 5.0, table)
        # ...without collapsing: the daemon still uses most of it.
        self.assertGreaterEqual(ok_rate, GATEWAY_RATE * 0.5, table)
        self.assertEqual(polls.get("rate_limit_configured"), CONFIGURED_RATE)
        self.assertLess(polls.get("rate_limit"), CONFIGURED_RATE)
        self.assertGreater(polls.get("throttled_total"), 0)
        self.assertTrue(daemon.alive())


if __name__ == "__main__":
    unittest.main()
