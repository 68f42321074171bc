"""Dead letters (SPEC §5, §6): a webhook receiver that answers 400 to
everything refuses every event permanently. Each one is POSTed once (a 4xx
other than 408/429 is not retried), lands in the dead-letter list (counted
in `jobwatchctl --json stats` under sinks.dead_letters, kept in the state
store's dead_letters table, one warn log line each), while the file sink
gets every event and polling carries on: a second batch watched after the
dead letters still completes. The count survives a restart and nothing is
sent again.
"""

import collections
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import durability as d  # noqa: E402
import harness as h  # noqa: E402

FINISH_TIMEOUT_S = 60
DEAD_LETTER_TIMEOUT_S = 30
SETTLE_S = 3


def make_jobs(sim, project, count, seed):
    return sim.create_expected(h.random_job_specs(project, count, seed), project)


class DeadLetters(unittest.TestCase):
    def test_permanent_refusals_are_dead_lettered_and_polling_goes_on(self):
        receiver = d.PhasedReceiver(h.new_webhook_secret()).listen()
        receiver.set_status(400)
        with h.stack("dead", seed=5, receiver=receiver) as s:
            problems = self.scenario(s.sim, s.daemon, receiver)
            if problems:
                self.fail(h.scrub(d.report(problems), receiver.secret))

    def wait_dead_letters(self, daemon, count):
        last = {}

        def reached():
            nonlocal last
            last = d.ctl_stats(daemon.socket_path).get("sinks") or {}
            return last.get("dead_letters") == count and last.get("pending") == 0

        try:
            h.wait_until(reached, DEAD_LETTER_TIMEOUT_S, interval=0.5,
                         what=f"sinks.dead_letters == {count}")
        except h.HarnessError as e:
            raise h.HarnessError(f"{e}; stats sinks: {last}") from None
        return last

    def scenario(self, sim, daemon, receiver):
        problems = []
        project = daemon.project_id
        first = make_jobs(sim, project, 15, seed=1)
        daemon.watch(first)
        daemon.wait_finished(first, FINISH_TIMEOUT_S)
        n_first = len(d.expected_keys(first))
        sinks = self.wait_dead_letters(daemon, n_first)
        hook = (sinks.get("by_sink") or {}).get("hook") or {}
        if hook.get("dead_lettered") != n_first or hook.get("delivered") != 0:
            problems.append(f"stats by_sink.hook after batch 1: {hook}, expected "
                            f"dead_lettered {n_first} and delivered 0")

        # Polling and the other sinks carry on after the dead letters.
        second = make_jobs(sim, project, 10, seed=2)
        daemon.watch(second)
        final = daemon.wait_finished(second, FINISH_TIMEOUT_S)
        everything = {**first, **second}
        total = len(d.expected_keys(everything))
        sinks = self.wait_dead_letters(daemon, total)
        for job_id, exp in second.items():
            if final[job_id].get("status") != exp.final_status:
                problems.append(f"{job_id}: ended {final[job_id].get('status')!r}, "
                                f"expected {exp.final_status!r}")
        time.sleep(SETTLE_S)

        file_events, torn = d.read_jsonl_strict(daemon.events_path)
        problems += torn
        problems += h.check_event_stream("file", file_events, everything)
        ids = {e.get("id") for e in file_events}

        posted = collections.Counter(r["id"] for r in receiver.refused)
        if set(posted) != ids:
            problems.append(f"the receiver was offered {len(posted)} distinct events, the file "
                            f"has {len(ids)}; differing: {sorted(set(posted) ^ ids)[:4]}")
        retried = {i: n for i, n in posted.items() if n > 1}
        if retried:
            problems.append(f"{len(retried)} events refused with 400 were POSTed again "
                            f"(400 is permanent), e.g. {list(retried.items())[:3]}")
        if receiver.accepted:
            problems.append(f"the receiver accepted {len(receiver.accepted)} deliveries while "
                            f"answering 400")
        problems += [f"webhook: {bad}" for bad in receiver.bad]

        warned = d.dead_letter_log_ids(daemon.log_text())
        if set(warned) != ids:
            problems.append(f"warn dead-letter log lines name {len(warned)} events, expected the "
                            f"{len(ids)} refused ones; differing {sorted(set(warned) ^ ids)[:4]}")
        if any(n != 1 for n in warned.values()):
            problems.append(f"several warn lines for one dead letter: "
                            f"{[(i, n) for i, n in warned.items() if n != 1][:3]}")

        code = daemon.stop()
        if code != 0:
            problems.append(f"jobwatchd exited {code} on SIGTERM, expected 0")
        db = d.db_summary(daemon.state_dir)
        dead_ids = collections.Counter(row[0] for row in db["dead_letters"])
        if set(dead_ids) != ids or any(n != 1 for n in dead_ids.values()):
            problems.append(f"dead_letters table: {len(db['dead_letters'])} rows for "
                            f"{len(dead_ids)} events, expected one per each of the {len(ids)} "
                            f"events; e.g. {db['dead_letters'][:2]}")
        for event_id, sink, _type, reason, attempts in db["dead_letters"]:
            if sink != "hook" or "400" not in reason or attempts != 1:
                problems.append(f"dead letter {event_id}: sink {sink!r}, reason {reason!r}, "
                                f"attempts {attempts}; expected hook, a 400, 1 attempt")
                break
        if db["outbox_rows"]:
            problems.append(f"outbox not empty: {db['outbox']} e.g. {db['outbox_sample']}")
        if db["unfinished"]:
            problems.append(f"{db['unfinished']} watches unfinished: {db['unfinished_sample']}")

        # A restart keeps the count and sends nothing again.
        posts_before = receiver.posts
        lines_before = len(file_events)
        daemon.start()
        stats = d.ctl_stats(daemon.socket_path).get("sinks") or {}
        if stats.get("dead_letters") != total:
            problems.append(f"after a restart stats sinks.dead_letters is "
                            f"{stats.get('dead_letters')!r}, expected {total}")
        time.sleep(SETTLE_S)
        if receiver.posts != posts_before:
            problems.append(f"{receiver.posts - posts_before} POSTs after the restart: dead "
                            f"letters were sent again")
        if len(d.read_jsonl_strict(daemon.events_path)[0]) != lines_before:
            problems.append("the file sink was written again after the restart")
        code = daemon.stop()
        if code != 0:
            problems.append(f"jobwatchd exited {code} on the second SIGTERM")
        sys.stderr.write(f"dead letters: {total} events from {len(everything)} jobs, "
                         f"{receiver.posts} POSTs answered 400\n")
        return problems


if __name__ == "__main__":
    unittest.main(verbosity=2)
