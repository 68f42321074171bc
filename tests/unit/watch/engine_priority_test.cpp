// SPEC §7's priority under a binding budget, on the engine itself in
// virtual time: more polls due than api.rate_limit allows, the likeliest to
// find a change go first, and waiting raises priority so none starves.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "jobwatch/model/time.hpp"
#include "jobwatch/watch/engine.hpp"
#include "jobwatch/watch/loop.hpp"

namespace jobwatch::watch {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const model::WallTime wall_start = *model::parse_rfc3339("2026-01-01T00:00:00Z");

// Jobs that never end, each begun at a given time (app-v2: no estimate);
// answers come 50 ms after the call.
class RunningJobs final : public upstream::JobApi {
 public:
  RunningJobs(VirtualLoop& loop, std::map<std::string, model::WallTime> begun)
      : loop_(loop), begun_(std::move(begun)) {}

  void fetch(model::Api, const std::string&, const std::string& job_id, Callback done) override {
    polls[job_id].push_back(loop_.wall_now());
    upstream::Answer answer;
    answer.kind = upstream::AnswerKind::ok;
    answer.http_status = 200;
    model::JobSnapshot job;
    job.id = job_id;
    job.status = model::JobStatus::handling;
    job.upstream_status = "RUNNING";
    job.begin_time = model::format_rfc3339(begun_.at(job_id), true);
    job.raw = {{"status", "RUNNING"}, {"begin_time", *job.begin_time}};
    answer.job = std::move(job);
    loop_.at(loop_.now() + milliseconds(50),
             [done = std::move(done), answer = std::move(answer)]() mutable { done(answer); });
  }

  std::map<std::string, std::vector<model::WallTime>> polls;

 private:
  VirtualLoop& loop_;
  std::map<std::string, model::WallTime> begun_;
};

struct BudgetRun {
  std::size_t young_polls = 0;  // in the young jobs' window
  milliseconds longest_unpolled{0};
  // From the vague jobs' polls while the young ones are in their window
  // (after their first polls) to the next.
  std::vector<double> vague_gaps_s;
};

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Two projects' jobs, all in their learned windows and so due every
// target_delay (1 s): 25 of p2, whose durations spread from 100 s to 3 h,
// so a poll rarely finds one ended, and 5 of p1, whose 100 jobs all took
// 300 s and which are watched 40 s before that (their window ~270-330 s).
// 30 calls/s wanted on a budget of 1/s, for ten virtual minutes.
BudgetRun run(PollOrder order) {
  VirtualLoop loop(wall_start);
  std::map<std::string, model::WallTime> begun;
  for (int i = 0; i < 25; ++i) begun["vague-" + std::to_string(i)] = wall_start - seconds(500);
  for (int i = 0; i < 5; ++i) begun["young-" + std::to_string(i)] = wall_start - seconds(260);
  RunningJobs api(loop, begun);
  config::Config c;
  c.api.rate_limit = 1;
  c.poll.min_interval = seconds(1);
  c.poll.max_interval = seconds(60);
  c.poll.target_delay = seconds(1);
  Engine engine(loop, c, api, nullptr, order);
  schedule::TimingModels models;
  for (int i = 0; i < 100; ++i) {
    models.get({"app-v2", "p1", ""}).observe_job(300, std::nullopt);
    models.get({"app-v2", "p2", ""}).observe_job(100 * std::pow(100.0, i / 99.0), std::nullopt);
  }
  engine.load_timing_models(std::move(models));
  WatchRequest request;
  for (const auto& [id, at] : begun)
    request.jobs.push_back({{id.starts_with("young") ? "p1" : "p2", id}, model::Api::app_v2});
  EXPECT_TRUE(std::holds_alternative<std::vector<WatchInfo>>(engine.watch(request)));
  const SteadyTime end = loop.now() + std::chrono::minutes(10);
  while (!loop.idle() && loop.now() < end) loop.run_one();
  engine.stop();

  BudgetRun out;
  for (const auto& [id, times] : api.polls) {
    model::WallTime last = wall_start;
    for (model::WallTime t : times) {
      out.longest_unpolled = std::max(out.longest_unpolled, milliseconds(t - last));
      if (id.starts_with("vague") && last >= wall_start + seconds(30) &&
          last < wall_start + seconds(60))
        out.vague_gaps_s.push_back(std::chrono::duration<double>(t - last).count());
      last = t;
      // Inside the window (ages ~270-330 s), once the 30 first polls are done.
      if (id.starts_with("young") && t >= wall_start + seconds(30) && t < wall_start + seconds(70))
        ++out.young_polls;
    }
  }
  return out;
}

TEST(EnginePriority, TheLikeliestChangeGoesFirstWhenTheBudgetBinds) {
  const BudgetRun ranked = run(PollOrder::priority);
  const BudgetRun queued = run(PollOrder::due_time);
  // Due-time order gives each poll its turn, five sixths of them to the
  // vague jobs; priority spends the budget where an end is likely.
  EXPECT_GT(static_cast<double>(ranked.young_polls), 1.5 * static_cast<double>(queued.young_polls))
      << ranked.young_polls << " vs " << queued.young_polls;
}

TEST(EnginePriority, TheBudgetPricesTheVagueGapsLongerInsteadOfQueueingEveryPoll) {
  const BudgetRun ranked = run(PollOrder::priority);
  const BudgetRun queued = run(PollOrder::due_time);
  // In due-time order every poll waits its turn in one queue: 30 watches on
  // 1 call/s, each polled about every 30 s. Priced (schedule/call_price.hpp),
  // while the young jobs are in their window the vague ones, whose end is
  // least likely a second, are planned at up to max_interval (60 s) and
  // leave the budget to the young.
  EXPECT_GT(median(ranked.vague_gaps_s), 45.0) << median(ranked.vague_gaps_s);
  EXPECT_LT(median(queued.vague_gaps_s), 40.0) << median(queued.vague_gaps_s);
}

TEST(EnginePriority, WaitingRaisesPrioritySoNoWatchStarves) {
  const BudgetRun ranked = run(PollOrder::priority);
  EXPECT_LE(ranked.longest_unpolled, seconds(120));  // 2 x max_interval
}

}  // namespace
}  // namespace jobwatch::watch
