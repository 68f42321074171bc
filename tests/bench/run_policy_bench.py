#!/usr/bin/env python3
"""The replay benchmark's three runs (docs/BENCHMARKS.md "Poll timing that learns").

Generates the synthetic traces with make_trace.py into --out and replays
each with bench_policy:
  1. lognormal: target_delay 10 s, max_interval 2 m, no rate limit;
  2. projects: honest, late and no estimates, the same settings;
  3. burst and 4. mixed: first without a limit, to measure its demand, then
     with --rate-limit a third of that demand, priority against due-time
     order.
Prints each bench_policy report as text, or with --markdown as the tables
docs/BENCHMARKS.md keeps (groups named by --groups substrings).
"""
import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def make(out, scenario):
    path = os.path.join(out, scenario + ".jsonl")
    with open(path, "w") as f:
        subprocess.run([sys.executable, os.path.join(HERE, "make_trace.py"), scenario],
                       stdout=f, check=True)
    return path


def bench(binary, trace, *extra, as_json=False):
    cmd = [binary, "--trace", trace, "--target-delay", "10s", "--max-interval", "2m", *extra]
    if as_json:
        cmd.append("--json")
    print("$ " + " ".join(os.path.basename(c) if c == binary else c for c in cmd), flush=True)
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    sys.stderr.write(done.stderr)
    return done.stdout


def markdown(report, wanted):
    out = []
    for group in report["groups"]:
        if not any(w in group["group"] for w in wanted):
            continue
        first = next(iter(group["strategies"].values()))
        out.append(f"\n{group['group']} ({first['jobs']} jobs)\n")
        out.append("| strategy | calls/job | mean s | p50 s | p95 s | p99 s | max s | longest unpolled s |")
        out.append("|---|---:|---:|---:|---:|---:|---:|---:|")
        for name, f in group["strategies"].items():
            d = f["delay_s"]
            out.append(f"| {name} | {f['calls_per_job']:.1f} | {d['mean']:.1f} | {d['p50']:.1f} | "
                       f"{d['p95']:.1f} | {d['p99']:.1f} | {d['max']:.1f} | "
                       f"{f['longest_unpolled_s']:.0f} |")
    return "\n".join(out)


def a_third_of_demand(binary, trace, scenario):
    free = json.loads(bench(binary, trace, "--order", "priority", "--warmup", "0", as_json=True))
    jobwatch = free["groups"][0]["strategies"]["jobwatch"]
    with open(trace) as f:
        jobs = [json.loads(line) for line in f]
    # Jobs arrive steadily and each lives ~10 min: over the arrival span the
    # number running, and so the demand, is about constant.
    span = max(j["submitted_at"] for j in jobs) - min(j["submitted_at"] for j in jobs)
    demand = jobwatch["calls_per_job"] * jobwatch["jobs"] / span
    rate = round(demand / 3, 2)
    print(f"{scenario}: unconstrained demand {demand:.2f} calls/s over the {span:.0f} s of "
          f"arrivals; rate limit {rate}/s (a third)\n", flush=True)
    return rate


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bench", required=True, help="the bench_policy binary")
    parser.add_argument("--out", required=True, help="a directory for the traces")
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)

    def report(trace, *extra, groups=("all jobs", "succeeded", "failed")):
        if not args.markdown:
            print(bench(args.bench, trace, *extra))
            return
        print(markdown(json.loads(bench(args.bench, trace, *extra, as_json=True)), groups))
        print()

    report(make(args.out, "lognormal"), "--warmup", "0")
    report(make(args.out, "projects"), groups=("ended, succeeded", "failed"))

    for scenario in ("burst", "mixed"):
        trace = make(args.out, scenario)
        rate = a_third_of_demand(args.bench, trace, scenario)
        report(trace, "--rate-limit", str(rate), "--order", "both", "--warmup", "0")

if __name__ == "__main__":
    main()
