// TimingModel: convergence, decay, fixed size, persistence, conditioning and
// the cold-start rules; EndDistribution basics.
#include "jobwatch/schedule/timing_model.hpp"

#include <gtest/gtest.h>

#include <array>
#include <bit>
#include <cmath>
#include <random>
#include <string>

namespace jobwatch::schedule {
namespace {

constexpr double kZ90 = 1.2815515655446004;  // standard normal p90

double lognormal_quantile(double median, double sigma, double z) {
  return median * std::exp(sigma * z);
}

void feed_lognormal(TimingModel& m, std::mt19937& rng, double median, double sigma, int n) {
  std::lognormal_distribution<double> dist(std::log(median), sigma);
  for (int i = 0; i < n; ++i) ASSERT_TRUE(m.observe_duration(dist(rng)));
}

void expect_near_rel(double actual, double expected, double rel) {
  EXPECT_NEAR(actual, expected, expected * rel) << "relative error " << actual / expected - 1;
}

TEST(TimingModel, ConvergesOnALognormal) {
  // Without decay every sample counts: the histogram's own error is what
  // is measured (bucket width 23 %, log-linear interpolation).
  TimingModel m(TimingModelParams{1e9});
  std::mt19937 rng(12345);
  feed_lognormal(m, rng, 1200, 0.3, 2000);
  expect_near_rel(*m.quantile(0.1), lognormal_quantile(1200, 0.3, -kZ90), 0.03);
  expect_near_rel(*m.quantile(0.5), 1200, 0.03);
  expect_near_rel(*m.quantile(0.9), lognormal_quantile(1200, 0.3, kZ90), 0.03);
}

TEST(TimingModel, ConvergesWithTheDefaultHalfLife) {
  // With decay only the last ~150 jobs count (effective sample size
  // (1 + λ) / (1 - λ) ≈ 145), so the sampling error is a few per cent.
  TimingModel m;
  std::mt19937 rng(777);
  feed_lognormal(m, rng, 1200, 0.3, 2000);
  EXPECT_EQ(m.jobs(), 2000u);
  EXPECT_NEAR(m.weight(), 1 / (1 - std::exp2(-1.0 / kDefaultHalfLifeJobs)), 1e-6);
  expect_near_rel(*m.quantile(0.1), lognormal_quantile(1200, 0.3, -kZ90), 0.08);
  expect_near_rel(*m.quantile(0.5), 1200, 0.06);
  expect_near_rel(*m.quantile(0.9), lognormal_quantile(1200, 0.3, kZ90), 0.08);
}

TEST(TimingModel, FollowsAServiceThatSlowsDown) {
  TimingModel m;  // half-life 50 jobs
  std::mt19937 rng(42);
  feed_lognormal(m, rng, 600, 0.3, 500);
  expect_near_rel(*m.quantile(0.5), 600, 0.08);
  feed_lognormal(m, rng, 1800, 0.3, 25);  // half a half-life: in between
  EXPECT_GT(*m.quantile(0.5), 700);
  EXPECT_LT(*m.quantile(0.5), 1600);
  feed_lognormal(m, rng, 1800, 0.3, 125);  // 3 half-lives in all
  // 1/8 of the weight is still the old service; the p50 is within ~6 % of
  // the new one by that alone.
  expect_near_rel(*m.quantile(0.5), 1800, 0.12);
}

TEST(TimingModel, SerialisedSizeIsFixed) {
  TimingModel few;
  TimingModel many;
  std::mt19937 rng(1);
  feed_lognormal(few, rng, 60, 1.0, 10);
  std::lognormal_distribution<double> d(std::log(300), 1.5);
  for (int i = 0; i < 100000; ++i) many.observe_job(d(rng), d(rng));
  EXPECT_EQ(few.serialize().size(), many.serialize().size());
  EXPECT_EQ(TimingModel().serialize().size(), many.serialize().size());
  EXPECT_EQ(many.serialize().size(), 1064u);
}

TEST(TimingModel, RoundTripsExactly) {
  TimingModel m(TimingModelParams{37.5});
  std::mt19937 rng(9);
  std::lognormal_distribution<double> d(std::log(900), 0.5);
  for (int i = 0; i < 300; ++i) m.observe_job(d(rng), d(rng));
  const auto back = TimingModel::deserialize(m.serialize());
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, m);
  EXPECT_EQ(back->half_life(), 37.5);
  EXPECT_EQ(back->jobs(), 300u);
  EXPECT_EQ(back->estimate_jobs(), 300u);
  for (double p : {0.01, 0.1, 0.5, 0.9, 0.99}) EXPECT_EQ(*back->quantile(p), *m.quantile(p));
  EXPECT_EQ(back->serialize(), m.serialize());
  // And it goes on learning identically.
  TimingModel a = m;
  TimingModel b = *back;
  a.observe_duration(1234);
  b.observe_duration(1234);
  EXPECT_EQ(a, b);
}

TEST(TimingModel, EmptyModelRoundTrips) {
  const auto back = TimingModel::deserialize(TimingModel().serialize());
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, TimingModel());
  EXPECT_FALSE(back->quantile(0.5));
}

// The blob's checksum, recomputed so that crafted blobs get past it and
// reach the field checks.
std::string reseal(std::string blob) {
  blob.resize(blob.size() - 8);
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (const char c : blob) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  for (int i = 0; i < 8; ++i) blob.push_back(static_cast<char>((h >> (8 * i)) & 0xff));
  return blob;
}

void put_f64_at(std::string& blob, std::size_t at, double v) {
  const auto bits = std::bit_cast<std::uint64_t>(v);
  for (int i = 0; i < 8; ++i) blob[at + i] = static_cast<char>((bits >> (8 * i)) & 0xff);
}

TEST(TimingModel, RejectsGarbage) {
  TimingModel m;
  for (int i = 1; i <= 20; ++i) m.observe_duration(30.0 * i);
  const std::string good = m.serialize();
  ASSERT_TRUE(TimingModel::deserialize(good));
  ASSERT_TRUE(TimingModel::deserialize(reseal(good)));

  EXPECT_FALSE(TimingModel::deserialize(""));
  EXPECT_FALSE(TimingModel::deserialize("JWTM"));
  EXPECT_FALSE(TimingModel::deserialize(std::string(good.size(), '\0')));
  EXPECT_FALSE(TimingModel::deserialize(good.substr(0, good.size() - 1)));
  EXPECT_FALSE(TimingModel::deserialize(good + "x"));
  std::string flipped = good;
  flipped[100] ^= 0x10;
  EXPECT_FALSE(TimingModel::deserialize(flipped));
  std::string magic = good;
  magic[0] = 'X';
  EXPECT_FALSE(TimingModel::deserialize(reseal(magic)));
  std::string version = good;
  version[4] = 3;  // a future version
  EXPECT_FALSE(TimingModel::deserialize(reseal(version)));
  std::string half_life = good;
  put_f64_at(half_life, 8, -1.0);
  EXPECT_FALSE(TimingModel::deserialize(reseal(half_life)));
  std::string negative = good;
  put_f64_at(negative, 16 + 8, -0.5);  // first duration weight
  EXPECT_FALSE(TimingModel::deserialize(reseal(negative)));
  std::string nan = good;
  put_f64_at(nan, 16 + 8 + 8 * 10, std::nan(""));
  EXPECT_FALSE(TimingModel::deserialize(reseal(nan)));
}

// A version-1 blob (ratios over 0.1x-10x) as a daemon before the upgrade
// stored it: the same layout, version 1, the ratio weights at the old edges.
std::string version1_blob(const TimingModel& m, const std::array<double, 64>& old_ratio_weights,
                          std::uint64_t ratio_count) {
  std::string blob = m.serialize();
  blob[4] = 1;
  const std::size_t ratios_at = 16 + (8 + 64 * 8);
  for (int i = 0; i < 8; ++i)
    blob[ratios_at + i] = static_cast<char>((ratio_count >> (8 * i)) & 0xff);
  for (std::size_t k = 0; k < 64; ++k)
    put_f64_at(blob, ratios_at + 8 + 8 * k, old_ratio_weights[k]);
  return reseal(blob);
}

TEST(TimingModel, ReadsVersion1BlobsRebinningTheRatios) {
  TimingModel m;
  for (int i = 1; i <= 20; ++i) m.observe_duration(30.0 * i);
  // Old buckets: 0.1 * 100^(k/64). Weight 3 in the bucket holding 1.2x, 1
  // in the lowest (0.1x) and 2 in the highest (10x): both lie outside the
  // new 0.25x-4x, so they land in its edge buckets.
  const auto old_bucket = [](double r) {
    return static_cast<std::size_t>(std::floor(std::log(r / 0.1) / std::log(100.0) * 64));
  };
  std::array<double, 64> old{};
  old[old_bucket(1.2)] = 3;
  old[0] = 1;
  old[63] = 2;
  const auto back = TimingModel::deserialize(version1_blob(m, old, 6));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->durations(), m.durations());
  EXPECT_EQ(back->estimate_jobs(), 6u);
  EXPECT_NEAR(back->estimate_weight(), 6.0, 1e-12);
  const DecayedLogHistogram& r = back->ratios();
  EXPECT_DOUBLE_EQ(r.bucket_weight(0), 1.0);
  EXPECT_DOUBLE_EQ(r.bucket_weight(63), 2.0);
  // The 1.2x bucket (7.5 % wide) now spans two or three 4.4 % buckets
  // around 1.2x, its weight kept.
  double near = 0;
  for (std::size_t k = 1; k < 63; ++k) {
    if (r.bucket_weight(k) == 0) continue;
    EXPECT_GT(r.lower_edge(k + 1), 1.1);
    EXPECT_LT(r.lower_edge(k), 1.3);
    near += r.bucket_weight(k);
  }
  EXPECT_NEAR(near, 3.0, 1e-12);
  // Written back, it is a current blob.
  const auto again = TimingModel::deserialize(back->serialize());
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, *back);
}

TEST(TimingModel, ConditionalQuantileMovesPastTheAge) {
  TimingModel m(TimingModelParams{1e9});
  std::mt19937 rng(5);
  feed_lognormal(m, rng, 1200, 0.3, 2000);
  const double median = *m.quantile(0.5);
  const double cond = *m.conditional_quantile(median, 0.5);
  EXPECT_GT(cond, median);
  // Given T > median, the conditional median is the unconditional p75.
  expect_near_rel(cond, *m.quantile(0.75), 0.01);
  EXPECT_NEAR(*m.prob_end_between(0, median), 0.5, 1e-9);
  EXPECT_NEAR(*m.prob_end_between(median, *m.quantile(0.9)), 0.8, 1e-6);
  // Conditioning on an age before all history changes nothing.
  EXPECT_DOUBLE_EQ(*m.conditional_quantile(0.5, 0.5), median);
  // After all history nothing is known.
  EXPECT_FALSE(m.conditional_quantile(1e6, 0.5));
  EXPECT_FALSE(m.prob_end_between(1e6, 2e6));
  EXPECT_DOUBLE_EQ(m.survival(1e6), 0.0);
}

TEST(TimingModel, RejectsBadObservations) {
  TimingModel m;
  EXPECT_FALSE(m.observe_duration(-1));
  EXPECT_FALSE(m.observe_duration(std::nan("")));
  EXPECT_FALSE(m.observe_duration(INFINITY));
  EXPECT_FALSE(m.observe_estimate_ratio(-0.5));
  EXPECT_EQ(m.jobs(), 0u);
  // Zero and out-of-range values are clamped into the edge buckets.
  EXPECT_TRUE(m.observe_duration(0));
  EXPECT_TRUE(m.observe_duration(1e9));
  EXPECT_EQ(m.jobs(), 2u);
  EXPECT_LE(*m.quantile(1.0), kDurationHi_s * 1.0000001);
  EXPECT_GE(*m.quantile(0.0), kDurationLo_s * 0.9999999);
}

TEST(TimingModel, NoHistoryNoEstimateNoPrediction) {
  TimingModel m;
  EXPECT_FALSE(m.predict(10, std::nullopt));
  EXPECT_FALSE(m.predict(10, 0.0));   // an estimate at begin is no estimate
  EXPECT_FALSE(m.predict(10, -5.0));  // nor one before it
  for (int i = 0; i < 4; ++i) m.observe_duration(600);
  EXPECT_FALSE(m.predict(10, std::nullopt));  // 4 jobs: not enough
}

TEST(TimingModel, EstimateOnlyWithNoHistory) {
  TimingModel m;
  const auto p = m.predict(0, 600.0);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->source, PredictionSource::estimate_only);
  ASSERT_TRUE(p->end);
  expect_near_rel(p->end->p50_s, 600, 0.01);
  expect_near_rel(p->end->p10_s, lognormal_quantile(600, kColdEstimateSigma, -kZ90), 0.01);
  expect_near_rel(p->end->p90_s, lognormal_quantile(600, kColdEstimateSigma, kZ90), 0.01);
  // The band is generous: 0.5x-2x holds ~98 %.
  EXPECT_NEAR(p->distribution.cdf(1200) - p->distribution.cdf(300), 0.98, 0.005);
}

TEST(TimingModel, HistoryOnceThereAreEnoughJobs) {
  TimingModel m;
  for (int i = 0; i < 5; ++i) m.observe_duration(100.0 + 10 * i);
  const auto p = m.predict(0, std::nullopt);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->source, PredictionSource::history);
  // With a ratio history too small, the duration history beats the estimate.
  const auto q = m.predict(0, 5000.0);
  ASSERT_TRUE(q);
  EXPECT_EQ(q->source, PredictionSource::history);
  // The prediction is conditional on the age: p10 of the end is past it.
  const auto late = m.predict(130, std::nullopt);
  ASSERT_TRUE(late && late->end);
  EXPECT_GE(late->end->p10_s, 130);
  EXPECT_GT(late->end->p50_s, p->end->p50_s);
}

TEST(TimingModel, RatioModelWhenTheEstimateIsInformative) {
  // Jobs of widely varying size, each estimated well (the end falls at
  // 1.1x the estimate, ±5 %): the ratio model is far sharper.
  TimingModel m;
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> size(60, 6000);
  std::normal_distribution<double> err(1.1, 0.05);
  for (int i = 0; i < 200; ++i) {
    const double expected = size(rng);
    m.observe_job(expected * err(rng), expected);
  }
  const auto p = m.predict(0, 1000.0);
  ASSERT_TRUE(p && p->end);
  EXPECT_EQ(p->source, PredictionSource::estimate_ratio);
  expect_near_rel(p->end->p50_s, 1100, 0.05);
  EXPECT_LT(p->end->p90_s / p->end->p10_s, 1.3);
  // Without an estimate the (wide) duration history is all there is.
  const auto q = m.predict(0, std::nullopt);
  ASSERT_TRUE(q);
  EXPECT_EQ(q->source, PredictionSource::history);
}

TEST(TimingModel, DurationModelWhenTheEstimateIsNoise) {
  TimingModel m;
  std::mt19937 rng(4);
  std::lognormal_distribution<double> duration(std::log(1200), 0.1);
  std::uniform_real_distribution<double> estimate(60, 6000);
  for (int i = 0; i < 200; ++i) m.observe_job(duration(rng), estimate(rng));
  const auto p = m.predict(0, 300.0);
  ASSERT_TRUE(p && p->end);
  EXPECT_EQ(p->source, PredictionSource::history);
  expect_near_rel(p->end->p50_s, 1200, 0.05);
}

TEST(TimingModel, StragglerHasNoEndQuantiles) {
  TimingModel m;
  for (int i = 0; i < 20; ++i) m.observe_duration(600);
  const auto p = m.predict(5000, std::nullopt);
  ASSERT_TRUE(p);
  EXPECT_FALSE(p->end);
}

TEST(TimingModels, KeysAndHalfLife) {
  TimingModels models(TimingModelParams{20});
  const TimingKey a{"app-v2", "p1", "render"};
  const TimingKey b{"app-v2", "p1", "encode"};
  EXPECT_EQ(models.find(a), nullptr);
  models.get(a).observe_duration(60);
  EXPECT_EQ(models.size(), 1u);
  ASSERT_NE(models.find(a), nullptr);
  EXPECT_EQ(models.find(a)->jobs(), 1u);
  EXPECT_EQ(models.find(a)->half_life(), 20);
  models.put(b, TimingModel(TimingModelParams{99}));
  EXPECT_EQ(models.find(b)->half_life(), 20);  // the configured one wins
  models.set_half_life(80);
  EXPECT_EQ(models.find(a)->half_life(), 80);
  EXPECT_EQ(models.find(b)->half_life(), 80);
  EXPECT_EQ(models.get(TimingKey{"x", "y", "z"}).half_life(), 80);
}

TEST(EndDistribution, LognormalQuantilesAndCdf) {
  const auto d = EndDistribution::lognormal(1200, 0.3);
  ASSERT_TRUE(d);
  EXPECT_NEAR(d->quantile(0.5), 1200, 1e-6);
  expect_near_rel(d->quantile(0.9), lognormal_quantile(1200, 0.3, kZ90), 0.002);
  for (double x : {500.0, 900.0, 1200.0, 2000.0}) {
    EXPECT_NEAR(d->quantile(d->cdf(x)), x, x * 1e-9);
  }
  EXPECT_FALSE(EndDistribution::lognormal(0, 0.3));
  EXPECT_FALSE(EndDistribution::lognormal(100, 0));
}

TEST(EndDistribution, GivenAliveIsRenormalised) {
  const auto d = *EndDistribution::lognormal(1200, 0.3);
  const auto g = d.given_alive_at(1000);
  ASSERT_TRUE(g);
  EXPECT_DOUBLE_EQ(g->cdf(1000), 0.0);
  EXPECT_NEAR(g->quantile(0.0), 1000, 1e-9);
  const double s = d.survival(1000);
  EXPECT_NEAR(g->cdf(1500), (d.cdf(1500) - d.cdf(1000)) / s, 1e-12);
  EXPECT_FALSE(d.given_alive_at(1e6));
}

}  // namespace
}  // namespace jobwatch::schedule
