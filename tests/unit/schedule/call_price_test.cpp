// The call price: the square-root law's gaps and the price that fits them
// into the budget.
#include "jobwatch/schedule/call_price.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

namespace jobwatch::schedule {
namespace {

constexpr double kMax = 120;

double calls_per_s(const std::vector<PriceableGap>& watches, double price) {
  double sum = 0;
  for (const PriceableGap& w : watches)
    sum += 1 / gap_at_price(w.gap_s, w.hazard_per_s, price, kMax);
  return sum;
}

TEST(CallPrice, NoPriceLeavesTheGap) {
  EXPECT_EQ(gap_at_price(10, 0.01, 0, kMax), 10);
  EXPECT_EQ(gap_at_price(10, 0.01, -1, kMax), 10);
}

TEST(CallPrice, TheGapFollowsTheSquareRootLaw) {
  // Δ = √(2λ / h): four times the hazard, half the gap.
  EXPECT_DOUBLE_EQ(gap_at_price(2, 0.01, 2, kMax), 20);
  EXPECT_DOUBLE_EQ(gap_at_price(2, 0.04, 2, kMax), 10);
}

TEST(CallPrice, APriceNeverShortensAGapNorStretchesItPastMaxInterval) {
  EXPECT_EQ(gap_at_price(30, 0.04, 2, kMax), 30);    // priced 10 s < placed 30 s
  EXPECT_EQ(gap_at_price(10, 1e-6, 2, kMax), kMax);  // priced ~2,000 s
  EXPECT_EQ(gap_at_price(10, 0, 2, kMax), kMax);     // no chance of an end here
  EXPECT_EQ(gap_at_price(200, 0, 2, kMax), 200);     // already past it: kept
}

TEST(CallPrice, FreeWhileThePlannedCallsFit) {
  // Ten watches every 10 s: 1 call/s.
  const std::vector<PriceableGap> watches(10, {10, 0.01});
  EXPECT_EQ(price_to_fit(watches, 0, 1.0, kMax), 0);
  EXPECT_EQ(price_to_fit(watches, 0, 5.0, kMax), 0);
  // No limit: no price, whatever the demand.
  EXPECT_EQ(price_to_fit(watches, 100, 0, kMax), 0);
  EXPECT_EQ(price_to_fit(watches, 100, std::numeric_limits<double>::infinity(), kMax), 0);
}

TEST(CallPrice, ThePriceFitsTheCallsIntoTheBudget) {
  // 1 call/s planned, a budget of 0.5/s, a tenth of it for watches the price
  // cannot move.
  const std::vector<PriceableGap> watches(10, {10, 0.01});
  const double price = price_to_fit(watches, 0.05, 0.5, kMax);
  ASSERT_GT(price, 0);
  EXPECT_NEAR(calls_per_s(watches, price) + 0.05, 0.5, 1e-6);
  // Equal hazards: equal gaps, 10 / 0.45 s each, at λ = h Δ² / 2.
  const double gap = 10 / 0.45;
  EXPECT_NEAR(price, 0.01 * gap * gap / 2, 1e-6);
}

TEST(CallPrice, TheLikelierEndKeepsMoreOfTheBudget) {
  // Two classes planned alike (every 10 s); one's end is 16 times as likely
  // a second. Priced, the likelier one is polled 4 times as often.
  std::vector<PriceableGap> watches;
  for (int i = 0; i < 10; ++i) watches.push_back({10, 0.016});
  for (int i = 0; i < 10; ++i) watches.push_back({10, 0.001});
  const double price = price_to_fit(watches, 0, 0.5, kMax);
  const double sharp = gap_at_price(10, 0.016, price, kMax);
  const double vague = gap_at_price(10, 0.001, price, kMax);
  EXPECT_NEAR(vague / sharp, 4.0, 1e-6);
  EXPECT_NEAR(calls_per_s(watches, price), 0.5, 1e-6);
}

TEST(CallPrice, WhenNothingFitsEveryPriceableGapGoesToMaxInterval) {
  const std::vector<PriceableGap> watches(10, {10, 0.01});
  // Even at max_interval the ten need 10/120 calls/s; the fixed ones alone
  // take the whole budget.
  const double price = price_to_fit(watches, 1.0, 1.0, kMax);
  EXPECT_EQ(gap_at_price(10, 0.01, price, kMax), kMax);
}

}  // namespace
}  // namespace jobwatch::schedule
