"""Benchmark: how fast jobwatchd commits and delivers events, and how long
it takes to start with many stored watches.

1. Delivery: N jobs (default 2000) with 4 subjobs each, already terminal
   when first polled (5 events each: 10,000 events), watched over varlink
   in batches of 500 with a high rate limit. Measures, from the first Watch
   call: the engine having emitted (and committed) every event, the last
   event in the file sink, and the last one at a loopback webhook receiver
   (ThreadingHTTPServer, HTTP/1.1 keep-alive, signatures not checked here;
   with --receiver nginx, nginx-light answering 204, which a Python server
   cannot keep up with).
2. Start-up: W stored watches (default 100,000 long-running jobs), created
   once (Watch, then SIGTERM); then several restarts, each timed from the
   spawn to the control socket accepting and to List answering.

Prints a Markdown table with the figures and the machine. Reports numbers;
asserts only that the work was done (every event arrived, every watch came
back). Every phase is bounded in time; everything started is stopped.
"""

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import durability as d  # noqa: E402
import harness as h  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nginx_proc  # noqa: E402

SIM_CHUNK = 5000  # jobs per POST /admin/jobs
MAX_PHASE_S = 600  # no phase may take longer than this


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--jobs", type=int, default=2000, help="jobs for the delivery run")
    p.add_argument("--subjobs", type=int, default=4)
    p.add_argument("--rate-limit", type=float, default=2000)
    p.add_argument("--batch", type=int, default=500, help="jobs per Watch call")
    p.add_argument("--stored-watches", type=int, default=100_000,
                   help="watches for the start-up run (0 skips it)")
    p.add_argument("--restarts", type=int, default=3)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--receiver", choices=("python", "nginx"), default="python",
                   help="the webhook receiver: Python's ThreadingHTTPServer, or nginx-light "
                        "answering 204 (to measure the daemon rather than the receiver)")
    p.add_argument("--keep", action="store_true", help="keep the work directory")
    return p.parse_args()


def log(message: str) -> None:
    sys.stderr.write(f"[bench_delivery] {message}\n")
    sys.stderr.flush()


def create_jobs(sim, project, count, spec) -> list[str]:
    job_ids: list[str] = []
    deadline = time.monotonic() + MAX_PHASE_S
    while len(job_ids) < count:
        if time.monotonic() > deadline:
            raise h.HarnessError(f"creating jobs took over {MAX_PHASE_S}s")
        n = min(SIM_CHUNK, count - len(job_ids))
        job_ids += sim.create_jobs([dict(spec, project_id=project) for _ in range(n)])["job_ids"]
    return job_ids


class FileCounter:
    """Counts complete lines appended to the file sink, reading only what is new."""

    def __init__(self, path: str):
        self.path = path
        self.offset = 0
        self.lines = 0

    def poll(self) -> int:
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                data = f.read()
        except FileNotFoundError:
            return 0
        end = data.rfind(b"\n") + 1
        self.lines += data.count(b"\n", 0, end)
        self.offset += end
        return self.lines


def events_emitted(daemon) -> int:
    with daemon.client() as client:
        stats = client.call("io.jobwatch.Stats")
    return sum((stats.get("engine") or {}).get("events_emitted", {}).values())


def delivery_run(args, work) -> list[tuple[str, str]]:
    events_per_job = args.subjobs + 1
    expected = args.jobs * events_per_job
    if args.receiver == "nginx":
        receiver = nginx_proc.NginxReceiver(work).listen()
    else:
        receiver = d.PhasedReceiver(h.new_webhook_secret(), verify=False,
                                    keep_bodies=False).listen()
    sim = h.Sim(work, seed=args.seed)
    daemon = None
    try:
        sim.start()
        events_path = os.path.join(work, "events.jsonl")
        daemon = h.Daemon(work, sim.endpoint, overrides={
            "api": {"rate_limit": args.rate_limit, "max_connections": 16,
                    "request_timeout": "10s"},
            "poll": {"min_interval": "200ms", "max_interval": "2s", "default_deadline": "1h"},
            "control": {"idle_timeout": "120s"},
            "sinks": [{"name": "archive", "type": "file", "path": events_path},
                      {"name": "hook", "type": "webhook", "url": receiver.url,
                       "secret": receiver.secret, "timeout": "10s"}],
            "log": {"level": "warn"},
        })
        job_ids = create_jobs(sim, daemon.project_id, args.jobs,
                              {"duration_s": 0.5, "initializing_s": 0, "outcome": "success",
                               "subjobs": args.subjobs})
        time.sleep(1.0)  # every job is terminal before the first poll
        with h.logs_on_failure(daemon, sim):
            daemon.start()
            counter = FileCounter(events_path)
            cpu0 = daemon.cpu_seconds()
            t0 = time.monotonic()
            d.watch_in_batches(daemon, job_ids, args.batch)
            watched_s = time.monotonic() - t0
            emitted_s = file_s = hook_s = polled_s = None
            deadline = t0 + MAX_PHASE_S
            next_stats = 0.0
            while file_s is None or hook_s is None or emitted_s is None:
                now = time.monotonic()
                if now > deadline:
                    raise h.HarnessError(
                        f"not done after {MAX_PHASE_S}s: file {counter.lines}, webhook "
                        f"{receiver.accepted_count()} of {expected} events")
                if not daemon.alive():
                    raise h.HarnessError(f"jobwatchd exited with {daemon.proc.returncode}")
                if (emitted_s is None or polled_s is None) and now >= next_stats:
                    next_stats = now + 0.1
                    if polled_s is None and sim.stats()["requests_total"] >= args.jobs:
                        polled_s = time.monotonic() - t0
                    if emitted_s is None and events_emitted(daemon) >= expected:
                        emitted_s = time.monotonic() - t0
                if file_s is None and counter.poll() >= expected:
                    file_s = time.monotonic() - t0
                if hook_s is None and receiver.accepted_count() >= expected:
                    records = receiver.snapshot()
                    hook_s = records[expected - 1]["received"] - t0
                time.sleep(0.01)
            cpu_s = daemon.cpu_seconds() - cpu0
            rss = daemon.rss_kib()
            time.sleep(1.0)
            distinct = len({r["id"] for r in receiver.snapshot()})
            file_lines = counter.poll()
            code = daemon.stop(timeout=30)
        if distinct != expected or file_lines != expected:
            raise h.HarnessError(f"expected {expected} events once each: webhook {distinct} "
                                 f"distinct ids, file {file_lines} lines")
    finally:
        if daemon is not None:
            daemon.stop()
        sim.stop()
        receiver.stop()
    log(f"delivery: emitted {emitted_s:.2f}s, file {file_s:.2f}s, webhook {hook_s:.2f}s")
    return [
        ("delivery: jobs × events", f"{args.jobs} jobs × {events_per_job} = {expected} events "
                                    f"(terminal at first poll; rate_limit {args.rate_limit:g}/s)"),
        ("Watch calls (batches of %d)" % args.batch, f"{watched_s:.2f} s"),
        ("every job polled once", f"{polled_s:.2f} s" if polled_s is not None else "n/a"),
        ("all events emitted + committed", f"{emitted_s:.2f} s → {expected / emitted_s:.0f} events/s"),
        ("last event in the file sink (fdatasync)", f"{file_s:.2f} s → {expected / file_s:.0f} events/s"),
        (f"last event at the webhook receiver ({args.receiver})",
         f"{hook_s:.2f} s → {expected / hook_s:.0f} events/s"),
        ("daemon CPU during the run", f"{cpu_s:.1f} s; RSS {rss / 1024:.1f} MiB; SIGTERM exit {code}"),
    ]


def startup_run(args, work) -> list[tuple[str, str]]:
    n = args.stored_watches
    sim = h.Sim(work, seed=args.seed + 1)
    daemon = None
    rows = []
    try:
        sim.start()
        daemon = h.Daemon(work, sim.endpoint, overrides={
            "api": {"rate_limit": 1000, "max_connections": 16, "request_timeout": "10s"},
            "poll": {"min_interval": "1s", "max_interval": "2m", "default_deadline": "6h",
                     "not_found_grace": "10m"},
            "control": {"idle_timeout": "300s"},
            "log": {"level": "info"},
        })
        t = time.monotonic()
        job_ids = create_jobs(sim, daemon.project_id, n,
                              {"duration_s": 6 * 3600, "initializing_s": 1, "outcome": "success",
                               "subjobs": 1})
        log(f"start-up: {n} simulator jobs in {time.monotonic() - t:.1f}s")
        with h.logs_on_failure(daemon, sim):
            daemon.start(timeout=60)
            t = time.monotonic()
            d.watch_in_batches(daemon, job_ids, args.batch, timeout=MAX_PHASE_S)
            register_s = time.monotonic() - t
            log(f"start-up: {n} watches registered in {register_s:.1f}s")
            code = daemon.stop(timeout=60)
            if code != 0:
                raise h.HarnessError(f"jobwatchd exited {code} on SIGTERM after registering")
            db_bytes = sum(os.path.getsize(os.path.join(daemon.state_dir, f))
                           for f in os.listdir(daemon.state_dir))
            accept, listed, calls, own, rss, stops = [], [], [], [], [], []
            for i in range(args.restarts):
                timed = d.start_timed(daemon, timeout=MAX_PHASE_S)
                if len(timed["watches"]) != n:
                    raise h.HarnessError(f"restart {i + 1}: List shows {len(timed['watches'])} "
                                         f"watches, expected {n}")
                accept.append(timed["accept_s"])
                listed.append(timed["list_s"])
                calls.append((timed["list_bytes_s"], timed["list_call_s"], timed["list_bytes"]))
                own += d.ready_log_ms(daemon.log_text())[-1:]
                rss.append((timed["rss_before_list_kib"], daemon.rss_kib()))
                t = time.monotonic()
                code = daemon.stop(timeout=60)
                stops.append((time.monotonic() - t, code))
                log(f"start-up: restart {i + 1}: socket {timed['accept_s']:.2f}s, List "
                    f"{timed['list_s']:.2f}s, SIGTERM exit {code}")
            # Once more with nothing to poll (simulator gone, rate_limit 1):
            # the List alone, without the restored watches' first polls
            # taking turns with its pieces.
            sim.stop()
            daemon.config["api"]["rate_limit"] = 1
            quiet = d.start_timed(daemon, timeout=MAX_PHASE_S)
            quiet_rss = (quiet["rss_before_list_kib"], daemon.rss_kib())
            daemon.stop(timeout=60)
            log(f"start-up, nothing to poll: List {quiet['list_bytes_s']:.2f}s to its last byte")
        rows = [
            ("start-up: stored watches", f"{n} (registered in {register_s:.1f} s, "
                                         f"{n / register_s:.0f}/s); state dir {db_bytes / 1e6:.1f} MB"),
            (f"spawn → control socket accepts ({args.restarts} restarts)",
             ", ".join(f"{s:.2f}" for s in accept) + f" s (median {statistics.median(accept):.2f} s)"),
            ("spawn → List answered (all watches)",
             ", ".join(f"{s:.2f}" for s in listed) + f" s (median {statistics.median(listed):.2f} s)"),
            ("the List call alone: sent → last byte (→ parsed by Python's json)",
             ", ".join(f"{b:.2f} ({p:.2f})" for b, p, _ in calls) + " s; "
             f"{calls[0][2] / 1e6:.1f} MB"),
            ("daemon's own `ready in`", ", ".join(f"{ms} ms" for ms in own)),
            ("RSS before → after List", ", ".join(f"{b / 1024:.0f} → {a / 1024:.0f}"
                                                 for b, a in rss) + " MiB"),
            ("the same start with nothing to poll: List to its last byte; RSS before → after",
             f"{quiet['list_bytes_s']:.2f} s; {quiet_rss[0] / 1024:.0f} → "
             f"{quiet_rss[1] / 1024:.0f} MiB"),
            ("SIGTERM to exit", ", ".join(f"{s:.2f} s (exit {c})" for s, c in stops)),
        ]
    finally:
        if daemon is not None:
            daemon.stop()
        sim.stop()
    return rows


def main() -> int:
    args = parse_args()
    workdir = h.temp_workdir("bdel")
    if args.keep:
        workdir._finalizer.detach()  # noqa: SLF001 - keep it past exit too
    rows = []
    load0 = os.getloadavg()[0]
    try:
        delivery_dir = os.path.join(workdir.name, "d")
        os.makedirs(delivery_dir)
        rows += delivery_run(args, delivery_dir)
        if args.stored_watches > 0:
            startup_dir = os.path.join(workdir.name, "s")
            os.makedirs(startup_dir)
            rows += startup_run(args, startup_dir)
    finally:
        if args.keep:
            log(f"work directory kept: {workdir.name}")
        else:
            workdir.cleanup()

    print("\n### jobwatchd event delivery and start-up\n")
    print(f"Machine: {d.machine()}; load average {load0:.1f} at the start, "
          f"{os.getloadavg()[0]:.1f} at the end\n")
    print("| measure | value |")
    print("| --- | --- |")
    for name, value in rows:
        print(f"| {name} | {value} |")
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
