#!/usr/bin/env python3
"""How much any poll order could gain on make_trace.py burst under its budget.

docs/BENCHMARKS.md ("A binding budget") asks for a mean delay 30 % below
due-time order. This estimates the ceiling in steady state, fluid-style:
jobs of the burst trace's two kinds (sampled as make_trace.py does), each
polled from its begin by a gap rule, calls and delay averaged over jobs,
each rule held to the same calls per job (the budget over the arrivals:
--calls-per-job, default 14.63 = the run's rate limit at one job a second).

  uniform          one gap for every watch (a fixed loop at the budget);
  placement+queue  the placement's gaps (target_delay in the learned
                   windows, max_interval before them, landing on the
                   window's edge) plus one common queue wait: due-time order;
  oracle           the square-root law on each job's true hazard, early
                   failures included (known from the generator, which no
                   daemon knows), gaps in [min_interval, max_interval].

Prints the mean delay of each. Takes about half a minute (pure Python).
"""
import argparse
import math
import random

MIN_S, MAX_S, TARGET_S = 2.0, 120.0, 10.0


def sample(rng, kind):
    """(estimate or None, end age, the generator's make_trace.one)."""
    duration = 600 * math.exp(rng.gauss(0, 0.3 if kind == "v1" else 0.8))
    estimate = duration * rng.uniform(0.7, 1.3) if kind == "v1" else None
    succeeded = rng.random() >= 0.1
    end = duration if succeeded else duration * rng.uniform(0.02, 0.5)
    return estimate, end


class Hazard:
    """The true chance per second of the end at an age, from the sample:
    for app-v1 on the age over the estimate (the shape make_trace gives every
    job of the key), for app-v2 on the age."""

    def __init__(self, jobs, relative):
        self.relative = relative
        self.step = 0.01 if relative else 5.0
        bins = 2000 if relative else 4000
        ends = [0] * bins
        for estimate, end in jobs:
            ends[min(bins - 1, int(self.scaled(end, estimate) / self.step))] += 1
        alive = len(jobs)
        self.rate = []
        for count in ends:
            self.rate.append(count / max(1, alive) / self.step)
            alive -= count

    def scaled(self, age, estimate):
        return age / estimate if self.relative else age

    def at(self, age, estimate):
        b = min(len(self.rate) - 1, int(self.scaled(age, estimate) / self.step))
        return self.rate[b] / estimate if self.relative else self.rate[b]


def evaluate(jobs, gap_rule):
    calls = delay = 0.0
    count = 0
    for kind, estimate, end in jobs:
        t = 0.0
        while True:
            gap = gap_rule(kind, estimate, t)
            calls += 1
            if t + gap >= end:
                delay += t + gap - end
                break
            t += gap
        count += 1
    return calls / count, delay / count


def uniform(gap):
    return lambda kind, estimate, t: gap


def placement_plus_queue(wait):
    # The learned windows as placement puts them: app-v1 on the end/estimate
    # ratio 0.77-1.43, app-v2 from its ~1st percentile (95 s) on.
    def rule(kind, estimate, t):
        lo, hi = (0.77 * estimate, 1.43 * estimate) if kind == "v1" else (95.0, math.inf)
        if t < lo:
            return min(MAX_S, max(MIN_S, lo - t)) + wait
        if t < hi:
            return TARGET_S + wait
        return min(MAX_S, max(TARGET_S, t - hi)) + wait
    return rule


def oracle(hazards):
    def with_scale(c):
        def rule(kind, estimate, t):
            h = hazards[kind].at(t, estimate)
            return MAX_S if h <= 0 else min(MAX_S, max(MIN_S, c / math.sqrt(h)))
        return rule
    return with_scale


def fit(jobs, make_rule, calls_per_job, lo, hi):
    """The rule's parameter (more of it, fewer calls) that spends the budget."""
    for _ in range(30):
        mid = (lo + hi) / 2
        calls, _ = evaluate(jobs, make_rule(mid))
        lo, hi = (mid, hi) if calls > calls_per_job else (lo, mid)
    return evaluate(jobs, make_rule(hi))


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls-per-job", type=float, default=14.63)
    parser.add_argument("--jobs", type=int, default=20000, help="sampled per kind")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    by_kind = {k: [sample(rng, k) for _ in range(args.jobs)] for k in ("v1", "v2")}
    hazards = {"v1": Hazard(by_kind["v1"], True), "v2": Hazard(by_kind["v2"], False)}
    jobs = [(k, e, end) for k, sampled in by_kind.items() for e, end in sampled]
    for name, make_rule, lo, hi in [("uniform", uniform, 1, 500),
                                    ("placement+queue", placement_plus_queue, 0, 500),
                                    ("oracle", oracle(hazards), 0.01, 50)]:
        calls, delay = fit(jobs, make_rule, args.calls_per_job, lo, hi)
        print(f"{name:16s} {calls:6.2f} calls/job  mean delay {delay:5.1f} s")


if __name__ == "__main__":
    main()
