// AIMD for the shared request rate.
#include "jobwatch/schedule/adaptive_rate.hpp"

#include <algorithm>
#include <cmath>

namespace jobwatch::schedule {

AdaptiveRate::AdaptiveRate(double configured, AdaptiveRateParams params)
    : params_(params), configured_(configured), rate_(configured) {}

bool AdaptiveRate::adaptive() const {
  return configured_ > 0 && std::isfinite(configured_);
}

double AdaptiveRate::floor() const {
  if (!adaptive()) return configured_;
  return std::min(configured_, std::max(params_.min_rate, configured_ * params_.min_fraction));
}

double AdaptiveRate::update(Clock::time_point now) {
  if (!adaptive()) return rate_ = configured_;
  // A clock step back (only fake clocks do that) raises nothing.
  if (last_update_ && now > *last_update_ && rate_ < configured_) {
    const double elapsed_s = std::chrono::duration<double>(now - *last_update_).count();
    rate_ =
        std::min(configured_, rate_ + elapsed_s * configured_ * params_.increase_fraction_per_s);
  }
  if (!last_update_ || now > *last_update_) last_update_ = now;
  return rate_;
}

bool AdaptiveRate::on_throttled(Clock::time_point now) {
  ++throttled_total_;
  update(now);
  if (!adaptive()) return false;
  if (last_cut_ && now < *last_cut_ + params_.decrease_window) return false;
  last_cut_ = now;
  ++decreases_;
  rate_ = std::max(floor(), rate_ * params_.decrease_factor);
  return true;
}

void AdaptiveRate::set_configured(double configured) {
  const bool was_adapted = adaptive() && rate_ < configured_;
  configured_ = configured;
  if (!adaptive() || !was_adapted) {
    rate_ = configured_;
    return;
  }
  rate_ = std::clamp(rate_, floor(), configured_);
}

}  // namespace jobwatch::schedule
