// What /metrics reports (issue 5): every family in the daemon's registry
// (the engine's, the outbox's, the control socket's and the upstream
// requests counted here), plus gauges read when scraped. No label
// carries a job id, so the series count stays fixed however many jobs are
// watched.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "jobwatch/metrics/registry.hpp"
#include "jobwatch/outbox/outbox.hpp"
#include "jobwatch/watch/event.hpp"

namespace jobwatch::daemon {

class DaemonMetrics {
 public:
  // Counts into `registry`, which must outlive this.
  explicit DaemonMetrics(metrics::Registry& registry);

  void upstream_request(std::string_view code, std::chrono::steady_clock::duration took);
  void event_detected(const watch::Event& event);

  // With the values only known when scraped: the watches not yet finished
  // and what the outbox owes each sink.
  std::string render(std::size_t watches, const outbox::Outbox& outbox) const;

 private:
  metrics::Registry& registry_;
  metrics::CounterVec& upstream_requests_;
  metrics::Histogram& upstream_duration_;
  metrics::Histogram& detection_delay_;
};

}  // namespace jobwatch::daemon
