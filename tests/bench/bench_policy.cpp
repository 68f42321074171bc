// How many ShowJob calls a watch costs for how quick a detection, jobwatch's
// poll policy against the waiters other tools use, on the same simulated
// jobs. Deterministic: a fixed seed, simulated time, no network.
//
// Peers, modelled on their documented behaviour:
//  - fixed interval N s: a plain polling loop (Terraform StateChangeConf
//    with PollInterval set, SDK example loops);
//  - StateChangeConf default: first wait 100 ms, doubling to a 10 s cap.
// jobwatch: schedule::next_poll with min_interval 2 s and a sweep of
// max_interval, first poll at once, fed the job's expected_end_time.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "jobwatch/schedule/poll_policy.hpp"

namespace {

using namespace std::chrono;
using jobwatch::schedule::next_poll;
using jobwatch::schedule::PolicyInput;
using jobwatch::schedule::PollOutcome;
using jobwatch::schedule::PollTiming;

struct SimJob {
  milliseconds duration;                 // from the first poll to the terminal status
  std::optional<milliseconds> expected;  // the API's estimate, from the same start
};

// How good the API's estimate is, as the share of jobs in each band.
struct EstimateMix {
  const char* name;
  double early;  // ends at 0.60-0.95 of the estimate's duration
  double close;  // ends within +-5 % of it
  double late;   // ends at 1.05-1.50 of it
  // the rest has no estimate
};

// Jobs of 3 to 30 minutes with estimates drawn from `mix`.
std::vector<SimJob> make_jobs(std::size_t count, unsigned seed, const EstimateMix& mix) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> minutes(3, 30), early(0.6, 0.95), close(0.95, 1.05),
      late(1.05, 1.5), kind(0, 1);
  std::vector<SimJob> jobs;
  for (std::size_t i = 0; i < count; ++i) {
    SimJob job;
    job.duration = duration_cast<milliseconds>(duration<double>(minutes(rng) * 60));
    const double k = kind(rng);
    double factor = 0;
    if (k < mix.early)
      factor = early(rng);
    else if (k < mix.early + mix.close)
      factor = close(rng);
    else if (k < mix.early + mix.close + mix.late)
      factor = late(rng);
    // The job ends at `factor` times its estimate.
    if (factor > 0) job.expected = duration_cast<milliseconds>(job.duration / factor);
    jobs.push_back(job);
  }
  return jobs;
}

struct Result {
  double polls_per_job = 0;
  double mean_delay_s = 0;
  double p95_delay_s = 0;
};

// A strategy answers the gap after the poll at `now` (time since the start),
// given how many polls came before.
using Strategy = std::function<milliseconds(const SimJob&, milliseconds now, int polls,
                                            std::uint16_t& step, std::mt19937_64& rng)>;

Result run(const std::vector<SimJob>& jobs, const Strategy& next_gap, milliseconds first_poll) {
  std::mt19937_64 rng(7);
  std::vector<double> delays;
  std::size_t polls = 0;
  for (const SimJob& job : jobs) {
    milliseconds now = first_poll;
    int n = 0;
    std::uint16_t step = 0;
    for (;;) {
      ++n;
      if (now >= job.duration) break;
      now += next_gap(job, now, n, step, rng);
    }
    polls += static_cast<std::size_t>(n);
    delays.push_back(duration<double>(now - job.duration).count());
  }
  std::sort(delays.begin(), delays.end());
  Result r;
  r.polls_per_job = static_cast<double>(polls) / static_cast<double>(jobs.size());
  double sum = 0;
  for (double d : delays) sum += d;
  r.mean_delay_s = sum / static_cast<double>(delays.size());
  r.p95_delay_s = delays[delays.size() * 95 / 100];
  return r;
}

Strategy fixed_interval(milliseconds interval) {
  return [interval](const SimJob&, milliseconds, int, std::uint16_t&, std::mt19937_64&) {
    return interval;
  };
}

// StateChangeConf's default wait: 100 ms doubling up to 10 s.
Strategy state_change_conf_default() {
  return [](const SimJob&, milliseconds, int polls, std::uint16_t&, std::mt19937_64&) {
    milliseconds wait(100);
    for (int i = 1; i < polls && wait < seconds(10); ++i) wait *= 2;
    return std::min<milliseconds>(wait, seconds(10));
  };
}

Strategy jobwatch_policy(PollTiming timing) {
  return [timing](const SimJob& job, milliseconds now, int, std::uint16_t& step,
                  std::mt19937_64& rng) {
    const system_clock::time_point epoch{};
    PolicyInput input;
    input.outcome = PollOutcome::progress;
    input.now = epoch + now;
    if (job.expected) input.expected_end = epoch + *job.expected;
    input.backoff_step = step;
    input.jitter_unit = std::uniform_real_distribution<double>(0, 1)(rng);
    const auto decision = next_poll(timing, input);
    step = decision.backoff_step;
    return decision.gap;
  };
}

void row(const std::string& name, const Result& r) {
  std::printf("| %-46s | %9.1f | %8.1f | %8.1f |\n", name.c_str(), r.polls_per_job, r.mean_delay_s,
              r.p95_delay_s);
}

}  // namespace

int main() {
  const EstimateMix mixes[] = {
      {
          "mostly accurate estimates (70 % within 5 %, 10 % early, 15 % late, 5 % none)",
          0.10,
          0.70,
          0.15,
      },
      {"rough estimates (40 % early, 15 % within 5 %, 40 % late, 5 % none)", 0.40, 0.15, 0.40},
      {"no estimates at all", 0, 0, 0},
  };
  for (const EstimateMix& mix : mixes) {
    const auto jobs = make_jobs(10'000, 42, mix);
    std::printf("\n10,000 simulated jobs of 3-30 min, %s\n\n", mix.name);
    std::printf("| %-46s | %9s | %8s | %8s |\n", "strategy", "polls/job", "mean s", "p95 s");
    std::printf("|%s|%s|%s|%s|\n", std::string(48, '-').c_str(), std::string(11, '-').c_str(),
                std::string(10, '-').c_str(), std::string(10, '-').c_str());
    for (int s : {5, 10, 20, 30, 60})
      row("fixed interval " + std::to_string(s) + " s",
          run(jobs, fixed_interval(seconds(s)), seconds(s)));
    row("StateChangeConf default (100 ms x2, cap 10 s)",
        run(jobs, state_change_conf_default(), milliseconds(0)));
    for (int max_s : {10, 20, 30, 60, 120})
      row("jobwatch (min 2 s, max " + std::to_string(max_s) + " s)",
          run(jobs, jobwatch_policy({seconds(2), seconds(max_s)}), milliseconds(0)));
  }
  return 0;
}
