// The request budget shared by all watches: a token bucket on a caller-given
// steady clock, so tests drive it with fake time.
#pragma once

#include <chrono>
#include <optional>

namespace jobwatch::schedule {

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  // burst defaults to max(1, rate). A rate that is not positive (or NaN)
  // means no limit. The bucket starts full.
  explicit RateLimiter(double rate_per_s);
  RateLimiter(double rate_per_s, double burst);

  // Takes one token if there is one.
  bool try_acquire(Clock::time_point now);
  // The tokens in the bucket at `now` (fractional; infinite without a limit).
  double available(Clock::time_point now) const;
  // How long from `now` until a token is available (zero if one is).
  std::chrono::nanoseconds wait_time(Clock::time_point now) const;

  // Changes the refill rate; tokens already in the bucket stay (capped at
  // the new burst when the burst follows the rate). Time since the last
  // try_acquire refills at the new rate.
  void set_rate(double rate_per_s);
  double rate() const { return rate_; }
  double burst() const { return burst_; }

 private:
  double tokens_at(Clock::time_point now) const;
  bool unlimited() const;

  double rate_;
  double burst_;
  bool burst_follows_rate_;
  double tokens_;
  std::optional<Clock::time_point> last_;  // when tokens_ was last brought up to date
};

}  // namespace jobwatch::schedule
