// A piecewise log-linear end-age distribution: CDF, quantiles, conditioning.
#include "jobwatch/schedule/end_distribution.hpp"

#include <algorithm>
#include <cmath>

namespace jobwatch::schedule {

namespace {

constexpr std::size_t kN = EndDistribution::kBuckets;

double sane_probability(double p) {
  if (std::isnan(p)) return 0.5;
  return std::clamp(p, 0.0, 1.0);
}

double normal_cdf(double z) {
  return 0.5 * std::erfc(-z / std::sqrt(2.0));
}

}  // namespace

std::optional<EndDistribution> EndDistribution::from_buckets(std::span<const double> log_edges,
                                                             std::span<const double> masses) {
  if (log_edges.size() != kN + 1 || masses.size() != kN) return std::nullopt;
  for (std::size_t i = 0; i <= kN; ++i) {
    if (!std::isfinite(log_edges[i])) return std::nullopt;
    if (i > 0 && !(log_edges[i] > log_edges[i - 1])) return std::nullopt;
  }
  double total = 0;
  std::size_t last = 0;  // one past the last bucket with mass
  for (std::size_t k = 0; k < kN; ++k) {
    if (!std::isfinite(masses[k]) || masses[k] < 0) return std::nullopt;
    total += masses[k];
    if (masses[k] > 0) last = k + 1;
  }
  if (!(total > 0) || !std::isfinite(total)) return std::nullopt;

  EndDistribution d;
  std::copy(log_edges.begin(), log_edges.end(), d.log_edge_.begin());
  double running = 0;
  d.cum_[0] = 0;
  for (std::size_t k = 0; k < kN; ++k) {
    running += masses[k];
    // Past the last bucket with mass the CDF is exactly 1, so rounding never
    // leaves a phantom sliver of mass in the empty tail.
    d.cum_[k + 1] = k + 1 >= last ? 1.0 : running / total;
  }
  return d;
}

std::optional<EndDistribution> EndDistribution::lognormal(double median_s, double sigma) {
  if (!(median_s > 0) || !std::isfinite(median_s) || !(sigma > 0) || !std::isfinite(sigma)) {
    return std::nullopt;
  }
  constexpr double kSpan = 4.0;  // ±4 sigma leaves out 6e-5 of the mass
  std::array<double, kN + 1> edges{};
  std::array<double, kN> masses{};
  const double mu = std::log(median_s);
  for (std::size_t i = 0; i <= kN; ++i) {
    edges[i] = mu + sigma * (-kSpan + 2 * kSpan * static_cast<double>(i) / kN);
  }
  for (std::size_t k = 0; k < kN; ++k) {
    masses[k] = normal_cdf((edges[k + 1] - mu) / sigma) - normal_cdf((edges[k] - mu) / sigma);
  }
  return from_buckets(edges, masses);
}

double EndDistribution::edge_s(std::size_t i) const {
  return std::exp(log_edge_[i]);
}

double EndDistribution::cdf(double age_s) const {
  if (!(age_s > 0)) return 0;
  const double l = std::log(age_s);
  if (l <= log_edge_[0]) return 0;
  if (l >= log_edge_[kN]) return 1;
  const auto it = std::upper_bound(log_edge_.begin(), log_edge_.end(), l);
  const auto k = static_cast<std::size_t>(it - log_edge_.begin()) - 1;
  const double frac = (l - log_edge_[k]) / (log_edge_[k + 1] - log_edge_[k]);
  return cum_[k] + (cum_[k + 1] - cum_[k]) * frac;
}

double EndDistribution::quantile(double p) const {
  p = sane_probability(p);
  for (std::size_t k = 0; k < kN; ++k) {
    const double m = cum_[k + 1] - cum_[k];
    if (m <= 0 || cum_[k + 1] < p) continue;
    const double frac = std::clamp((p - cum_[k]) / m, 0.0, 1.0);
    return std::exp(log_edge_[k] + frac * (log_edge_[k + 1] - log_edge_[k]));
  }
  // Unreachable for a valid distribution (cum_ ends at exactly 1).
  return std::exp(log_edge_[kN]);
}

std::optional<EndDistribution> EndDistribution::given_alive_at(double age_s) const {
  const double f = cdf(age_s);
  if (!(1.0 - f >= kNegligibleSurvival)) return std::nullopt;
  if (!(age_s > 0) || std::log(age_s) <= log_edge_[0]) return *this;
  const double l = std::log(age_s);
  const auto it = std::upper_bound(log_edge_.begin(), log_edge_.end(), l);
  const auto k = static_cast<std::size_t>(it - log_edge_.begin()) - 1;

  // The bucket holding the age keeps its upper part: with the mass spread
  // evenly in log-age, the cut bucket is still log-uniform from `age` up.
  std::array<double, kN + 1> edges = log_edge_;
  edges[k] = l;
  std::array<double, kN> masses{};
  masses[k] = std::max(0.0, cum_[k + 1] - f);
  for (std::size_t j = k + 1; j < kN; ++j) masses[j] = cum_[j + 1] - cum_[j];
  return from_buckets(edges, masses);
}

std::optional<double> EndDistribution::conditional_quantile(double age_s, double p) const {
  const auto given = given_alive_at(age_s);
  if (!given) return std::nullopt;
  return given->quantile(p);
}

std::optional<double> EndDistribution::prob_end_between(double from_s, double to_s) const {
  const double f_from = cdf(from_s);
  const double alive = 1.0 - f_from;
  if (!(alive >= kNegligibleSurvival)) return std::nullopt;
  if (!(to_s > from_s)) return 0.0;
  return std::clamp((cdf(to_s) - f_from) / alive, 0.0, 1.0);
}

}  // namespace jobwatch::schedule
