"""SIGHUP reload (issue 5, SPEC §2): new poll settings, rate limit and sinks
take effect without losing a watch or a pending event; an invalid config is
rejected with its reasons in the log and the old one stays in force.

One daemon, four reloads:
1. The webhook sink points at a closed port, so batch A's events wait in the
   outbox. The reload points it at a live receiver with a secret, adds a second
   file sink, lowers the rate limit and raises the log level: the owed events
   arrive signed with the new secret, every watch is still listed, and batch B
   reaches all three sinks.
2. A config with a misspelt key: the reload is refused with FILE:LINE:COL in
   the log; batch C still goes to the three sinks of the running config.
3. A config that loads but cannot be put to work (a webhook secret file that
   does not exist): refused as a whole; batch D still goes to the receiver,
   signed with the running secret, and the rate limit is unchanged.
4. The sinks are cut back to the file sink alone: the receiver gets nothing
   more, and the daemon stops cleanly with exit 0.
"""

import os
import re
import signal
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import durability as d  # noqa: E402
import harness as h  # noqa: E402

FINISH_TIMEOUT_S = 60
DELIVERY_TIMEOUT_S = 30


def closed_port() -> int:
    """A loopback port nothing listens on (connections are refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_jobs(sim, project, count, seed):
    specs = h.random_job_specs(project, count, seed, duration_s=(0.5, 2.5), initializing_s=0.2)
    return sim.create_expected(specs, project)


class Reload(unittest.TestCase):
    def test_sighup_applies_a_valid_config_and_refuses_a_bad_one(self):
        # The webhook sink starts at a closed port; the first reload points
        # it at the receiver.
        receiver = h.WebhookReceiver(h.new_webhook_secret()).start()
        with h.stack("reload", seed=11, receiver=receiver,
                     webhook_url=f"http://127.0.0.1:{closed_port()}/hook",
                     webhook_secret=h.new_webhook_secret()) as s:
            problems = self.scenario(s.workdir, s.sim, s.daemon, receiver)
            if problems:
                self.fail(h.scrub(d.report(problems), receiver.secret, s.daemon.webhook_secret))

    # -- helpers -------------------------------------------------------------

    def reload(self, daemon, expect: str):
        """SIGHUP, then waits for the log line that ends this reload."""
        before = len(re.findall(expect, daemon.log_text()))
        daemon.write_config()
        daemon.proc.send_signal(signal.SIGHUP)
        h.wait_until(lambda: len(re.findall(expect, daemon.log_text())) > before, 15,
                     what=f"log line /{expect}/ after SIGHUP")
        self.assertTrue(daemon.alive(), "jobwatchd died on SIGHUP")

    def watch(self, daemon, jobs):
        daemon.watch(jobs)
        daemon.wait_finished(jobs, FINISH_TIMEOUT_S)

    def wait_received(self, receiver, expectations, what):
        wanted = d.expected_keys(expectations)
        h.wait_until(lambda: wanted <= {h.event_key(r["event"]) for r in receiver.snapshot()},
                     DELIVERY_TIMEOUT_S, interval=0.2, what=what)

    def rate_limit(self, daemon) -> float:
        return d.ctl_stats(daemon.socket_path)["engine"]["polls"]["rate_limit_configured"]

    # -- the scenario --------------------------------------------------------

    def scenario(self, work, sim, daemon, receiver):
        problems = []
        project = daemon.project_id
        second_path = os.path.join(work, "second.jsonl")

        batch_a = make_jobs(sim, project, 12, seed=1)
        self.watch(daemon, batch_a)
        owed = d.ctl_stats(daemon.socket_path)["sinks"]["by_sink"]["hook"]["pending"]
        if owed != len(d.expected_keys(batch_a)):
            problems.append(f"before the reload the hook sink owes {owed} events, expected "
                            f"{len(d.expected_keys(batch_a))}")
        watched_before = set(daemon.watches())

        # 1: a valid config changing sinks, rate limit, poll settings, log level.
        sinks = daemon.config["sinks"]
        hook = next(s for s in sinks if s["name"] == "hook")
        hook["url"] = receiver.url
        hook["secret"] = receiver.secret
        sinks.append({"name": "second", "type": "file", "path": second_path})
        daemon.config["api"]["rate_limit"] = 321
        daemon.config["poll"]["min_interval"] = "300ms"
        daemon.config["log"]["level"] = "debug"
        self.reload(daemon, r"reload: 4 sink\(s\) in force")
        if self.rate_limit(daemon) != 321:
            problems.append(f"rate_limit_configured is {self.rate_limit(daemon)} after the "
                            f"reload, expected 321")
        if set(daemon.watches()) != watched_before:
            problems.append("the reload changed the set of watches")
        self.wait_received(receiver, batch_a, "batch A's owed events at the new webhook URL")
        batch_b = make_jobs(sim, project, 12, seed=2)
        self.watch(daemon, batch_b)
        self.wait_received(receiver, batch_b, "batch B at the webhook")
        log_after = daemon.log_text().split("sink(s) in force", 1)[1]
        if not re.search(r"^\S+ debug ", log_after, re.MULTILINE):
            problems.append("no debug line after log.level became debug")

        # 2: a misspelt key: refused, with its position, the old config stays.
        daemon.config["poll"]["min_intervall"] = "1s"
        self.reload(daemon, r"keeping the running configuration")
        del daemon.config["poll"]["min_intervall"]
        diagnostic = re.search(re.escape(daemon.config_path) + r":\d+:\d+: .*min_intervall",
                               daemon.log_text())
        if not diagnostic:
            problems.append("the refused reload did not log FILE:LINE:COL naming min_intervall")
        batch_c = make_jobs(sim, project, 8, seed=3)
        self.watch(daemon, batch_c)
        self.wait_received(receiver, batch_c, "batch C at the webhook after a refused reload")

        # 3: loads, but the new webhook secret file does not exist: refused whole.
        good_secret = hook.pop("secret")
        hook["secret_file"] = os.path.join(work, "no-such-secret")
        daemon.config["api"]["rate_limit"] = 5
        self.reload(daemon, r"cannot be put to work")
        hook.pop("secret_file")
        hook["secret"] = good_secret
        daemon.config["api"]["rate_limit"] = 321
        if self.rate_limit(daemon) != 321:
            problems.append(f"a refused reload changed the rate limit to {self.rate_limit(daemon)}")
        batch_d = make_jobs(sim, project, 8, seed=4)
        self.watch(daemon, batch_d)
        self.wait_received(receiver, batch_d, "batch D at the webhook, with the running secret")

        # 4: back to one file sink: the receiver hears nothing more.
        daemon.config["sinks"] = [s for s in sinks if s["name"] == "archive"]
        self.reload(daemon, r"reload: 1 sink\(s\) in force")
        received_before_e = len(receiver.snapshot())
        batch_e = make_jobs(sim, project, 6, seed=5)
        self.watch(daemon, batch_e)
        time.sleep(1)

        everything = {**batch_a, **batch_b, **batch_c, **batch_d, **batch_e}
        archive, torn = d.read_jsonl_strict(daemon.events_path)
        problems += torn
        problems += h.check_event_stream("archive (kept through every reload)", archive, everything)
        second, torn = d.read_jsonl_strict(second_path)
        problems += torn
        problems += h.check_event_stream("second (added by the first reload)", second,
                                         {**batch_b, **batch_c, **batch_d})
        received = [r["event"] for r in receiver.snapshot()]
        problems += h.check_event_stream("webhook", received,
                                         {**batch_a, **batch_b, **batch_c, **batch_d},
                                         check_order=False, allow_duplicates=True)
        if len(received) != received_before_e:
            problems.append(f"the webhook got {len(received) - received_before_e} events after "
                            f"its sink was removed")
        problems += [f"webhook: {bad}" for bad in receiver.bad]

        code = daemon.stop()
        if code != 0:
            problems.append(f"jobwatchd exited {code} on SIGTERM, expected 0")
        return problems


if __name__ == "__main__":
    unittest.main()
