// The engine: the watch table, one due-queue and one timer, the shared rate
// limiter, and the glue from poll answers to the tracker and the policy.
// Everything runs on one event-loop thread; callers (the control service,
// the daemon) use only these public methods.
#pragma once

#include <sys/types.h>

#include <boost/asio/any_io_executor.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "jobwatch/config/config.hpp"
#include "jobwatch/upstream/job_api.hpp"
#include "jobwatch/watch/event.hpp"
#include "jobwatch/watch/journal.hpp"
#include "jobwatch/watch/trace.hpp"
#include "jobwatch/watch/watch_info.hpp"

namespace jobwatch::metrics {
class Registry;
}

namespace jobwatch::watch {

// One job to watch and the API it lives in.
struct WatchTarget {
  JobRef job;  // project_id already resolved (never empty)
  model::Api api = model::Api::app_v1;
};

struct WatchRequest {
  std::vector<WatchTarget> jobs;
  Labels labels;
  std::optional<std::chrono::milliseconds> deadline;  // default: poll.default_deadline
  uid_t submitter = 0;
};

enum class Outcome { succeeded, failed, abandoned };
std::string_view outcome_name(Outcome outcome);

struct ShowResult {
  WatchInfo info;
  std::string job_json;  // the last JobDetail as received; empty before the first 200
};

struct FinishedWatch {
  Outcome outcome;
  std::string final_event;  // the final event's document
};

enum class EngineError {
  limit_reached,
  shutting_down,
  store_failed,  // the new watches could not be made durable; none was created
};

struct CancelFailure {
  enum class Kind { not_watched, permission_denied } kind;
  JobRef job;
};

using SubscriptionId = std::uint64_t;

// Names one watch for as long as it stays (a List answered in pieces reads
// the watches one piece at a time; one erased meanwhile is skipped).
struct WatchHandle {
  std::uint32_t index = 0;
  std::uint32_t generation = 0;
};

class Loop;

// Which due polls go first when the rate budget cannot start them all.
enum class PollOrder {
  priority,  // SPEC §7: the likeliest to find a change, raised by waiting
  due_time,  // earliest due first: what the replay benchmark compares with
};

class Engine {
 public:
  using EventListener = std::function<void(const Event&)>;
  using ChangeListener = std::function<void(const WatchInfo&)>;

  // With a journal, every watch and transition is recorded there and the
  // journal (not the event listeners) feeds the sinks; without one the
  // engine is memory-only.
  // Counters go to `registry` (the daemon's, which must outlive the
  // engine), or to one the engine keeps for itself.
  Engine(boost::asio::any_io_executor executor, const config::Config& config, upstream::JobApi& api,
         Journal* journal = nullptr, metrics::Registry* registry = nullptr);
  // On a loop of the caller's (the replay benchmark's virtual time), which
  // must outlive the engine. The backoff jitter is seeded the same every
  // time, so a replay repeats exactly.
  Engine(Loop& loop, const config::Config& config, upstream::JobApi& api, Journal* journal,
         PollOrder order = PollOrder::priority);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Puts back the watches of a previous run (from the store). Unfinished
  // ones are polled at once, as the rate budget allows: a job that ended
  // while the daemon was down is reported on that first poll, with the same
  // event ids. Finished ones stay visible until their retention ends.
  void restore(std::vector<Watch> watches);
  // The timing models of a previous run (from the store), before restore.
  void load_timing_models(schedule::TimingModels models);
  // What the engine has learned so far (SPEC §7).
  const schedule::TimingModels& timing_models() const;
  // The Timing reply's models (SPEC §3), by key, with the windows the
  // current poll settings give.
  boost::json::array timing() const;
  // The jobs seen to end that are still within state.retention (succeeded or
  // failed, begin and end known), for the replay trace: `trace_json` of
  // them is what `jobwatchctl timing --trace` prints.
  std::vector<TraceJob> finished_jobs() const;

  // Starts watches (the first poll is due at once). A job already watched
  // (or finished within retention) is returned with created == false and
  // nothing changes.
  std::variant<std::vector<WatchInfo>, EngineError> watch(const WatchRequest& request);
  // Stops watching; no event. Only root, the daemon's uid or the submitter may.
  std::variant<std::vector<JobRef>, CancelFailure> cancel(const std::vector<JobRef>& jobs,
                                                          uid_t caller);
  std::vector<WatchInfo> list() const;
  // Every watch now, in list() order: 8 bytes each, where list() is
  // hundreds.
  std::vector<WatchHandle> handles() const;
  // The watch's WatchInfo, unless it has gone since the handle was taken.
  std::optional<WatchInfo> info(WatchHandle handle) const;
  std::optional<ShowResult> show(const JobRef& job) const;
  std::optional<WatchInfo> info(const JobRef& job) const;
  // Set once a watch has ended (within retention).
  std::optional<FinishedWatch> finished(const JobRef& job) const;

  // Every emitted event, in order (sinks, Follow). Listeners run on the loop
  // thread and must not call back into the engine synchronously.
  SubscriptionId subscribe_events(EventListener listener);
  // Every change of a watch's WatchInfo (Wait progress).
  SubscriptionId subscribe_changes(ChangeListener listener);
  void unsubscribe(SubscriptionId id);

  // Counters for Stats: watches by state, polls by answer/HTTP code,
  // in-flight and due-queue depth, events emitted by type.
  boost::json::object stats() const;
  std::size_t active_watches() const;

  // Applies new poll settings and rate limit (SIGHUP).
  void reconfigure(const config::Config& config);
  // Stops issuing polls; answers still in flight are dropped.
  void stop();
  // Hands the poll bookkeeping of every watch polled or rescheduled since
  // the journal last had it to the journal (shutdown), so what is not
  // written on each poll (poll counts, last and next poll, last error)
  // survives a clean restart too.
  void checkpoint();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace jobwatch::watch
