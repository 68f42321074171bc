// Token bucket for the shared request budget.
#include "jobwatch/schedule/rate_limiter.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace jobwatch::schedule {

namespace {

// Floating-point refill can leave 0.9999999 tokens after waiting exactly
// wait_time(); count that as a whole token.
constexpr double kEpsilon = 1e-9;

double default_burst(double rate) {
  return std::isnan(rate) ? 1.0 : std::max(1.0, rate);
}

}  // namespace

RateLimiter::RateLimiter(double rate_per_s)
    : rate_(rate_per_s),
      burst_(default_burst(rate_per_s)),
      burst_follows_rate_(true),
      tokens_(burst_) {}

RateLimiter::RateLimiter(double rate_per_s, double burst)
    : rate_(rate_per_s),
      burst_(std::isnan(burst) ? 1.0 : std::max(1.0, burst)),
      burst_follows_rate_(false),
      tokens_(burst_) {}

bool RateLimiter::unlimited() const {
  return !(rate_ > 0) || std::isinf(rate_);
}

double RateLimiter::tokens_at(Clock::time_point now) const {
  if (!last_ || now <= *last_) return tokens_;  // a clock step back refills nothing
  const double elapsed_s = std::chrono::duration<double>(now - *last_).count();
  return std::min(burst_, tokens_ + elapsed_s * rate_);
}

bool RateLimiter::try_acquire(Clock::time_point now) {
  if (unlimited()) return true;
  tokens_ = tokens_at(now);
  if (!last_ || now > *last_) last_ = now;
  if (tokens_ + kEpsilon < 1.0) return false;
  tokens_ = std::max(0.0, tokens_ - 1.0);
  return true;
}

double RateLimiter::available(Clock::time_point now) const {
  if (unlimited()) return std::numeric_limits<double>::infinity();
  return tokens_at(now);
}

std::chrono::nanoseconds RateLimiter::wait_time(Clock::time_point now) const {
  if (unlimited()) return std::chrono::nanoseconds{0};
  const double tokens = tokens_at(now);
  if (tokens + kEpsilon >= 1.0) return std::chrono::nanoseconds{0};
  const double wait_ns = std::ceil((1.0 - tokens) / rate_ * 1e9);
  // A vanishingly small rate must saturate, not overflow the cast.
  constexpr auto kMax = std::chrono::nanoseconds::max().count();
  if (!(wait_ns < static_cast<double>(kMax))) return std::chrono::nanoseconds::max();
  return std::chrono::nanoseconds{static_cast<std::chrono::nanoseconds::rep>(wait_ns)};
}

void RateLimiter::set_rate(double rate_per_s) {
  rate_ = rate_per_s;
  if (burst_follows_rate_) {
    burst_ = default_burst(rate_per_s);
    tokens_ = std::min(tokens_, burst_);
  }
}

}  // namespace jobwatch::schedule
