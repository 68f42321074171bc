// The call price: a bisection on the planned call rate, which falls
// monotonically as the price rises.
#include "jobwatch/schedule/call_price.hpp"

#include <algorithm>
#include <cmath>

namespace jobwatch::schedule {

double gap_at_price(double gap_s, double hazard_per_s, double price_s, double max_interval_s) {
  if (!(price_s > 0) || !(gap_s > 0)) return gap_s;
  if (!(hazard_per_s > 0)) return std::max(gap_s, max_interval_s);
  const double priced = std::sqrt(2.0 * price_s / hazard_per_s);
  return std::max(gap_s, std::min(priced, max_interval_s));
}

namespace {

double calls_per_s(std::span<const PriceableGap> watches, double price_s, double max_interval_s) {
  double sum = 0;
  for (const PriceableGap& w : watches) {
    const double gap = gap_at_price(w.gap_s, w.hazard_per_s, price_s, max_interval_s);
    if (gap > 0) sum += 1.0 / gap;
  }
  return sum;
}

}  // namespace

double price_to_fit(std::span<const PriceableGap> watches, double fixed_calls_per_s,
                    double rate_per_s, double max_interval_s) {
  if (!(rate_per_s > 0) || !std::isfinite(rate_per_s) || !(max_interval_s > 0)) return 0;
  const double room = rate_per_s - std::max(0.0, fixed_calls_per_s);
  if (calls_per_s(watches, 0, max_interval_s) <= room) return 0;
  // The price that puts every priceable gap at max_interval: above it the
  // calls fall no further.
  double top = 0;
  for (const PriceableGap& w : watches)
    if (w.hazard_per_s > 0 && std::isfinite(w.hazard_per_s))
      top = std::max(top, w.hazard_per_s * max_interval_s * max_interval_s / 2);
  if (!(top > 0)) return 0;
  if (calls_per_s(watches, top, max_interval_s) > room) return top;
  // Bisection in log space: prices span orders of magnitude.
  double lo = top * 1e-9;
  double hi = top;
  for (int i = 0; i < 40; ++i) {
    const double mid = std::sqrt(lo * hi);
    if (calls_per_s(watches, mid, max_interval_s) > room)
      lo = mid;
    else
      hi = mid;
  }
  return hi;
}

}  // namespace jobwatch::schedule
