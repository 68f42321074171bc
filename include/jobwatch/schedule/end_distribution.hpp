// The distribution of a job's end age (seconds since begin_time) that
// placement and priority work from, whatever it was learned from.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <span>

namespace jobwatch::schedule {

// Every distribution here has this many buckets: the timing histograms and
// the discretised cold-start band alike, so one fixed-size value serves all.
inline constexpr std::size_t kDistributionBuckets = 64;

// Survival below this is "older than everything the model remembers": at the
// default half-life it is the weight left of one job seen ~350 jobs ago.
inline constexpr double kNegligibleSurvival = 1e-4;

// A piecewise log-linear CDF over kDistributionBuckets buckets: the mass of a
// bucket is spread evenly in log(age) between its edges, so quantiles are
// continuous and a bucket's relative resolution is the same at 5 s and 5 h.
// All ages and quantiles are in seconds. Trivially copyable (~1 KB).
class EndDistribution {
 public:
  static constexpr std::size_t kBuckets = kDistributionBuckets;

  // `log_edges` are kBuckets + 1 strictly increasing natural logs of ages in
  // seconds, `masses` kBuckets non-negative weights (normalised here). None
  // when the sizes, the edges or the weights are unusable or the total is 0.
  static std::optional<EndDistribution> from_buckets(std::span<const double> log_edges,
                                                     std::span<const double> masses);
  // A lognormal with this median and sigma (of log-age), discretised over
  // ±4 sigma. None unless median > 0 and sigma > 0, both finite.
  static std::optional<EndDistribution> lognormal(double median_s, double sigma);

  double cdf(double age_s) const;  // P(end <= age)
  double survival(double age_s) const { return 1.0 - cdf(age_s); }
  // The age by which the end has happened with probability p (clamped to
  // [0, 1]); p = 0 is the lowest age with mass, p = 1 the highest.
  double quantile(double p) const;

  // The distribution given that the job has not ended by `age_s`; none when
  // survival(age_s) < kNegligibleSurvival (a straggler: nothing is known).
  std::optional<EndDistribution> given_alive_at(double age_s) const;
  std::optional<double> conditional_quantile(double age_s, double p) const;
  // P(end in (from, to] | end > from); none as for given_alive_at(from).
  std::optional<double> prob_end_between(double from_s, double to_s) const;

  // The raw pieces, for placement's walk and for display.
  double log_edge(std::size_t i) const { return log_edge_[i]; }  // i in [0, kBuckets]
  double edge_s(std::size_t i) const;
  double cdf_at_edge(std::size_t i) const { return cum_[i]; }
  double mass(std::size_t k) const { return cum_[k + 1] - cum_[k]; }  // k < kBuckets
  double lowest_s() const { return quantile(0.0); }
  double highest_s() const { return quantile(1.0); }

  bool operator==(const EndDistribution&) const = default;

 private:
  EndDistribution() = default;

  std::array<double, kBuckets + 1> log_edge_{};
  std::array<double, kBuckets + 1> cum_{};  // cum_[0] = 0, cum_[kBuckets] = 1
};

}  // namespace jobwatch::schedule
