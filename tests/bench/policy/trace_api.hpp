// The job API as a trace replays it: each fetch answers, after a fixed
// latency on the virtual loop, with the status the trace's job has at the
// time of the request, in the shape its API sends (app-v1 whole-second
// times and expected_end_time; v2 millisecond times and no estimate). It
// counts every call and when each job was polled.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "jobwatch/upstream/job_api.hpp"
#include "jobwatch/watch/loop.hpp"
#include "trace.hpp"

namespace jobwatch::bench {

class TraceApi final : public upstream::JobApi {
 public:
  // `jobs` must outlive the API; trace time 0 is `origin` on the loop's wall clock.
  TraceApi(watch::VirtualLoop& loop, const std::vector<TraceJob>& jobs, model::WallTime origin,
           std::chrono::milliseconds latency);

  void fetch(model::Api api, const std::string& project_id, const std::string& job_id,
             Callback done) override;

  static std::string job_id_of(std::size_t index);
  // The wall time of trace second `s`.
  model::WallTime at(double s) const;
  // Trace seconds of a wall time.
  double seconds_of(model::WallTime t) const;

  // When each job was polled (trace seconds, in order), by trace index.
  const std::vector<std::vector<double>>& polls() const { return polls_; }
  std::uint64_t calls() const { return calls_; }
  // Calls for jobs the trace does not hold, or on the wrong API: both bugs.
  std::uint64_t stray_calls() const { return stray_calls_; }

 private:
  upstream::Answer answer_for(const TraceJob& job, double now_s) const;

  watch::VirtualLoop& loop_;
  const std::vector<TraceJob>& jobs_;
  model::WallTime origin_;
  std::chrono::milliseconds latency_;
  std::map<std::string, std::size_t> index_of_;
  std::vector<std::vector<double>> polls_;
  std::uint64_t calls_ = 0;
  std::uint64_t stray_calls_ = 0;
};

}  // namespace jobwatch::bench
