"""Benchmark: the daemon's CPU per poll, side by side with wrk on one nginx.

nginx-light on loopback serves the API page's example ShowJob body
(../shared/seeds/ShowJob-v1.txt) for every job, with its statuses set to
running (2) so that watches keep polling; the body is otherwise the seed's,
byte for byte in shape and size. Then, in one run and on the same nginx:

1. wrk with the daemon's connection count (16) for a window: requests/s
   and wrk's own CPU per request;
2. jobwatchd watching N jobs with min_interval = max_interval = 10 ms and
   no rate limit to speak of, so that only the daemon's CPU (or nginx)
   bounds the poll rate: polls/s from its Stats, CPU per poll from
   /proc, over the same window.

Prints a Markdown table. Reports numbers; asserts nothing about speed.
Needs nginx (nginx-light) and wrk; every process started is stopped.
"""

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import harness as h  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nginx_proc  # noqa: E402

# The seed's "Example Responses" body, statuses 0 (failed) -> 2 (running).
SEED_BODY = {
    "job": {
        "job_id": "575768277444198400",
        "job_type": 1,
        "job_status": 2,
        "sub_jobs": [{
            "job_id": "575768277481947136",
            "job_type": 2,
            "job_status": 2,
            "entities": [],
            "begin_time": "2023-06-06T02:30:06Z",
            "end_time": "2023-06-06T02:45:49Z",
        }],
        "begin_time": "2023-06-06T02:30:06Z",
        "end_time": "2023-06-06T02:45:49Z",
        "expected_end_time": "2023-06-06T15:55:57Z",
        "execute_code": "",
        "execute_message": "",
    }
}

NGINX_CONF = nginx_proc.HEAD + """  access_log off;
  types {{ application/json json; }}
""" + nginx_proc.TEMP_PATHS + """  server {{
    listen 127.0.0.1:{port};
    location / {{
      root {dir};
      try_files /body.json =404;
    }}
  }}
}}
"""


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--watches", type=int, default=2000)
    p.add_argument("--connections", type=int, default=16, help="wrk -c and api.max_connections")
    p.add_argument("--window", type=float, default=10.0, help="seconds per measurement")
    p.add_argument("--nginx", default=nginx_proc.DEFAULT_NGINX)
    p.add_argument("--wrk", default=shutil.which("wrk") or "/usr/bin/wrk")
    return p.parse_args()


def proc_cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_nginx(nginx: str, workdir: str, port: int) -> subprocess.Popen:
    with open(os.path.join(workdir, "body.json"), "w") as f:
        json.dump(SEED_BODY, f, indent=2)
    return nginx_proc.start(nginx, workdir, NGINX_CONF.format(dir=workdir, port=port), port)


def nginx_worker_pid(master: int) -> int:
    with open(f"/proc/{master}/task/{master}/children") as f:
        children = f.read().split()
    return int(children[0]) if children else master


def run_wrk(wrk: str, url: str, connections: int, window: float) -> tuple[float, float]:
    """(requests/s, wrk CPU seconds)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run([wrk, "-t1", f"-c{connections}", f"-d{window:.0f}s", url],
                         capture_output=True, text=True, timeout=window + 30, check=True).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    match = re.search(r"Requests/sec:\s+([0-9.]+)", out)
    if not match:
        raise h.HarnessError(f"no Requests/sec in wrk's output:\n{out}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return float(match.group(1)), cpu


def polls_total(daemon: h.Daemon) -> int:
    with daemon.client() as client:
        return int(client.call("io.jobwatch.Stats")["engine"]["polls"]["total"])


def main() -> int:
    args = parse_args()
    for tool in (args.nginx, args.wrk):
        if not os.access(tool, os.X_OK):
            print(f"bench_poll_path: {tool} not found (apt-get install nginx-light wrk)",
                  file=sys.stderr)
            return 2
    workdir = h.temp_workdir("bpoll")
    port = nginx_proc.free_port()
    endpoint = f"http://127.0.0.1:{port}"
    nginx = start_nginx(args.nginx, workdir.name, port)
    daemon = None
    try:
        worker = nginx_worker_pid(nginx.pid)
        project = h.random_project_id()
        url = f"{endpoint}/v1/{project}/job/575768277444198400"

        ngx0 = proc_cpu_seconds(worker)
        wrk_rate, wrk_cpu = run_wrk(args.wrk, url, args.connections, args.window)
        ngx_wrk = proc_cpu_seconds(worker) - ngx0
        wrk_requests = wrk_rate * args.window

        daemon = h.Daemon(workdir.name, endpoint, project_id=project, overrides={
            "api": {"rate_limit": 1_000_000, "max_connections": args.connections,
                    "request_timeout": "10s"},
            "poll": {"min_interval": "10ms", "max_interval": "10ms", "default_deadline": "2h",
                     "not_found_grace": "2m"},
            "control": {"idle_timeout": "120s"},
            "log": {"level": "warn"},
        })
        with h.logs_on_failure(daemon):
            daemon.start()
            job_ids = [str(575768277444198400 + i) for i in range(args.watches)]
            with daemon.client(timeout=60) as client:
                for i in range(0, len(job_ids), 500):
                    client.call("io.jobwatch.Watch",
                                {"jobs": h.job_refs(job_ids[i:i + 500], project)})
            time.sleep(2.0)  # every connection open, the due queue in its steady state
            polls0, cpu0, ngx0, t0 = (polls_total(daemon), daemon.cpu_seconds(),
                                      proc_cpu_seconds(worker), time.monotonic())
            time.sleep(args.window)
            polls1, cpu1, ngx1, t1 = (polls_total(daemon), daemon.cpu_seconds(),
                                      proc_cpu_seconds(worker), time.monotonic())
            if not daemon.alive():
                raise h.HarnessError(f"jobwatchd exited with {daemon.proc.returncode}")
            code = daemon.stop(timeout=30)
        polls = polls1 - polls0
        poll_rate = polls / (t1 - t0)
        daemon_cpu = cpu1 - cpu0
    finally:
        if daemon is not None and daemon.alive():
            daemon.stop(timeout=30)
        h.stop_process(nginx)
        workdir.cleanup()

    body = len(json.dumps(SEED_BODY, indent=2))
    rows = [
        ("nginx body", f"the seed's example ShowJob, statuses running; {body} B"),
        ("connections", f"{args.connections} (wrk -t1 -c{args.connections}; "
                        f"api.max_connections {args.connections})"),
        ("wrk: requests/s", f"{wrk_rate:.0f}"),
        ("wrk: CPU per request", f"{1e6 * wrk_cpu / wrk_requests:.1f} µs"),
        ("nginx CPU per request under wrk", f"{1e6 * ngx_wrk / wrk_requests:.1f} µs"),
        ("jobwatchd: polls/s", f"{poll_rate:.0f} ({args.watches} watches, 10 ms apart)"),
        ("jobwatchd: CPU per poll", f"{1e6 * daemon_cpu / polls:.1f} µs "
                                    f"({100 * daemon_cpu / (t1 - t0):.0f} % of one core)"),
        ("nginx CPU per request under jobwatchd", f"{1e6 * (ngx1 - ngx0) / polls:.1f} µs"),
        ("jobwatchd polls/s ÷ wrk requests/s", f"{poll_rate / wrk_rate:.2f}"),
        ("SIGTERM", f"exit {code}"),
    ]
    print(f"\n### jobwatchd poll path against nginx, beside wrk\n")
    print(f"Machine: {os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f} at the end\n")
    print("| measure | value |\n| --- | --- |")
    for name, value in rows:
        print(f"| {name} | {value} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
