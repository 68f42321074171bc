// Replays a trace of finished jobs (docs/TRACE-FORMAT.md) through the
// daemon's own engine — its due queue, rate limiter, priority, placement and
// timing models, on a virtual clock — and through other tools' waiters, and
// prints calls per job and detection delays side by side.
//
//   bench_policy --trace FILE [--rate-limit R] [--target-delay D]
//                [--min-interval D] [--max-interval D] [--order priority|due-time|both]
//                [--latency D] [--warmup N] [--json]
//
// Deterministic: virtual time, fixed seeds, no network.
#include <algorithm>
#include <boost/json/serialize.hpp>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "jobwatch/config/config.hpp"
#include "jobwatch/config/duration.hpp"
#include "jobwatch/model/time.hpp"
#include "jobwatch/watch/engine.hpp"
#include "jobwatch/watch/loop.hpp"
#include "policy/peers.hpp"
#include "policy/report.hpp"
#include "policy/trace_api.hpp"

namespace {

using namespace jobwatch;
using namespace jobwatch::bench;
using std::chrono::milliseconds;

struct Options {
  std::string trace;
  double rate_limit = 0;  // 0: no limit
  milliseconds target_delay{10'000};
  milliseconds min_interval{2'000};
  milliseconds max_interval{120'000};
  milliseconds latency{100};
  std::string order = "priority";
  std::size_t warmup = 50;
  bool json = false;
};

constexpr const char* usage =
    "usage: bench_policy --trace FILE [--rate-limit R] [--target-delay D] [--min-interval D]\n"
    "                    [--max-interval D] [--order priority|due-time|both] [--latency D]\n"
    "                    [--warmup N] [--json]\n"
    "Replays FILE (JSON Lines, docs/TRACE-FORMAT.md) through jobwatch's engine in virtual time\n"
    "and through other tools' waiters. D is a duration (500ms, 10s, 2m); R requests per second,\n"
    "0 for none (the default). --warmup N adds per-key figures for the jobs submitted after N of\n"
    "the key's jobs ended (default 50).\n";

std::optional<Options> parse_args(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const auto value = [&]() -> std::optional<std::string_view> {
      if (i + 1 >= argc) return std::nullopt;
      return std::string_view(argv[++i]);
    };
    const auto duration = [&](milliseconds& out) {
      auto v = value();
      auto d = v ? config::parse_duration(*v) : std::nullopt;
      if (d) out = *d;
      return d.has_value();
    };
    bool ok = true;
    if (arg == "--trace") {
      auto v = value();
      ok = v.has_value();
      if (ok) o.trace = *v;
    } else if (arg == "--rate-limit") {
      auto v = value();
      ok = v.has_value();
      if (ok) {
        char* end = nullptr;
        const std::string text(*v);
        o.rate_limit = std::strtod(text.c_str(), &end);
        ok = end && *end == '\0' && o.rate_limit >= 0;
      }
    } else if (arg == "--target-delay") {
      ok = duration(o.target_delay);
    } else if (arg == "--min-interval") {
      ok = duration(o.min_interval);
    } else if (arg == "--max-interval") {
      ok = duration(o.max_interval);
    } else if (arg == "--latency") {
      ok = duration(o.latency);
    } else if (arg == "--order") {
      auto v = value();
      ok = v && (*v == "priority" || *v == "due-time" || *v == "both");
      if (ok) o.order = *v;
    } else if (arg == "--warmup") {
      auto v = value();
      ok = v.has_value();
      if (ok) o.warmup = std::stoul(std::string(*v));
    } else if (arg == "--json") {
      o.json = true;
    } else {
      ok = false;
    }
    if (!ok) return std::nullopt;
  }
  if (o.trace.empty()) return std::nullopt;
  return o;
}

config::Config engine_config(const Options& o) {
  config::Config c;
  c.poll.target_delay = o.target_delay;
  c.poll.min_interval = o.min_interval;
  c.poll.max_interval = o.max_interval;
  c.poll.default_deadline = std::chrono::hours(24 * 30);
  c.api.rate_limit = o.rate_limit;  // not positive: no limit
  c.api.max_connections = 1024;
  c.state.retention = std::chrono::minutes(1);
  return c;
}

// The trace through jobwatch's engine, as the daemon runs it but on a
// virtual loop and with the trace as its job API.
StrategyResult run_jobwatch(const std::vector<TraceJob>& jobs, const Options& o,
                            watch::PollOrder order, std::string name) {
  const model::WallTime origin = *model::parse_rfc3339("2026-01-01T00:00:00Z");
  watch::VirtualLoop loop(origin);
  const watch::SteadyTime start = loop.now();
  TraceApi api(loop, jobs, origin, o.latency);
  watch::Engine engine(loop, engine_config(o), api, nullptr, order);

  StrategyResult result{std::move(name), std::vector<JobResult>(jobs.size())};
  engine.subscribe_changes([&](const watch::WatchInfo& info) {
    if (!watch::is_finished(info.record->status)) return;
    const std::string& id = info.record->job.job_id;
    result.jobs[std::stoul(id.substr(id.rfind('-') + 1))].detected =
        info.record->status != watch::WatchStatus::abandoned;
  });
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    const auto at = start + milliseconds(std::llround(jobs[i].submitted_at * 1000));
    loop.at(at, [&, i] {
      watch::WatchRequest request;
      request.jobs.push_back({{jobs[i].project_id, TraceApi::job_id_of(i)}, jobs[i].api});
      engine.watch(request);
    });
  }
  loop.run();

  for (std::size_t i = 0; i < jobs.size(); ++i) {
    const std::vector<double>& polls = api.polls()[i];
    JobResult& r = result.jobs[i];
    r.calls = polls.size();
    double last = jobs[i].submitted_at;
    for (double t : polls) {
      r.longest_gap_s = std::max(r.longest_gap_s, t - last);
      last = t;
    }
    // As for the peers: from the end to the call that saw it (its answer
    // comes --latency later for every strategy alike).
    const auto seen = std::lower_bound(polls.begin(), polls.end(), jobs[i].end_at);
    if (r.detected && seen != polls.end()) r.delay_s = *seen - jobs[i].end_at;
  }
  if (api.stray_calls() > 0)
    std::fprintf(stderr, "bench_policy: %llu calls for jobs the trace does not hold\n",
                 static_cast<unsigned long long>(api.stray_calls()));
  return result;
}

StrategyResult run_peer(const std::vector<TraceJob>& jobs, const Peer& peer) {
  std::mt19937_64 rng(7);
  StrategyResult result{peer.name(), {}};
  for (const TraceJob& job : jobs) {
    const PeerRun run = peer.run(job, rng);
    result.jobs.push_back({run.calls, run.detected_at - job.end_at, run.longest_gap_s, true});
  }
  return result;
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--help") {
      std::fputs(usage, stdout);
      return 0;
    }
  }
  const auto options = parse_args(argc, argv);
  if (!options) {
    std::fputs(usage, stderr);
    return 64;
  }
  std::ifstream in(options->trace);
  if (!in) {
    std::fprintf(stderr, "bench_policy: cannot read %s\n", options->trace.c_str());
    return 66;
  }
  auto read = read_trace(in);
  if (auto* error = std::get_if<TraceError>(&read)) {
    std::fprintf(stderr, "bench_policy: %s:%zu: %s\n", options->trace.c_str(), error->line,
                 error->message.c_str());
    return 65;
  }
  const std::vector<TraceJob>& jobs = std::get<std::vector<TraceJob>>(read);
  if (jobs.empty()) {
    std::fprintf(stderr, "bench_policy: %s holds no jobs\n", options->trace.c_str());
    return 65;
  }

  std::vector<StrategyResult> results;
  if (options->order != "due-time")
    results.push_back(run_jobwatch(jobs, *options, watch::PollOrder::priority, "jobwatch"));
  if (options->order != "priority")
    results.push_back(
        run_jobwatch(jobs, *options, watch::PollOrder::due_time, "jobwatch, due-time order"));
  PeerSettings settings;
  settings.target_delay_s = std::chrono::duration<double>(options->target_delay).count();
  for (const auto& peer : standard_peers(settings)) results.push_back(run_peer(jobs, *peer));

  const std::vector<Group> groups = groups_of(jobs, options->warmup);
  if (options->json) {
    boost::json::object out = to_json(groups, results);
    out["trace"] = options->trace;
    out["settings"] = {
        {"rate_limit", options->rate_limit},
        {"target_delay_s", std::chrono::duration<double>(options->target_delay).count()},
        {"min_interval_s", std::chrono::duration<double>(options->min_interval).count()},
        {"max_interval_s", std::chrono::duration<double>(options->max_interval).count()},
        {"latency_s", std::chrono::duration<double>(options->latency).count()}};
    std::printf("%s\n", boost::json::serialize(out).c_str());
  } else {
    std::printf(
        "trace %s: %zu jobs; target_delay %.0f s, min_interval %.0f s, max_interval %.0f s,"
        " rate limit %s\n",
        options->trace.c_str(), jobs.size(), settings.target_delay_s,
        std::chrono::duration<double>(options->min_interval).count(),
        std::chrono::duration<double>(options->max_interval).count(),
        options->rate_limit > 0 ? (std::to_string(options->rate_limit) + "/s").c_str() : "none");
    print_text(stdout, groups, results);
  }
  return 0;
}
