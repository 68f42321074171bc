// Where to poll a running job, given the distribution of its end (SPEC §7):
// gaps of target_delay where the end is likely, up to max_interval
// elsewhere, never below min_interval. Derivation: docs/POLL-TIMING.md.
// Sans-io; ages and gaps are seconds (double) since the job's begin_time.
#pragma once

#include <chrono>
#include <vector>

#include "jobwatch/schedule/end_distribution.hpp"

namespace jobwatch::schedule {

enum class WindowRule {
  // Cover the ages where the hazard f/S is highest until the rest holds at
  // most 1 - coverage: the fewest expected calls for the delay target
  // (polls stop at the end, so an age costs in proportion to survival).
  fewest_calls,
  // Cover the ages where the density f is highest (a highest-density
  // region): the shortest windows, i.e. fewest calls for a job that runs
  // through all of them. Kept to compare against.
  shortest,
};

struct PlacementParams {
  double target_delay_s = 10;
  double min_interval_s = 2;
  double max_interval_s = 120;
  double coverage = 0.99;  // P(end inside a window); 1 - coverage may be seen late
  WindowRule rule = WindowRule::fewest_calls;
};

struct Window {
  double lo_s;
  double hi_s;
};

// A job type's poll windows. It depends only on the distribution, the
// coverage and the rule, so a caller may keep it until the model changes.
struct PollPlan {
  std::vector<Window> windows;  // ascending, disjoint
  double covered_mass = 0;      // >= min(coverage, 1 - kNegligibleSurvival)
  // Beyond this age the survival is below kNegligibleSurvival: the job has
  // outlived everything the model remembers.
  double history_end_s = 0;
};

enum class PollRegime {
  in_window,       // target_delay
  before_window,   // up to max_interval, landing exactly on the next window
  after_window,    // doubling from target_delay up to max_interval
  beyond_history,  // max_interval: a straggler, the model knows nothing
};

struct Placement {
  double gap_s;  // from now to the next poll
  PollRegime regime;
};

PollPlan plan_polls(const EndDistribution& end, const PlacementParams& params);

// The gap after a poll at age_now_s. Bounds are normalised as in
// poll_policy: max >= min >= 0, and target_delay is clamped into [min, max].
Placement next_gap(const PollPlan& plan, double age_now_s, const PlacementParams& params);
// The same, planning on the spot.
Placement next_gap(const EndDistribution& end, double age_now_s, const PlacementParams& params);

// A gap in milliseconds, rounded up so a poll aimed at a window's edge does
// not land just before it.
std::chrono::milliseconds to_millis(double gap_s);

}  // namespace jobwatch::schedule
