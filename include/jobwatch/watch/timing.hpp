// What the engine learns from a job's end, and how a watch finds its timing
// model (SPEC §7). Pure: the engine and the daemon's start-up seeding call
// these with what they already hold.
#pragma once

#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "jobwatch/config/config.hpp"
#include "jobwatch/model/snapshot.hpp"
#include "jobwatch/model/time.hpp"
#include "jobwatch/schedule/placement.hpp"
#include "jobwatch/schedule/timing_model.hpp"
#include "jobwatch/watch/watch_table.hpp"

namespace jobwatch::watch {

// One finished job, as the timing model takes it.
struct JobTiming {
  double duration_s;                          // end_time - begin_time
  std::optional<double> expected_duration_s;  // expected_end_time - begin_time, if estimated
};

// From the job's RFC 3339 times; none unless begin and end both parse and
// the end is not before the begin. An estimate that does not parse, or
// does not lie after the begin, is left out.
std::optional<JobTiming> job_timing(const std::optional<std::string>& begin_time,
                                    const std::optional<std::string>& end_time,
                                    std::optional<model::WallTime> expected_end_time);
// From a job object as the API sent it (watch::last_answer): every API
// names the times begin_time, end_time and expected_end_time.
std::optional<JobTiming> job_timing_of_json(std::string_view job_json);

schedule::TimingKey timing_key(const Watch& watch);

// A running job's predicted end (SPEC §7), from its key's model.
struct EndPrediction {
  double age_s;  // now - begin_time, in the API's clock
  // What placement plans on: over all jobs of the key, given the job was
  // still running when the watch was created (docs/POLL-TIMING.md).
  schedule::EndDistribution plan_on;
  std::optional<PredictedEnd> end;  // WatchInfo's predicted_end
  // The resolution of the API's times: 1 s when they are whole seconds
  // (app-v1), else 0. The model learned truncated ends, so a job it expects
  // to end at age T really ends in [T, T + resolution).
  double time_resolution_s = 0;
};

// None when the job has no begin_time or its key's model cannot predict
// (no history and no estimate; a key not seen yet has no history): the
// caller then keeps the capped backoff. `now` and the watch's created_at are
// the host's clock; `api_clock_offset` (ApiClock) takes them to the API's,
// which its times are in, so a host clock off by an hour still reads the
// right age.
std::optional<EndPrediction> predict_end(const Watch& watch, const model::JobSnapshot& job,
                                         const schedule::TimingModels& models, model::WallTime now,
                                         std::chrono::milliseconds api_clock_offset = {});

// A model learned, to be committed with the transition that taught it.
struct TimingUpdate {
  schedule::TimingKey key;
  std::string model;  // schedule::TimingModel::serialize()
};

// SPEC §7's placement with the configured poll bounds: target_delay for
// 99 % of the ends, gaps within [min_interval, max_interval].
schedule::PlacementParams placement_params(const config::PollConfig& poll);

// One entry of the Timing reply (SPEC §3): jobs seen, duration quantiles,
// the end against the estimate (as a ratio of the estimated duration) where
// the API gave one, and the ages its jobs are polled at target_delay in
// (from the first window's start to the last one's end) once the duration
// history is trusted.
boost::json::object timing_json(const schedule::TimingKey& key, const schedule::TimingModel& model,
                                const config::PollConfig& poll);

// The first start after the upgrade: models taught by the finished watches
// still in the store (those that succeeded, as in the engine, in the order
// they finished, so the decay weighs the latest most), their answers from
// `stored` (watch::last_answer).
schedule::TimingModels seed_timing_models(const std::vector<Watch>& watches,
                                          const StoredAnswer& stored,
                                          schedule::TimingModelParams params = {});

}  // namespace jobwatch::watch
