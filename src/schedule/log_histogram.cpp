// The decayed log-histogram: bucketing, decay, conversion to a distribution.
#include "jobwatch/schedule/log_histogram.hpp"

#include <algorithm>
#include <cmath>

namespace jobwatch::schedule {

namespace {

constexpr double kFallbackHalfLife = 50;

// Weights this small are set to zero: 1e-12 of one job is far below
// kNegligibleSurvival, and zeros keep old buckets out of denormal arithmetic.
constexpr double kFlushWeight = 1e-12;

bool usable_half_life(double h) {
  return std::isfinite(h) && h > 0;
}

}  // namespace

DecayedLogHistogram::DecayedLogHistogram(double lo, double hi, double half_life_jobs) {
  if (!(std::isfinite(lo) && std::isfinite(hi) && lo > 0 && hi > lo)) {
    lo = 1;
    hi = 2;
  }
  lo_ = lo;
  hi_ = hi;
  log_lo_ = std::log(lo);
  log_step_ = (std::log(hi) - log_lo_) / kBuckets;
  half_life_ = kFallbackHalfLife;
  decay_ = std::exp2(-1.0 / half_life_);
  set_half_life(half_life_jobs);
}

void DecayedLogHistogram::set_half_life(double half_life_jobs) {
  if (!usable_half_life(half_life_jobs)) return;
  half_life_ = half_life_jobs;
  decay_ = std::exp2(-1.0 / half_life_);
}

std::size_t DecayedLogHistogram::bucket_of(double value) const {
  if (value <= lo_) return 0;
  if (value >= hi_) return kBuckets - 1;
  const double pos = (std::log(value) - log_lo_) / log_step_;
  return std::min(kBuckets - 1, static_cast<std::size_t>(std::max(0.0, pos)));
}

bool DecayedLogHistogram::observe(double value) {
  if (!std::isfinite(value) || value < 0) return false;
  const std::size_t k = bucket_of(value);
  double total = 0;
  for (std::size_t j = 0; j < kBuckets; ++j) {
    double w = weights_[j] * decay_;
    if (j == k) w += 1;
    if (w < kFlushWeight) w = 0;
    weights_[j] = w;
    total += w;
  }
  // The total is always the sum in bucket order, so a restored model has
  // bit-for-bit the same total as the one that was saved.
  total_ = total;
  ++count_;
  return true;
}

double DecayedLogHistogram::weight_of_recent(double n) const {
  if (!(n > 0)) return 0;
  return (1.0 - std::pow(decay_, n)) / (1.0 - decay_);
}

double DecayedLogHistogram::lower_edge(std::size_t k) const {
  if (k >= kBuckets) return hi_;
  return std::exp(log_lo_ + log_step_ * static_cast<double>(k));
}

std::optional<EndDistribution> DecayedLogHistogram::distribution(double scale) const {
  if (!(total_ > 0) || !(scale > 0) || !std::isfinite(scale)) return std::nullopt;
  std::array<double, kBuckets + 1> edges{};
  const double base = log_lo_ + std::log(scale);
  for (std::size_t i = 0; i <= kBuckets; ++i) {
    edges[i] = base + log_step_ * static_cast<double>(i);
  }
  return EndDistribution::from_buckets(edges, weights_);
}

bool DecayedLogHistogram::restore(std::uint64_t count, std::span<const double> weights) {
  if (weights.size() != kBuckets) return false;
  double total = 0;
  for (const double w : weights) {
    if (!std::isfinite(w) || w < 0) return false;
    total += w;
  }
  if (count == 0 && total != 0) return false;
  std::copy(weights.begin(), weights.end(), weights_.begin());
  total_ = total;
  count_ = count;
  return true;
}

bool DecayedLogHistogram::restore_rebinned(std::uint64_t count, std::span<const double> weights,
                                           double from_lo, double from_hi) {
  if (weights.size() != kBuckets || !(from_lo > 0) || !(from_hi > from_lo) ||
      !std::isfinite(from_hi)) {
    return false;
  }
  const double from_log_lo = std::log(from_lo);
  const double from_step = (std::log(from_hi) - from_log_lo) / static_cast<double>(kBuckets);
  const double log_hi = log_lo_ + log_step_ * static_cast<double>(kBuckets);
  std::array<double, kBuckets> moved{};
  for (std::size_t k = 0; k < kBuckets; ++k) {
    const double w = weights[k];
    if (!std::isfinite(w) || w < 0) return false;
    if (w == 0) continue;
    const double a = from_log_lo + from_step * static_cast<double>(k);
    const double b = a + from_step;
    const double density = w / (b - a);
    // Below lo and above hi: clamped into the edge buckets.
    moved.front() += density * std::max(0.0, std::min(b, log_lo_) - a);
    moved.back() += density * std::max(0.0, b - std::max(a, log_hi));
    for (std::size_t j = 0; j < kBuckets; ++j) {
      const double c = log_lo_ + log_step_ * static_cast<double>(j);
      const double overlap = std::min(b, c + log_step_) - std::max(a, c);
      if (overlap > 0) moved[j] += density * overlap;
    }
  }
  return restore(count, moved);
}

}  // namespace jobwatch::schedule
