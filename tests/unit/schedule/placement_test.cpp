// Placement: the window, the gap rules at its edges, stragglers, and a Monte
// Carlo check of the delay target and the number of calls.
#include "jobwatch/schedule/placement.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "jobwatch/schedule/timing_model.hpp"

namespace jobwatch::schedule {
namespace {

using namespace std::chrono_literals;

const PlacementParams kParams{10, 2, 120, 0.99};

EndDistribution learned(double median, double sigma, int n = 2000, unsigned seed = 11) {
  TimingModel m(TimingModelParams{1e9});
  std::mt19937 rng(seed);
  std::lognormal_distribution<double> d(std::log(median), sigma);
  for (int i = 0; i < n; ++i) m.observe_duration(d(rng));
  return *m.duration_distribution();
}

double window_mass(const EndDistribution& d, const PollPlan& plan) {
  double mass = 0;
  for (const Window& w : plan.windows) mass += d.cdf(w.hi_s) - d.cdf(w.lo_s);
  return mass;
}

TEST(Placement, WindowHoldsTheCoverage) {
  const auto d = learned(1200, 0.3);
  for (const auto rule : {WindowRule::fewest_calls, WindowRule::shortest}) {
    PlacementParams params = kParams;
    params.rule = rule;
    const PollPlan plan = plan_polls(d, params);
    ASSERT_FALSE(plan.windows.empty());
    EXPECT_GE(window_mass(d, plan), 0.99 - 1e-9);
    EXPECT_GE(plan.covered_mass, 0.99 - 1e-9);
    // One mode, one window, and it is around the bulk of the mass.
    EXPECT_EQ(plan.windows.size(), 1u);
    EXPECT_LT(plan.windows.front().lo_s, d.quantile(0.02));
    EXPECT_GT(plan.windows.front().hi_s, d.quantile(0.98));
  }
}

TEST(Placement, TargetDelayInsideTheWindow) {
  const auto d = learned(1200, 0.3);
  const PollPlan plan = plan_polls(d, kParams);
  const Window w = plan.windows.front();
  for (double age = w.lo_s; age < w.hi_s; age += (w.hi_s - w.lo_s) / 97) {
    const Placement p = next_gap(plan, age, kParams);
    EXPECT_EQ(p.gap_s, 10) << "age " << age;
    EXPECT_EQ(p.regime, PollRegime::in_window);
  }
}

TEST(Placement, LandsExactlyOnTheWindowsLowerEdge) {
  const auto d = learned(1200, 0.3);
  const PollPlan plan = plan_polls(d, kParams);
  const double lo = plan.windows.front().lo_s;
  const Placement far = next_gap(plan, lo - 500, kParams);
  EXPECT_EQ(far.gap_s, 120);
  EXPECT_EQ(far.regime, PollRegime::before_window);
  const Placement near = next_gap(plan, lo - 50, kParams);
  EXPECT_NEAR(lo - 50 + near.gap_s, lo, 1e-9);
  EXPECT_EQ(near.regime, PollRegime::before_window);
  // Walking up to the window from age 0 hits its edge exactly.
  double age = 0;
  while (age < lo) age += next_gap(plan, age, kParams).gap_s;
  EXPECT_NEAR(age, lo, 1e-9);
}

TEST(Placement, NeverBelowMinInterval) {
  const auto d = learned(1200, 0.3);
  PlacementParams params = kParams;
  params.target_delay_s = 1;  // below min_interval: min_interval wins
  const PollPlan plan = plan_polls(d, params);
  const Window w = plan.windows.front();
  EXPECT_EQ(next_gap(plan, (w.lo_s + w.hi_s) / 2, params).gap_s, 2);
  EXPECT_EQ(next_gap(plan, w.lo_s - 0.5, params).gap_s, 2);  // would land 0.5 s on
  for (double age = 0; age < plan.history_end_s + 1000; age += 3.7) {
    const double gap = next_gap(plan, age, params).gap_s;
    EXPECT_GE(gap, 2) << "age " << age;
    EXPECT_LE(gap, 120) << "age " << age;
  }
}

TEST(Placement, AtMostMaxIntervalEverywhere) {
  // Early failures and stragglers are seen within max_interval whatever the
  // model says.
  const auto d = learned(3 * 3600, 0.5);
  const PollPlan plan = plan_polls(d, kParams);
  for (double age = 0; age < 3 * plan.history_end_s; age += 11.3) {
    const Placement p = next_gap(plan, age, kParams);
    EXPECT_LE(p.gap_s, 120) << "age " << age;
    EXPECT_GE(p.gap_s, 2) << "age " << age;
  }
  EXPECT_EQ(next_gap(plan, 0, kParams).gap_s, 120);
}

TEST(Placement, StragglerBeyondAllHistoryGetsMaxInterval) {
  const auto d = learned(1200, 0.3);
  const PollPlan plan = plan_polls(d, kParams);
  EXPECT_GT(plan.history_end_s, d.quantile(0.999));
  for (double age : {plan.history_end_s, plan.history_end_s * 1.5, 1e6}) {
    const Placement p = next_gap(plan, age, kParams);
    EXPECT_EQ(p.gap_s, 120);
    EXPECT_EQ(p.regime, PollRegime::beyond_history);
  }
}

TEST(Placement, GapsDoubleAfterAWindow) {
  // The shortest window ends before the history does; past it the gap is
  // the time since it closed, from target_delay up to max_interval.
  const auto d = learned(1200, 0.3);
  PlacementParams params = kParams;
  params.rule = WindowRule::shortest;
  const PollPlan plan = plan_polls(d, params);
  const double hi = plan.windows.back().hi_s;
  ASSERT_LT(hi + 200, plan.history_end_s);
  EXPECT_EQ(next_gap(plan, hi + 1, params).gap_s, 10);
  EXPECT_EQ(next_gap(plan, hi + 40, params).gap_s, 40);
  EXPECT_EQ(next_gap(plan, hi + 200, params).gap_s, 120);
  EXPECT_EQ(next_gap(plan, hi + 40, params).regime, PollRegime::after_window);
}

TEST(Placement, EarlyFailuresGetTheirOwnWindow) {
  // 3 % of jobs fail within seconds, the rest take ~20 min: one interval
  // cannot hold 99 % cheaply, two windows can.
  TimingModel m(TimingModelParams{1e9});
  std::mt19937 rng(21);
  std::lognormal_distribution<double> fail(std::log(5), 0.3);
  std::lognormal_distribution<double> run(std::log(1200), 0.3);
  std::bernoulli_distribution failed(0.03);
  for (int i = 0; i < 4000; ++i) m.observe_duration(failed(rng) ? fail(rng) : run(rng));
  const auto d = *m.duration_distribution();
  const PollPlan plan = plan_polls(d, kParams);
  ASSERT_EQ(plan.windows.size(), 2u);
  EXPECT_LT(plan.windows[0].hi_s, 20);
  EXPECT_GT(plan.windows[1].lo_s, 300);
  EXPECT_EQ(next_gap(plan, 4, kParams).gap_s, 10);
  // Between the two: doubling after the first, then max_interval, then
  // landing on the second.
  EXPECT_NEAR(next_gap(plan, 60, kParams).gap_s, 60 - plan.windows[0].hi_s, 1e-9);
  EXPECT_EQ(next_gap(plan, 200, kParams).gap_s, 120);
  EXPECT_EQ(next_gap(plan, 200, kParams).regime, PollRegime::before_window);
  const double lo = plan.windows[1].lo_s;
  EXPECT_NEAR(lo - 30 + next_gap(plan, lo - 30, kParams).gap_s, lo, 1e-9);
}

TEST(Placement, ToMillisRoundsUp) {
  EXPECT_EQ(to_millis(10), 10s);
  EXPECT_EQ(to_millis(1.0001), 1001ms);
  EXPECT_EQ(to_millis(-1), 0ms);
}

struct MonteCarlo {
  double p99_delay_s;
  double calls_per_job;
  double fixed_calls_per_job;  // polling every target_delay from age 0
};

// Jobs drawn from the distribution itself; the first poll is at age 0 (the
// engine polls a new watch at once). The schedule is deterministic, so it
// is built once and each job's detection is a search in it.
MonteCarlo simulate(const EndDistribution& d, const PlacementParams& params, int jobs) {
  const PollPlan plan = plan_polls(d, params);
  std::vector<double> polls{0};
  const double horizon = d.highest_s() + 2 * params.max_interval_s;
  while (polls.back() < horizon) {
    polls.push_back(polls.back() + next_gap(plan, polls.back(), params).gap_s);
  }
  std::mt19937 rng(99);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<double> delays;
  double calls = 0;
  double fixed = 0;
  for (int i = 0; i < jobs; ++i) {
    const double end = d.quantile(u(rng));
    const auto it = std::lower_bound(polls.begin(), polls.end(), end);
    delays.push_back(*it - end);
    calls += static_cast<double>(it - polls.begin()) + 1;
    fixed += std::ceil(end / params.target_delay_s) + 1;
  }
  std::sort(delays.begin(), delays.end());
  return {delays[static_cast<std::size_t>(0.99 * jobs)], calls / jobs, fixed / jobs};
}

TEST(Placement, MonteCarloMeetsTheDelayTargetWithFewCalls) {
  const auto d = learned(1200, 0.3);
  const MonteCarlo fewest = simulate(d, kParams, 50000);
  PlacementParams shortest_params = kParams;
  shortest_params.rule = WindowRule::shortest;
  const MonteCarlo shortest = simulate(d, shortest_params, 50000);
  std::printf("  fewest_calls: p99 delay %.2f s, %.1f calls/job (fixed: %.1f)\n",
              fewest.p99_delay_s, fewest.calls_per_job, fewest.fixed_calls_per_job);
  std::printf("  shortest:     p99 delay %.2f s, %.1f calls/job\n", shortest.p99_delay_s,
              shortest.calls_per_job);
  EXPECT_LE(fewest.p99_delay_s, 10 + 0.5);
  EXPECT_LE(shortest.p99_delay_s, 10 + 0.5);
  EXPECT_LT(fewest.calls_per_job, 0.65 * fewest.fixed_calls_per_job);
  EXPECT_LE(fewest.calls_per_job, shortest.calls_per_job);
}

TEST(Placement, MonteCarloOnANarrowService) {
  // The sharper the model, the fewer calls: sigma 0.1 around 20 min.
  const auto d = learned(1200, 0.1);
  const MonteCarlo mc = simulate(d, kParams, 50000);
  std::printf("  sigma 0.1: p99 delay %.2f s, %.1f calls/job (fixed: %.1f)\n", mc.p99_delay_s,
              mc.calls_per_job, mc.fixed_calls_per_job);
  EXPECT_LE(mc.p99_delay_s, 10 + 0.5);
  EXPECT_LT(mc.calls_per_job, 0.4 * mc.fixed_calls_per_job);
}

TEST(Placement, MonteCarloOnTheColdStartBand) {
  const auto d = *EndDistribution::lognormal(600, kColdEstimateSigma);
  const MonteCarlo mc = simulate(d, kParams, 50000);
  EXPECT_LE(mc.p99_delay_s, 10 + 0.5);
  EXPECT_LT(mc.calls_per_job, mc.fixed_calls_per_job);
}

}  // namespace
}  // namespace jobwatch::schedule
