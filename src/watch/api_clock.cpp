#include "jobwatch/watch/api_clock.hpp"

#include <algorithm>

namespace jobwatch::watch {

void ApiClock::observe(std::chrono::system_clock::time_point server_date,
                       model::WallTime received_at) {
  const auto sample = std::chrono::duration_cast<std::chrono::milliseconds>(
      server_date - std::chrono::system_clock::time_point(received_at));
  samples_ms_[next_] = sample.count();
  next_ = (next_ + 1) % window;
  count_ = std::min(count_ + 1, window);
}

// Date is the server's time when it answered, cut to the whole second, and
// the answer then took some time to arrive: each sample lies in
// (offset - 1 s - latency, offset], never above the true offset. So the
// largest recent sample is the tightest estimate, and a slow answer only
// lowers a sample that the maximum ignores (a median or mean would follow
// it). Of n samples cut at a uniform fraction of a second, the largest falls
// short by 1/(n+1) s on average, which is added back: one sample is taken as
// the middle of its second, sixteen land within ~60 ms. A clock stepped ahead
// is followed at the next answer, one stepped back once the window has turned.
std::chrono::milliseconds ApiClock::offset() const {
  if (count_ == 0) return std::chrono::milliseconds(0);
  const std::int64_t largest = *std::max_element(samples_ms_.begin(), samples_ms_.begin() + count_);
  const auto short_by = 1000 / static_cast<std::int64_t>(count_ + 1);
  return std::chrono::milliseconds(largest + short_by);
}

void ApiClocks::observe(model::Api api,
                        const std::optional<std::chrono::system_clock::time_point>& date,
                        model::WallTime received_at) {
  if (!date) return;
  clocks_[static_cast<std::size_t>(model::mapping(api).service)].observe(*date, received_at);
}

}  // namespace jobwatch::watch
