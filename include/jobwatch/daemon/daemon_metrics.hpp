// What /metrics reports (issue 5): counters fed by the upstream client, the
// engine and the sinks, and gauges read when scraped. No label carries a job
// id, so the series count stays fixed however many jobs are watched.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "jobwatch/metrics/exposition.hpp"
#include "jobwatch/sinks/delivery_observer.hpp"
#include "jobwatch/watch/event.hpp"

namespace jobwatch::daemon {

// Sits between the dispatcher and its real observer (the outbox), counting
// each delivery outcome on the way through.
class DaemonMetrics final : public sinks::DeliveryObserver {
 public:
  explicit DaemonMetrics(sinks::DeliveryObserver& next);

  void upstream_request(std::string_view code, std::chrono::steady_clock::duration took);
  void event_detected(const watch::Event& event);

  void delivered(const watch::Event& event, std::string_view sink) override;
  void attempt_failed(const watch::Event& event, std::string_view sink, std::uint32_t attempts,
                      std::chrono::system_clock::time_point next_attempt_at,
                      std::string_view error) override;
  void dead_lettered(const watch::Event& event, std::string_view sink, std::string_view reason,
                     std::uint32_t attempts) override;

  // The values only known when scraped.
  struct Now {
    std::size_t watches = 0;                                          // not yet finished
    std::vector<std::pair<std::string, std::size_t>> outbox_pending;  // per sink
  };
  std::string render(const Now& now) const;

 private:
  void count_event(const watch::Event& event, std::string_view sink, std::string_view result);

  sinks::DeliveryObserver& next_;
  metrics::CounterVec upstream_requests_{{"code"}};
  metrics::Histogram upstream_duration_;
  metrics::CounterVec events_{{"type", "sink", "result"}};
  metrics::Histogram detection_delay_;
};

}  // namespace jobwatch::daemon
