// The API's clock against ours. Job times (begin_time, end_time,
// expected_end_time) are stated in the cloud's clock while the daemon's "now"
// is the host's, so a job's age is `now + offset - begin_time`; the offset
// is learned from the Date header of the API's answers. Pure: times come in.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "jobwatch/model/api.hpp"
#include "jobwatch/model/time.hpp"

namespace jobwatch::watch {

class ApiClock {
 public:
  // One HTTP answer: the Date it carried and our wall time when it came.
  void observe(std::chrono::system_clock::time_point server_date, model::WallTime received_at);
  // What to add to our wall time to read the API's; zero until a Date came.
  std::chrono::milliseconds offset() const;
  std::size_t samples() const { return count_; }

 private:
  // Recent answers only, so that a clock stepped back is followed too.
  static constexpr std::size_t window = 16;
  std::array<std::int64_t, window> samples_ms_{};  // Date - received_at, a ring
  std::size_t count_ = 0;                          // filled slots, at most `window`
  std::size_t next_ = 0;
};

// One ApiClock per service host (model::Service): desktop-v2 may be served by
// another host than Application Streaming, with a clock of its own.
class ApiClocks {
 public:
  // An answer without a Date teaches nothing.
  void observe(model::Api api, const std::optional<std::chrono::system_clock::time_point>& date,
               model::WallTime received_at);
  std::chrono::milliseconds offset(model::Api api) const {
    return of(model::mapping(api).service).offset();
  }
  const ApiClock& of(model::Service service) const {
    return clocks_[static_cast<std::size_t>(service)];
  }

 private:
  std::array<ApiClock, 2> clocks_;  // by model::Service
};

}  // namespace jobwatch::watch
