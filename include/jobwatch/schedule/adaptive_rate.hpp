// The shared request rate, adapted to what the API tolerates (AIMD): each
// throttled answer (429/503) cuts it multiplicatively, throttle-free time
// raises it additively back to the configured rate. Time is a parameter.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

namespace jobwatch::schedule {

struct AdaptiveRateParams {
  double decrease_factor = 0.7;  // rate *= this per cut
  // At most one cut per window: one overload answers a burst of requests
  // with a burst of 429s, and that is one signal, not many.
  std::chrono::milliseconds decrease_window{1000};
  // The floor is max(min_rate, configured * min_fraction).
  double min_rate = 0.2;
  double min_fraction = 0.01;
  // Additive increase per second without throttling, as a fraction of the
  // configured rate (1/20: back to full in at most 20 s).
  double increase_fraction_per_s = 0.05;
};

class AdaptiveRate {
 public:
  using Clock = std::chrono::steady_clock;

  // A configured rate that is not positive and finite is "no limit": it is
  // passed through and never adapted.
  explicit AdaptiveRate(double configured, AdaptiveRateParams params = {});

  // A 429/503 answer arrived at `now`. True when it cut the rate (the first
  // throttled answer of a window); the rate is current as of `now` after it.
  bool on_throttled(Clock::time_point now);
  // Brings the additive increase up to `now` and returns the effective rate.
  double update(Clock::time_point now);
  // A new configured rate (SIGHUP). An unadapted rate follows it; an
  // adapted one keeps its value (capped at the new rate) and recovers
  // towards the new one.
  void set_configured(double configured);

  double rate() const { return rate_; }  // as of the last call
  double configured() const { return configured_; }
  double floor() const;
  bool adapted() const { return rate_ < configured_; }
  std::uint64_t throttled_total() const { return throttled_total_; }
  std::uint64_t decreases() const { return decreases_; }

 private:
  bool adaptive() const;

  AdaptiveRateParams params_;
  double configured_;
  double rate_;
  std::optional<Clock::time_point> last_update_;
  std::optional<Clock::time_point> last_cut_;
  std::uint64_t throttled_total_ = 0;
  std::uint64_t decreases_ = 0;
};

}  // namespace jobwatch::schedule
