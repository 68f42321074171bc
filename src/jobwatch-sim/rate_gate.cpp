#include "rate_gate.hpp"

#include <algorithm>

namespace jobwatch::sim {

RateGate::RateGate(double rate_per_s)
    : rate_(rate_per_s), burst_(std::max(1.0, rate_per_s)), tokens_(burst_) {}

bool RateGate::admit(SimTime wall) {
  // A wall-clock step back refills nothing.
  if (last_ && wall > *last_) {
    const double elapsed_s = static_cast<double>((wall - *last_).count()) / 1000.0;
    tokens_ = std::min(burst_, tokens_ + elapsed_s * rate_);
  }
  if (!last_ || wall > *last_) last_ = wall;
  if (tokens_ >= 1.0) {
    tokens_ -= 1.0;
    return true;
  }
  ++refused_;
  return false;
}

}  // namespace jobwatch::sim
