#!/usr/bin/env python3
"""Synthetic replay traces for bench_policy (docs/TRACE-FORMAT.md).

  make_trace.py lognormal [--jobs 2000] [--seed 1]   one key, app-v1: durations
      lognormal (median 20 min, sigma 0.5), estimates within +-30 % of the
      real duration, 10 % early failures (at 2-50 % of the planned duration).
  make_trace.py projects [--jobs-per-key 300]  three keys of the same
      durations, lognormal (median 10 min, sigma 0.15): app-v1 with honest estimates (+-30 %), app-v1
      whose estimates run late (ends at 1.3-1.8x the estimate), app-v2 (no
      estimate); 10 % early failures each.
  make_trace.py burst [--jobs 2000]   one job a second on average (hundreds
      running at once) of two kinds: app-v1 with estimates (+-30 %) and
      durations of sigma 0.3, whose ends are sharp, and app-v2 without
      estimates and durations of sigma 0.8 (one key for servers of many
      sizes), whose ends are vague; median 10 min both, 10 % early failures.
      With --rate-limit a third of its unconstrained demand the budget binds.
  make_trace.py mixed [--jobs 2000]   as burst, but keys further apart:
      app-v1 estimates within +-5 % (sharp), app-v2 durations of sigma 1.2.

Writes JSON Lines to stdout, one job a line, seconds from the trace start.
Deterministic for a given --seed.
"""
import argparse
import json
import math
import random
import sys


def job(project, api, job_type, submitted, begin, expected_end, end, succeeded):
    return {
        "project_id": project,
        "api": api,
        "job_type": job_type,
        "submitted_at": round(submitted, 3),
        "begin_at": round(begin, 3),
        "expected_end_at": None if expected_end is None else round(expected_end, 3),
        "end_at": round(end, 3),
        "outcome": "succeeded" if succeeded else "failed",
    }


def one(rng, project, api, job_type, submitted, median_s, sigma, estimate, failure_share):
    """estimate(rng, duration) -> estimated duration, or None for no estimate."""
    begin = submitted + rng.uniform(1, 5)  # accepted, then started
    duration = median_s * math.exp(rng.gauss(0, sigma))
    expected = estimate(rng, duration)
    expected_end = None if expected is None else begin + expected
    succeeded = rng.random() >= failure_share
    end = begin + (duration if succeeded else duration * rng.uniform(0.02, 0.5))
    return job(project, api, job_type, submitted, begin, expected_end, end, succeeded)


def honest(rng, duration):
    return duration * rng.uniform(0.7, 1.3)


def late(rng, duration):
    return duration / rng.uniform(1.3, 1.8)


def none(rng, duration):
    return None


def lognormal(args, rng):
    t = 0.0
    for _ in range(args.jobs):
        t += rng.expovariate(1 / 30)
        yield one(rng, "0a1b2c3d4e5f60718293a4b5c6d7e8f9", "app-v1", "1", t, 1200, 0.5,
                  honest, 0.10)


def projects(args, rng):
    keys = [("honest0000000000000000000000000a", "app-v1", "1", 600, honest),
            ("late000000000000000000000000000b", "app-v1", "1", 600, late),
            ("none000000000000000000000000000c", "app-v2", "CREATE_SERVER", 600, none)]
    t = 0.0
    for _ in range(args.jobs_per_key):
        for project, api, job_type, median, estimate in keys:
            t += rng.expovariate(1 / 20)
            yield one(rng, project, api, job_type, t, median, 0.15, estimate, 0.10)


def sharp_and_vague(args, rng, name, estimate, vague_sigma):
    """One job a second, alternating: app-v1 with `estimate`, durations of
    sigma 0.3; app-v2 without, durations of `vague_sigma`."""
    sharp = name.ljust(31, "0") + "a"
    vague = name.ljust(31, "0") + "b"
    t = 0.0
    for i in range(args.jobs):
        t += rng.expovariate(1.0)
        if i % 2 == 0:
            yield one(rng, sharp, "app-v1", "1", t, 600, 0.3, estimate, 0.10)
        else:
            yield one(rng, vague, "app-v2", "CREATE_SERVER", t, 600, vague_sigma, none, 0.10)


def tight(rng, duration):
    return duration * rng.uniform(0.95, 1.05)


def burst(args, rng):
    return sharp_and_vague(args, rng, "burst", honest, 0.8)


def mixed(args, rng):
    return sharp_and_vague(args, rng, "mixed", tight, 1.2)


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scenario", choices=["lognormal", "projects", "burst", "mixed"])
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--jobs-per-key", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    scenario = {"lognormal": lognormal, "projects": projects, "burst": burst,
                "mixed": mixed}[args.scenario]
    jobs = sorted(scenario(args, rng), key=lambda j: j["submitted_at"])
    for j in jobs:
        sys.stdout.write(json.dumps(j, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
