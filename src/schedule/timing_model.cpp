// The timing model: two decayed histograms, the cold-start rules and the
// store blob.
#include "jobwatch/schedule/timing_model.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <utility>

namespace jobwatch::schedule {

namespace {

constexpr std::size_t kN = DecayedLogHistogram::kBuckets;

// Blob layout, little-endian: "JWTM", u32 version, f64 half-life, then per
// histogram (durations, ratios) u64 count and kN f64 weights, then the u64
// FNV-1a of everything before it. Doubles are stored as their bits, so a
// round trip is exact. Version 1 had the same layout with the ratio
// histogram over 0.1x-10x; it is read and rebinned into kRatioLo..kRatioHi.
constexpr std::string_view kMagic = "JWTM";
constexpr std::uint32_t kVersion = 2;
constexpr double kVersion1RatioLo = 0.1;
constexpr double kVersion1RatioHi = 10;
constexpr std::size_t kBlobSize = 4 + 4 + 8 + 2 * (8 + kN * 8) + 8;

std::uint64_t fnv1a(std::string_view bytes) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (const char c : bytes) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

void put_u64(std::string& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void put_u32(std::string& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void put_f64(std::string& out, double v) {
  put_u64(out, std::bit_cast<std::uint64_t>(v));
}

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  std::uint64_t u64() { return le(8); }
  std::uint32_t u32() { return static_cast<std::uint32_t>(le(4)); }
  double f64() { return std::bit_cast<double>(u64()); }

 private:
  // Callers check the blob's size first, so reads never run past it.
  std::uint64_t le(int n) {
    std::uint64_t v = 0;
    for (int i = 0; i < n; ++i) {
      v |= static_cast<std::uint64_t>(static_cast<unsigned char>(in_[pos_ + i])) << (8 * i);
    }
    pos_ += static_cast<std::size_t>(n);
    return v;
  }
  std::string_view in_;
  std::size_t pos_ = 0;
};

void put_histogram(std::string& out, const DecayedLogHistogram& h) {
  put_u64(out, h.count());
  for (std::size_t k = 0; k < kN; ++k) put_f64(out, h.bucket_weight(k));
}

struct SavedHistogram {
  std::uint64_t count = 0;
  std::array<double, kN> weights{};
};

SavedHistogram read_histogram(Reader& in) {
  SavedHistogram saved;
  saved.count = in.u64();
  for (double& w : saved.weights) w = in.f64();
  return saved;
}

double log_spread(const EndDistribution& d) {
  return std::log(d.quantile(0.9)) - std::log(d.quantile(0.1));
}

std::optional<double> usable_estimate(std::optional<double> expected_s) {
  if (expected_s && std::isfinite(*expected_s) && *expected_s > 0) return expected_s;
  return std::nullopt;
}

}  // namespace

std::string_view to_string(PredictionSource source) {
  switch (source) {
    case PredictionSource::history:
      return "history";
    case PredictionSource::estimate_ratio:
      return "estimate_ratio";
    case PredictionSource::estimate_only:
      return "estimate_only";
  }
  return "unknown";
}

TimingModel::TimingModel(TimingModelParams params)
    : durations_(kDurationLo_s, kDurationHi_s, params.half_life_jobs),
      ratios_(kRatioLo, kRatioHi, params.half_life_jobs) {}

bool TimingModel::observe_duration(double duration_s) {
  return durations_.observe(duration_s);
}

bool TimingModel::observe_estimate_ratio(double ratio) {
  return ratios_.observe(ratio);
}

void TimingModel::observe_job(double duration_s, std::optional<double> expected_duration_s) {
  if (!observe_duration(duration_s)) return;
  if (const auto e = usable_estimate(expected_duration_s)) {
    observe_estimate_ratio(std::max(0.0, duration_s) / *e);
  }
}

void TimingModel::set_half_life(double half_life_jobs) {
  durations_.set_half_life(half_life_jobs);
  ratios_.set_half_life(half_life_jobs);
}

std::optional<EndDistribution> TimingModel::duration_distribution() const {
  return durations_.distribution();
}

std::optional<EndDistribution> TimingModel::ratio_distribution(double expected_duration_s) const {
  const auto e = usable_estimate(expected_duration_s);
  if (!e) return std::nullopt;
  return ratios_.distribution(*e);
}

std::optional<double> TimingModel::quantile(double p) const {
  const auto d = duration_distribution();
  if (!d) return std::nullopt;
  return d->quantile(p);
}

std::optional<double> TimingModel::conditional_quantile(double age_s, double p) const {
  const auto d = duration_distribution();
  if (!d) return std::nullopt;
  return d->conditional_quantile(age_s, p);
}

std::optional<double> TimingModel::prob_end_between(double age_from_s, double age_to_s) const {
  const auto d = duration_distribution();
  if (!d) return std::nullopt;
  return d->prob_end_between(age_from_s, age_to_s);
}

double TimingModel::cdf(double age_s) const {
  const auto d = duration_distribution();
  return d ? d->cdf(age_s) : 0.0;
}

bool TimingModel::has_history(const DecayedLogHistogram& h) {
  // The relative slack absorbs the rounding of the running decayed sum.
  return h.weight() >= h.weight_of_recent(kMinHistoryJobs) * (1 - 1e-9);
}

std::optional<Prediction> TimingModel::predict(double age_now_s,
                                               std::optional<double> expected_duration_s) const {
  const auto estimate = usable_estimate(expected_duration_s);
  std::optional<EndDistribution> history;
  if (has_history(durations_)) history = durations_.distribution();
  std::optional<EndDistribution> ratio;
  if (estimate && has_history(ratios_)) ratio = ratios_.distribution(*estimate);

  std::optional<Prediction> out;
  if (ratio && (!history || log_spread(*ratio) <= log_spread(*history))) {
    out.emplace(Prediction{PredictionSource::estimate_ratio, *ratio, std::nullopt});
  } else if (history) {
    out.emplace(Prediction{PredictionSource::history, *history, std::nullopt});
  } else if (estimate) {
    if (auto band = EndDistribution::lognormal(*estimate, kColdEstimateSigma)) {
      out.emplace(Prediction{PredictionSource::estimate_only, *band, std::nullopt});
    }
  }
  if (!out) return std::nullopt;
  if (const auto given = out->distribution.given_alive_at(age_now_s)) {
    out->end = EndQuantiles{given->quantile(0.1), given->quantile(0.5), given->quantile(0.9)};
  }
  return out;
}

std::string TimingModel::serialize() const {
  std::string out;
  out.reserve(kBlobSize);
  out.append(kMagic);
  put_u32(out, kVersion);
  put_f64(out, durations_.half_life());
  put_histogram(out, durations_);
  put_histogram(out, ratios_);
  put_u64(out, fnv1a(out));
  return out;
}

std::optional<TimingModel> TimingModel::deserialize(std::string_view blob) {
  if (blob.size() != kBlobSize || blob.substr(0, kMagic.size()) != kMagic) return std::nullopt;
  const std::string_view body = blob.substr(0, kBlobSize - 8);
  Reader tail(blob.substr(kBlobSize - 8));
  if (tail.u64() != fnv1a(body)) return std::nullopt;

  Reader in(body.substr(kMagic.size()));
  const std::uint32_t version = in.u32();
  if (version != kVersion && version != 1) return std::nullopt;
  const double half_life = in.f64();
  if (!std::isfinite(half_life) || !(half_life > 0)) return std::nullopt;
  TimingModel model(TimingModelParams{half_life});
  const SavedHistogram durations = read_histogram(in);
  const SavedHistogram ratios = read_histogram(in);
  if (!model.durations_.restore(durations.count, durations.weights)) return std::nullopt;
  const bool ratios_ok = version == kVersion
                             ? model.ratios_.restore(ratios.count, ratios.weights)
                             : model.ratios_.restore_rebinned(ratios.count, ratios.weights,
                                                              kVersion1RatioLo, kVersion1RatioHi);
  if (!ratios_ok) return std::nullopt;
  return model;
}

TimingModel& TimingModels::get(const TimingKey& key) {
  auto it = models_.find(key);
  if (it == models_.end()) it = models_.emplace(key, TimingModel(params_)).first;
  return it->second;
}

const TimingModel* TimingModels::find(const TimingKey& key) const {
  const auto it = models_.find(key);
  return it == models_.end() ? nullptr : &it->second;
}

void TimingModels::put(TimingKey key, TimingModel model) {
  model.set_half_life(params_.half_life_jobs);
  models_.insert_or_assign(std::move(key), model);
}

void TimingModels::set_half_life(double half_life_jobs) {
  if (!std::isfinite(half_life_jobs) || !(half_life_jobs > 0)) return;
  params_.half_life_jobs = half_life_jobs;
  for (auto& [key, model] : models_) model.set_half_life(half_life_jobs);
}

}  // namespace jobwatch::schedule
