"""Benchmark: what N concurrent watches cost jobwatchd.

Starts the simulator with N long-running jobs (0-2 subjobs each) and the
daemon with a high rate limit, registers N watches over varlink, and
measures the daemon's RSS (before, after registering, after a measurement
window), RSS per watch, the time to register, polls per second achieved
over the window (from the simulator's request counter) and the daemon's
CPU use. Prints a Markdown table. Reports numbers; asserts nothing about
speed. Every phase is bounded in time; everything started is stopped.
"""

import argparse
import os
import random
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import harness as h  # noqa: E402

SIM_CHUNK = 5000  # jobs per POST /admin/jobs
MAX_PHASE_S = 600  # no phase may take longer than this


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--watches", type=int, default=100_000)
    p.add_argument("--window", type=float, default=30.0, help="measurement window, seconds")
    p.add_argument("--batch", type=int, default=500, help="jobs per Watch call")
    p.add_argument("--rate-limit", type=float, default=5000)
    p.add_argument("--max-connections", type=int, default=16)
    # The poll policy keeps a running job's gap at max_interval once its
    # estimate is far away, so the steady demand is N / max_interval polls/s.
    # 10 s makes that 10k/s for 100k watches, above the rate limit: the window
    # then measures what the daemon can sustain, not what the policy asks for.
    p.add_argument("--max-interval", default="10s", help="poll.max_interval")
    p.add_argument("--job-duration", type=int, default=1800, help="simulated job length, seconds")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--keep", action="store_true", help="keep the work directory")
    return p.parse_args()


def sim_requests(sim: h.Sim) -> int:
    return int(sim.stats()["requests_total"])


def proc_cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def runqueue_wait_s(pid: int) -> float:
    """Time the process's threads spent runnable but waiting for a CPU
    (/proc/PID/task/*/schedstat, field 2): shows when the machine, not the
    daemon, limited the numbers."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[1])
        except (OSError, IndexError, ValueError):
            pass
    return total / 1e9


def dir_size(path: str) -> int:
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.path.getsize(os.path.join(root, name))
            except OSError:
                pass
    return total


def create_jobs(sim: h.Sim, project: str, count: int, duration: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    job_ids: list[str] = []
    deadline = time.monotonic() + MAX_PHASE_S
    while len(job_ids) < count:
        if time.monotonic() > deadline:
            raise h.HarnessError(f"creating jobs took over {MAX_PHASE_S}s")
        n = min(SIM_CHUNK, count - len(job_ids))
        specs = [{"project_id": project, "duration_s": duration, "outcome": "success",
                  "expected_end_offset_s": duration, "subjobs": rng.randint(0, 2)}
                 for _ in range(n)]
        reply = sim.create_jobs(specs)
        job_ids += reply["job_ids"]
    return job_ids


def register(daemon: h.Daemon, job_ids: list[str], batch: int) -> float:
    started = time.monotonic()
    with daemon.client(timeout=120) as client:
        for i in range(0, len(job_ids), batch):
            if time.monotonic() - started > MAX_PHASE_S:
                raise h.HarnessError(f"registering took over {MAX_PHASE_S}s")
            chunk = job_ids[i:i + batch]
            reply = client.call("io.jobwatch.Watch",
                                {"jobs": h.job_refs(chunk), "labels": {"bench": "watches"}})
            if len(reply.get("watches") or []) != len(chunk):
                raise h.HarnessError(f"Watch answered {len(reply.get('watches') or [])} "
                                     f"watches for {len(chunk)} jobs")
    return time.monotonic() - started


def main() -> int:
    args = parse_args()
    n = args.watches
    rows: list[tuple[str, str]] = []
    workdir = h.temp_workdir("bench")
    if args.keep:
        workdir._finalizer.detach()  # noqa: SLF001 - keep it past exit too
    sim = h.Sim(workdir.name, seed=args.seed)
    daemon = None
    try:
        sim.start()
        t0 = time.monotonic()
        daemon = h.Daemon(workdir.name, sim.endpoint, overrides={
            "api": {"rate_limit": args.rate_limit, "max_connections": args.max_connections,
                    "request_timeout": "10s"},
            "poll": {"min_interval": "1s", "max_interval": args.max_interval, "default_deadline": "2h",
                     "not_found_grace": "2m"},
            "control": {"idle_timeout": "120s"},
            "log": {"level": "warn"},
        })
        job_ids = create_jobs(sim, daemon.project_id, n, args.job_duration, args.seed)
        print(f"simulator: {len(job_ids)} jobs created in {time.monotonic() - t0:.1f}s",
              file=sys.stderr)

        with h.logs_on_failure(daemon, sim):
            daemon.start()
            time.sleep(1.0)
            rss_before = daemon.rss_kib()
            cpu_start = daemon.cpu_seconds()
            requests_start = sim_requests(sim)

            register_s = register(daemon, job_ids, args.batch)
            rss_registered = daemon.rss_kib()
            print(f"registered {n} watches in {register_s:.1f}s", file=sys.stderr)

            # Ramp: until every watch has been polled about once.
            ramp_started = time.monotonic()
            h.wait_until(lambda: sim_requests(sim) - requests_start >= n, MAX_PHASE_S,
                         interval=0.5, what=f"{n} first polls")
            ramp_s = time.monotonic() - ramp_started

            # Measurement window.
            cpu0, req0, w0 = daemon.cpu_seconds(), sim_requests(sim), time.monotonic()
            sim_cpu0 = proc_cpu_seconds(sim.proc.pid)
            wait0 = runqueue_wait_s(daemon.proc.pid)
            time.sleep(args.window)
            cpu1, req1, w1 = daemon.cpu_seconds(), sim_requests(sim), time.monotonic()
            sim_cpu1 = proc_cpu_seconds(sim.proc.pid)
            wait1 = runqueue_wait_s(daemon.proc.pid)
            load = os.getloadavg()[0]
            rss_after = daemon.rss_kib()
            stats = sim.stats()
            if not daemon.alive():
                raise h.HarnessError(f"jobwatchd exited with {daemon.proc.returncode}")

            polls_per_s = (req1 - req0) / (w1 - w0)
            cpu_pct = 100.0 * (cpu1 - cpu0) / (w1 - w0)
            sim_cpu_pct = 100.0 * (sim_cpu1 - sim_cpu0) / (w1 - w0)
            total_cpu = cpu1 - cpu_start

            stop_started = time.monotonic()
            code = daemon.stop(timeout=30)
            stop_s = time.monotonic() - stop_started

        rows = [
            ("watches", f"{n}"),
            ("daemon RSS before watching", f"{rss_before / 1024:.1f} MiB"),
            ("daemon RSS after registering", f"{rss_registered / 1024:.1f} MiB"),
            (f"daemon RSS after the {args.window:.0f} s window", f"{rss_after / 1024:.1f} MiB"),
            ("RSS per watch", f"{(rss_after - rss_before) * 1024 / n:.0f} B"),
            ("time to register", f"{register_s:.2f} s ({n / register_s:.0f} watches/s, "
                                 f"batches of {args.batch})"),
            ("time until every watch was polled once", f"{ramp_s:.1f} s"),
            ("polls/s over the window", f"{polls_per_s:.0f} (rate_limit {args.rate_limit:g}, "
                                        f"max_connections {args.max_connections}, min_interval 1s, "
                                        f"max_interval {args.max_interval})"),
            ("daemon CPU over the window", f"{cpu_pct:.0f} % of one core"),
            ("daemon CPU seconds, registering to end of window", f"{total_cpu:.1f} s"),
            ("simulator CPU over the window", f"{sim_cpu_pct:.0f} % of one core"),
            ("daemon runnable but waiting for a CPU", f"{100.0 * (wait1 - wait0) / (w1 - w0):.0f} % "
                                                      f"of the window (load average {load:.1f} "
                                                      f"on {os.cpu_count()} CPUs)"),
            ("upstream answers by status", ", ".join(f"{k}: {v}" for k, v in
                                                     sorted((stats.get("by_status") or {}).items()))),
            ("state dir size", f"{dir_size(daemon.state_dir) / 1e6:.1f} MB"),
            ("SIGTERM to exit", f"{stop_s:.1f} s (exit {code})"),
        ]
    finally:
        if daemon is not None:
            daemon.stop()
        sim.stop()
        if args.keep:
            print(f"work directory kept: {workdir.name}", file=sys.stderr)
        else:
            workdir.cleanup()

    print(f"\n### jobwatchd with {n} watches\n")
    print("| measure | value |")
    print("| --- | --- |")
    for name, value in rows:
        print(f"| {name} | {value} |")
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
