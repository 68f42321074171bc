// The API gateway's global request limit (--rate-limit): a token bucket over
// all ShowJob requests, burst equal to the rate. Pure: the caller passes the
// time.
#pragma once

#include <cstdint>
#include <optional>

#include "timeline.hpp"

namespace jobwatch::sim {

class RateGate {
 public:
  // rate_per_s > 0; the bucket starts full.
  explicit RateGate(double rate_per_s);

  // Takes a token; false (the request is refused) when there is none.
  bool admit(SimTime wall);
  double rate() const { return rate_; }
  std::uint64_t refused() const { return refused_; }
  void clear_counters() { refused_ = 0; }

 private:
  double rate_;
  double burst_;
  double tokens_;
  std::optional<SimTime> last_;
  std::uint64_t refused_ = 0;
};

}  // namespace jobwatch::sim
