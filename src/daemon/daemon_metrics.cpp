#include "jobwatch/daemon/daemon_metrics.hpp"

#include <algorithm>

namespace jobwatch::daemon {
namespace {

// Polls run every 2 s to 2 min by default, and a job can end just after a
// poll: the interesting range is seconds to a few minutes, with a long tail
// for jobs whose end is found late (daemon down, throttled).
std::vector<double> detection_delay_buckets() {
  return {0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600};
}

double seconds(std::chrono::nanoseconds d) {
  return std::chrono::duration<double>(d).count();
}

}  // namespace

DaemonMetrics::DaemonMetrics(metrics::Registry& registry)
    : registry_(registry),
      upstream_requests_(registry.counter(
          "jobwatch_upstream_requests_total",
          "ShowJob requests by HTTP status, or timeout/reset when no answer came.", {"code"})),
      upstream_duration_(registry.histogram("jobwatch_upstream_request_duration_seconds",
                                            "Time from sending a ShowJob request to its answer.",
                                            metrics::default_latency_buckets())),
      detection_delay_(registry.histogram(
          "jobwatch_detection_delay_seconds",
          "From the end_time the API reports to the poll that saw the terminal status.",
          detection_delay_buckets())) {}

void DaemonMetrics::upstream_request(std::string_view code,
                                     std::chrono::steady_clock::duration took) {
  upstream_requests_.add({std::string(code)});
  upstream_duration_.observe(seconds(took));
}

void DaemonMetrics::event_detected(const watch::Event& event) {
  // A gateway clock ahead of ours makes the delay negative; it was found
  // at once as far as anyone can tell.
  if (event.detection_delay)
    detection_delay_.observe(std::max(0.0, seconds(*event.detection_delay)));
}

std::string DaemonMetrics::render(std::size_t watches, const outbox::Outbox& outbox) const {
  metrics::TextWriter out;
  out.gauge("jobwatch_watches", "Watches not yet finished.", static_cast<double>(watches));
  outbox.render_gauges(out);
  out.gauge("jobwatch_build_info", "The running jobwatchd's version.", 1,
            {{"version", JOBWATCH_VERSION}});
  registry_.render(out);
  return out.take();
}

}  // namespace jobwatch::daemon
