// Retry timing for sink deliveries: exponential backoff with full jitter, as
// a pure function (Retry-After parsing is upstream::parse_retry_after).
#pragma once

#include <chrono>
#include <functional>
#include <optional>

namespace jobwatch::sinks {

struct RetryPolicy {
  std::chrono::milliseconds base{1'000};
  std::chrono::milliseconds cap{5 * 60'000};
};

// Delay before attempt `failures + 1`, after `failures` (>= 1) failed ones:
// uniform in [0, min(cap, base * 2^(failures-1))] (full jitter), and never
// less than `retry_after` when the receiver asked for one.
std::chrono::milliseconds retry_delay(const RetryPolicy& policy, int failures, double jitter01,
                                      std::optional<std::chrono::milliseconds> retry_after);

}  // namespace jobwatch::sinks
