// A fixed-size histogram of log-values with exponential decay per
// observation: the building block of the timing model (timing_model.hpp).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "jobwatch/schedule/end_distribution.hpp"

namespace jobwatch::schedule {

// Why a decayed log-histogram and not a quantile sketch (t-digest, KLL):
//  - fixed size: 64 doubles per histogram whatever the number of jobs, so a
//    model is one small BLOB row and its size never grows;
//  - exact decay: every observation multiplies all weights by the same
//    factor, so "recent jobs weigh more" is an exact exponential weighting,
//    where sketches can only approximate forgetting (windows, compaction);
//  - merging and serialising are adding and copying 64 numbers;
//  - a conditional quantile "given not ended by age a" is a walk over the
//    buckets, with no re-query of a sketch's internal structure;
//  - log-spacing matches how durations err: multiplicatively. Equal log
//    widths give the same relative resolution at 5 s and at 5 h (buckets
//    ×1.23 wide from 1 s to 7 d; interpolated quantiles within ~1 % at
//    p10..p90 and ~4 % at p1/p99 of a lognormal), which is what placement
//    needs.
// Values below `lo` or above `hi` are counted in the edge buckets (clamped):
// for durations that is < 1 s or > 7 d, both far outside what polling can
// resolve or a watch's deadline allows.
class DecayedLogHistogram {
 public:
  static constexpr std::size_t kBuckets = kDistributionBuckets;

  // 0 < lo < hi; half_life_jobs > 0 (the number of observations after which
  // an observation weighs half). Unusable values fall back to [1, 2] and 50.
  DecayedLogHistogram(double lo, double hi, double half_life_jobs);

  // Counts one value (clamped into [lo, hi]); false, and nothing counted,
  // for a negative or non-finite value. Zero counts as `lo`.
  bool observe(double value);

  std::uint64_t count() const { return count_; }  // observations ever
  double weight() const { return total_; }        // decayed: -> 1/(1 - decay)
  double lo() const { return lo_; }
  double hi() const { return hi_; }
  double half_life() const { return half_life_; }
  double decay() const { return decay_; }  // per observation
  // The weight the last n observations have (1 + decay + ... + decay^(n-1)):
  // "n recent jobs" in the unit weight() counts in.
  double weight_of_recent(double n) const;
  // Applies to future observations only; the weights already decayed stay.
  void set_half_life(double half_life_jobs);

  // The histogram as a distribution, with every edge multiplied by `scale`
  // (> 0; the estimate for a ratio histogram). None while it holds no weight.
  std::optional<EndDistribution> distribution(double scale = 1.0) const;

  double bucket_weight(std::size_t k) const { return weights_[k]; }
  double lower_edge(std::size_t k) const;  // k in [0, kBuckets]; kBuckets is hi
  // Replaces count and weights with saved ones (serialisation); false, and
  // nothing changed, unless there are kBuckets finite non-negative weights
  // and a zero count comes with zero weights.
  bool restore(std::uint64_t count, std::span<const double> weights);
  // The same for weights saved over other bounds [from_lo, from_hi] (an
  // older layout): each saved bucket's weight is spread evenly in log
  // between its edges and split over this histogram's buckets by overlap;
  // what falls outside [lo, hi] goes to the edge buckets, as observe() does.
  bool restore_rebinned(std::uint64_t count, std::span<const double> weights, double from_lo,
                        double from_hi);

  bool operator==(const DecayedLogHistogram&) const = default;

 private:
  std::size_t bucket_of(double value) const;

  double lo_;
  double hi_;
  double log_lo_;
  double log_step_;
  double half_life_;
  double decay_;  // 2^(-1/half_life)
  std::array<double, kBuckets> weights_{};
  double total_ = 0;
  std::uint64_t count_ = 0;
};

}  // namespace jobwatch::schedule
