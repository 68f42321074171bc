// Poll placement: the windows are a greedy (fractional-knapsack) walk over
// the distribution's pieces; the gap rule follows from the windows.
#include "jobwatch/schedule/placement.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <iterator>
#include <limits>

namespace jobwatch::schedule {

namespace {

constexpr std::size_t kN = EndDistribution::kBuckets;

struct Piece {
  double lo_s;
  double hi_s;
  double mass;  // the distribution's, > 0
  double key;   // mass per unit of polling cost: the highest keys are covered
  bool covered = true;
};

// ∫ S(t) dt over a bucket where F(t) = f0 + b ln(t / x0) (log-linear): the
// expected time a job spends alive there, which is what polling it costs.
double survival_integral(double x0, double x1, double f0, double mass) {
  const double log_ratio = std::log(x1 / x0);
  const double b = mass / log_ratio;
  return (1.0 - f0) * (x1 - x0) - b * (x1 * log_ratio - x1 + x0);
}

// One piece per bucket with mass (empty buckets are never covered). Keys are
// per bucket, not per sub-bucket: inside a bucket the mass is log-uniform,
// a density ∝ 1/t that saws at every edge, and a finer walk would chase the
// saw teeth instead of the shape.
std::vector<Piece> pieces_of(const EndDistribution& end, WindowRule rule) {
  std::vector<Piece> pieces;
  pieces.reserve(kN);
  for (std::size_t k = 0; k < kN; ++k) {
    const double m = end.mass(k);
    if (!(m > 0)) continue;
    const double x0 = end.edge_s(k);
    const double x1 = end.edge_s(k + 1);
    const double cost =
        rule == WindowRule::shortest ? x1 - x0 : survival_integral(x0, x1, end.cdf_at_edge(k), m);
    const double key = cost > 0 ? m / cost : std::numeric_limits<double>::infinity();
    pieces.push_back({x0, x1, m, key});
  }
  return pieces;
}

// The piece that did not fit the budget whole gives up `share` of its mass
// on the side where it meets uncovered ages, so the budget is used exactly
// and the window edge moves continuously with the coverage. (Mass is
// log-uniform inside, so a share of mass is the same share of log-width.)
// False when the piece is uncovered on neither side (an island): then it
// stays whole and the budget is left partly unused.
bool trim(std::vector<Piece>& pieces, std::size_t i, double share) {
  Piece& p = pieces[i];
  const auto exposed_at = [&](std::size_t j, double edge) {
    return !pieces[j].covered || pieces[j].hi_s < edge * (1 - 1e-12) ||
           pieces[j].lo_s > edge * (1 + 1e-12);
  };
  const bool below_open = i == 0 || exposed_at(i - 1, p.lo_s);
  const bool above_open = i + 1 == pieces.size() || exposed_at(i + 1, p.hi_s);
  const double log_width = std::log(p.hi_s / p.lo_s);
  if (below_open) {
    p.lo_s *= std::exp(share * log_width);
    return true;
  }
  if (above_open) {
    p.hi_s /= std::exp(share * log_width);
    return true;
  }
  return false;
}

struct Bounds {
  double min;
  double max;
  double delay;
};

Bounds bounds_of(const PlacementParams& p) {
  const double lo = std::isfinite(p.min_interval_s) ? std::max(0.0, p.min_interval_s) : 0.0;
  // A max below the min (a config slip) must not invert the clamp.
  const double hi = std::isfinite(p.max_interval_s) ? std::max(lo, p.max_interval_s) : lo;
  const double d = std::isnan(p.target_delay_s) ? hi : std::clamp(p.target_delay_s, lo, hi);
  return {lo, hi, d};
}

}  // namespace

PollPlan plan_polls(const EndDistribution& end, const PlacementParams& params) {
  const double coverage = std::isnan(params.coverage) ? 1.0 : std::clamp(params.coverage, 0.0, 1.0);
  // The tail beyond history_end (kNegligibleSurvival of the mass) is never
  // in a window, so it is charged to the budget up front.
  const double budget = std::max(0.0, 1.0 - coverage - kNegligibleSurvival);

  std::vector<Piece> pieces = pieces_of(end, params.rule);
  std::vector<std::size_t> order(pieces.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    if (pieces[a].key != pieces[b].key) return pieces[a].key < pieces[b].key;
    return a < b;
  });
  // Leave uncovered the pieces where covering buys least per unit of mass
  // (a fractional knapsack: the order is optimal), while the uncovered mass
  // fits the budget; the first piece that does not fit is trimmed.
  double exposed = 0;
  for (const std::size_t i : order) {
    if (exposed + pieces[i].mass > budget) {
      if (trim(pieces, i, (budget - exposed) / pieces[i].mass)) exposed = budget;
      break;
    }
    exposed += pieces[i].mass;
    pieces[i].covered = false;
  }

  PollPlan plan;
  plan.covered_mass = std::max(0.0, 1.0 - exposed - kNegligibleSurvival);
  plan.history_end_s = end.quantile(1.0 - kNegligibleSurvival);
  for (const Piece& p : pieces) {
    if (!p.covered) continue;
    const double lo = p.lo_s;
    const double hi = std::min(p.hi_s, plan.history_end_s);
    if (!(hi > lo)) continue;
    // Pieces come in age order; a piece starting where the last window ends
    // extends it (adjacent buckets share an edge up to the rounding of exp).
    if (!plan.windows.empty() && lo <= plan.windows.back().hi_s * (1 + 1e-12)) {
      plan.windows.back().hi_s = std::max(plan.windows.back().hi_s, hi);
    } else {
      plan.windows.push_back({lo, hi});
    }
  }
  return plan;
}

Placement next_gap(const PollPlan& plan, double age_now_s, const PlacementParams& params) {
  const Bounds b = bounds_of(params);
  if (std::isnan(age_now_s)) return {b.max, PollRegime::beyond_history};
  if (age_now_s >= plan.history_end_s) return {b.max, PollRegime::beyond_history};

  // The first window not yet over.
  const auto next = std::find_if(plan.windows.begin(), plan.windows.end(),
                                 [&](const Window& w) { return w.hi_s > age_now_s; });
  if (next != plan.windows.end() && next->lo_s <= age_now_s) {
    return {b.delay, PollRegime::in_window};
  }
  double gap = b.max;
  if (next != plan.windows.begin()) {
    // Just past a window the model may be a little off (a service slowing
    // down), so gaps double from target_delay rather than jump to the max:
    // the gap is the time since the window closed.
    const double since = age_now_s - std::prev(next)->hi_s;
    gap = std::min(gap, std::max(b.delay, since));
  }
  PollRegime regime = PollRegime::after_window;
  if (next != plan.windows.end()) {
    // Land exactly on the window's lower edge: overshooting it would leave
    // the window's first gap longer than target_delay.
    gap = std::min(gap, next->lo_s - age_now_s);
    regime = PollRegime::before_window;
  }
  return {std::clamp(gap, b.min, b.max), regime};
}

Placement next_gap(const EndDistribution& end, double age_now_s, const PlacementParams& params) {
  return next_gap(plan_polls(end, params), age_now_s, params);
}

std::chrono::milliseconds to_millis(double gap_s) {
  if (!(gap_s > 0)) return std::chrono::milliseconds{0};
  const double ms = std::ceil(gap_s * 1000.0);
  constexpr double kMax = static_cast<double>(std::numeric_limits<std::int32_t>::max());
  return std::chrono::milliseconds{static_cast<std::int64_t>(std::min(ms, kMax))};
}

}  // namespace jobwatch::schedule
