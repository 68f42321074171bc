#include "jobwatch/sinks/retry.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace jobwatch::sinks {

using std::chrono::milliseconds;

milliseconds retry_delay(const RetryPolicy& policy, int failures, double jitter01,
                         std::optional<milliseconds> retry_after) {
  const std::int64_t base = std::max<std::int64_t>(policy.base.count(), 0);
  const std::int64_t cap = std::max<std::int64_t>(policy.cap.count(), 0);
  // Double until the cap; checking before each step keeps it from overflowing.
  std::int64_t ceiling = base;
  for (int i = 1; i < failures && ceiling < cap; ++i) ceiling *= 2;
  ceiling = std::min(ceiling, cap);
  const double j = std::clamp(jitter01, 0.0, 1.0);
  auto delay = milliseconds(std::llround(j * static_cast<double>(ceiling)));
  if (retry_after && *retry_after > delay) delay = *retry_after;
  return delay;
}

}  // namespace jobwatch::sinks
