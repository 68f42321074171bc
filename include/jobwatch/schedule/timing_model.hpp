// The learned timing of one (api, project_id, job_type): how long its jobs
// take and where their end fell against the API's estimate (SPEC §7), and
// the prediction for a running job that placement and priority use.
// Sans-io; all durations and ages are seconds (double) since begin_time.
#pragma once

#include <compare>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "jobwatch/schedule/end_distribution.hpp"
#include "jobwatch/schedule/log_histogram.hpp"

namespace jobwatch::schedule {

// Durations: 64 log-spaced buckets from 1 s to 7 d (~23 % wide each).
inline constexpr double kDurationLo_s = 1;
inline constexpr double kDurationHi_s = 7 * 24 * 3600;
// End against estimate, (end - begin) / (expected_end_time - begin): 0.25x-4x
// (~4.4 % wide each). The window's edge falls inside one bucket, and a
// bucket's mass is spread evenly across it, so the width is what the edge
// can be off by: at the 0.1x-10x of version 1 (7.5 %) a ±30 % estimate's
// window opened ~2 % of the duration early, which cost more calls than
// the ETA-window peer (docs/BENCHMARKS.md). An estimate further off than
// 4x counts in the edge bucket: it still says "far later", and placement
// stays in after-window backoff past it.
inline constexpr double kRatioLo = 0.25;
inline constexpr double kRatioHi = 4;
// 50 jobs: a service that doubles its durations is followed within ~3
// half-lives (150 jobs), while one odd job moves a quantile by ~1/72.
inline constexpr double kDefaultHalfLifeJobs = 50;
// Jobs a histogram needs before it is trusted over the estimate, counted
// decayed: the weight of this many recent jobs (so 5 fresh jobs are enough,
// and 5 jobs' worth of weight however old).
inline constexpr double kMinHistoryJobs = 5;
// With no history, the estimate is a lognormal of this sigma around it: the
// 98 % band is 0.5x-2x the estimate, generous for an API's own guess.
inline constexpr double kColdEstimateSigma = 0.3;

struct TimingModelParams {
  double half_life_jobs = kDefaultHalfLifeJobs;
};

enum class PredictionSource {
  history,         // the duration histogram
  estimate_ratio,  // the API's estimate times the learned end/estimate ratio
  estimate_only,   // no history: the estimate with kColdEstimateSigma
};
std::string_view to_string(PredictionSource source);

struct EndQuantiles {
  double p10_s;
  double p50_s;
  double p90_s;
};

struct Prediction {
  PredictionSource source;
  // Unconditional: the end age over all such jobs. Placement plans on this,
  // so its plan for a job does not drift as the job ages.
  EndDistribution distribution;
  // The end age given the job has not ended at age_now (WatchInfo's
  // predicted_end). None for a straggler older than all the model remembers.
  std::optional<EndQuantiles> end;
};

class TimingModel {
 public:
  explicit TimingModel(TimingModelParams params = {});

  // One finished job's duration, end - begin. False (ignored) if negative
  // or not finite.
  bool observe_duration(double duration_s);
  // (end - begin) / (expected_end_time - begin) of a finished job whose API gave
  // an estimate (the last one seen while it ran). False if negative or not
  // finite.
  bool observe_estimate_ratio(double ratio);
  // Both at once; the ratio only when expected_duration_s is positive.
  void observe_job(double duration_s, std::optional<double> expected_duration_s);

  std::uint64_t jobs() const { return durations_.count(); }
  double weight() const { return durations_.weight(); }  // decayed job count
  std::uint64_t estimate_jobs() const { return ratios_.count(); }
  double estimate_weight() const { return ratios_.weight(); }

  // Whether a histogram holds at least kMinHistoryJobs decayed jobs.
  static bool has_history(const DecayedLogHistogram& h);

  // Over the duration histogram; none (quantiles) or 0/1 (cdf/survival)
  // while it is empty.
  std::optional<double> quantile(double p) const;
  std::optional<double> conditional_quantile(double age_s, double p) const;
  std::optional<double> prob_end_between(double age_from_s, double age_to_s) const;
  double cdf(double age_s) const;
  double survival(double age_s) const { return 1.0 - cdf(age_s); }

  std::optional<EndDistribution> duration_distribution() const;
  // estimate x the learned ratio; none without ratio history or estimate.
  std::optional<EndDistribution> ratio_distribution(double expected_duration_s) const;

  // For a job running for age_now_s, with the API's estimate if it gave one
  // (expected_end_time - begin, seconds). SPEC §7's cold start:
  //  - a histogram with >= kMinHistoryJobs decayed jobs is used; with an
  //    estimate and both histograms ready, the sharper one (narrower
  //    p10..p90 in log-age) wins: the ratio model when the estimate carries
  //    information, the duration model when it is noise;
  //  - no usable history but an estimate: estimate_only;
  //  - neither: none, and the caller falls back to capped backoff.
  std::optional<Prediction> predict(double age_now_s,
                                    std::optional<double> expected_duration_s) const;

  // A fixed-size versioned binary blob (1064 bytes), little-endian, with a
  // checksum. deserialize() returns none for anything it did not write.
  std::string serialize() const;
  static std::optional<TimingModel> deserialize(std::string_view blob);

  const DecayedLogHistogram& durations() const { return durations_; }
  const DecayedLogHistogram& ratios() const { return ratios_; }
  double half_life() const { return durations_.half_life(); }
  void set_half_life(double half_life_jobs);

  bool operator==(const TimingModel&) const = default;

 private:
  DecayedLogHistogram durations_;
  DecayedLogHistogram ratios_;
};

struct TimingKey {
  std::string api;
  std::string project_id;
  std::string job_type;
  auto operator<=>(const TimingKey&) const = default;
};

// All models of a daemon, by key. Small: one entry per job type seen.
class TimingModels {
 public:
  using Map = std::map<TimingKey, TimingModel>;

  explicit TimingModels(TimingModelParams params = {}) : params_(params) {}

  TimingModel& get(const TimingKey& key);  // created empty on first use
  const TimingModel* find(const TimingKey& key) const;
  // A model loaded from the store; it takes the configured half-life.
  void put(TimingKey key, TimingModel model);
  // A reloaded half-life, for all models and those created later.
  void set_half_life(double half_life_jobs);

  std::size_t size() const { return models_.size(); }
  Map::const_iterator begin() const { return models_.begin(); }
  Map::const_iterator end() const { return models_.end(); }

 private:
  TimingModelParams params_;
  Map models_;
};

}  // namespace jobwatch::schedule
