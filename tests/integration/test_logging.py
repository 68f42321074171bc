"""Logging (issue 5): journald priority prefixes when $JOURNAL_STREAM is set,
plain timestamped lines otherwise; `log.level` is the threshold; poll errors
name the job, the HTTP status and the gateway's error_code, and a storm of
them is cut to a few lines per 10 s window plus a count of the rest.
"""

import os
import re
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

# What the engine allows (engine_impl.hpp): five per window, then a count.
ERRORS_PER_WINDOW = 5
WINDOW_S = 10
PLAIN_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3} (trace|debug|info|warning|warn|"
                        r"error|critical) \S")
JOURNAL_LINE = re.compile(r"^<[0-7]>\S")


def lines(daemon) -> list[str]:
    return [line for line in daemon.log_text().splitlines() if line]


class Logging(unittest.TestCase):
    def run_daemon(self, name, overrides=None, env=None, body=None):
        with h.stack(name, seed=31, overrides=overrides, env=env) as s:
            if body:
                body(s.sim, s.daemon)
            self.assertEqual(s.daemon.stop(), 0)
            return lines(s.daemon)

    def watch_jobs(self, sim, daemon, count, duration_s=1.0):
        specs = [{"project_id": daemon.project_id, "duration_s": duration_s, "subjobs": 1}
                 for _ in range(count)]
        jobs = {c["job_id"]: c for c in sim.create_jobs(specs)["jobs"]}
        daemon.watch(jobs)
        return jobs

    def test_plain_lines_without_journald(self):
        env = {k: v for k, v in os.environ.items() if k != "JOURNAL_STREAM"}
        out = self.run_daemon("log-plain", env=env)
        self.assertTrue(out)
        bad = [line for line in out if not PLAIN_LINE.match(line)]
        self.assertEqual(bad, [], "lines without a timestamp and level")
        self.assertTrue(any(" info jobwatchd " in line and " ready in " in line for line in out))

    def test_journald_priority_prefixes(self):
        env = dict(os.environ, JOURNAL_STREAM="8:12345")
        warn_config = {"api": {"tls": {"verify": False}}}  # a warn line at start

        out = self.run_daemon("log-journal", overrides=warn_config, env=env)
        bad = [line for line in out if not JOURNAL_LINE.match(line)]
        self.assertEqual(bad, [], "lines without a <N> prefix under journald")
        self.assertTrue(any(line.startswith("<6>jobwatchd ") and " ready in " in line
                            for line in out), "the ready line is not at <6> (info)")
        self.assertTrue(any(line.startswith("<4>api.tls.verify is false") for line in out),
                        "the tls warning is not at <4> (warning)")
        # journald stamps lines itself: no timestamp of our own.
        self.assertFalse(any(re.match(r"^<\d>\d{4}-\d\d-\d\d", line) for line in out))

    def test_log_level_is_the_threshold(self):
        def poll_some(sim, daemon):
            jobs = self.watch_jobs(sim, daemon, 3, duration_s=0.5)
            daemon.wait_finished(jobs, 30)

        out = self.run_daemon("log-warn", overrides={"log": {"level": "warn"}}, body=poll_some)
        below = [line for line in out if re.match(r"^\S+ (info|debug|trace) ", line)]
        self.assertEqual(below, [], "lines below warn with log.level: warn")
        out = self.run_daemon("log-debug", overrides={"log": {"level": "debug"}}, body=poll_some)
        self.assertTrue(any(re.match(r"^\S+ debug ", line) for line in out),
                        "no debug line with log.level: debug")

    def test_poll_error_storm_is_rate_limited(self):
        seen = {}

        def storm(sim, daemon):
            # Every poll answers 500 for longer than one window.
            sim.add_fault(kind="status", status=500, error_code="WKS.9999", count=100000)
            seen["jobs"] = self.watch_jobs(sim, daemon, 40, duration_s=600)
            started = time.monotonic()
            h.wait_until(lambda: sim.stats()["by_status"].get("500", 0) > 300, 30,
                         what="a storm of 500s")
            # Into the second window, so the count of the first is logged.
            time.sleep(max(0.0, WINDOW_S + 1.5 - (time.monotonic() - started)))
            seen["errors"] = sim.stats()["by_status"].get("500", 0)

        out = self.run_daemon("log-storm", overrides={"poll": {"min_interval": "200ms",
                                                                 "max_interval": "400ms"},
                                                        "api": {"rate_limit": 200}},
                              body=storm)
        error_lines = [line for line in out if " warning poll " in line or " warn poll " in line]
        self.assertGreater(seen["errors"], 300)
        self.assertTrue(error_lines, "no poll error was logged")
        for line in error_lines:
            self.assertRegex(line, r"poll [0-9a-f]{32}/\S+: HTTP 500 WKS\.9999")
            job_id = re.search(r"poll [0-9a-f]{32}/(\S+):", line).group(1)
            self.assertIn(job_id, seen["jobs"])
        # At most five per window; the test spans at most three windows.
        self.assertLessEqual(len(error_lines), 3 * ERRORS_PER_WINDOW,
                             f"{len(error_lines)} poll error lines for {seen['errors']} errors")
        counts = [int(m.group(1)) for line in out
                  for m in [re.search(r"(\d+) more poll error\(s\) in the last 10 s were not "
                                      r"logged", line)] if m]
        self.assertTrue(counts, "no line counting the poll errors left out")
        self.assertGreater(sum(counts), 100)


if __name__ == "__main__":
    unittest.main()
