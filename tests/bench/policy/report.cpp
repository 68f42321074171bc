#include "report.hpp"

#include <algorithm>
#include <cmath>
#include <map>

namespace jobwatch::bench {
namespace {

// Nearest rank: the smallest value with at least p of the sample at or below it.
double quantile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const auto rank = static_cast<std::size_t>(std::ceil(p * static_cast<double>(sorted.size())));
  return sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1];
}

boost::json::object figures_json(const Figures& f) {
  return {{"jobs", f.jobs},
          {"missed", f.missed},
          {"calls_per_job", f.calls_per_job},
          {"delay_s",
           {{"mean", f.delay_mean_s},
            {"p50", f.delay_p50_s},
            {"p95", f.delay_p95_s},
            {"p99", f.delay_p99_s},
            {"max", f.delay_max_s}}},
          {"longest_unpolled_s", f.longest_gap_s}};
}

}  // namespace

Figures figures_of(const StrategyResult& result, const std::vector<bool>& selected) {
  Figures f;
  std::vector<double> delays;
  double calls = 0;
  double delay_sum = 0;
  for (std::size_t i = 0; i < result.jobs.size(); ++i) {
    if (!selected[i]) continue;
    const JobResult& job = result.jobs[i];
    ++f.jobs;
    calls += static_cast<double>(job.calls);
    f.longest_gap_s = std::max(f.longest_gap_s, job.longest_gap_s);
    if (!job.detected) {
      ++f.missed;
      continue;
    }
    delays.push_back(job.delay_s);
    delay_sum += job.delay_s;
  }
  if (f.jobs == 0) return f;
  std::sort(delays.begin(), delays.end());
  f.calls_per_job = calls / static_cast<double>(f.jobs);
  if (!delays.empty()) {
    f.delay_mean_s = delay_sum / static_cast<double>(delays.size());
    f.delay_p50_s = quantile(delays, 0.50);
    f.delay_p95_s = quantile(delays, 0.95);
    f.delay_p99_s = quantile(delays, 0.99);
    f.delay_max_s = delays.back();
  }
  return f;
}

std::vector<Group> groups_of(const std::vector<TraceJob>& jobs, std::size_t warmup) {
  const std::size_t n = jobs.size();
  std::vector<Group> groups;
  groups.push_back({"all jobs", std::vector<bool>(n, true)});
  Group succeeded{"succeeded (ends in the window)", std::vector<bool>(n)};
  Group failed{"failed (early failures)", std::vector<bool>(n)};
  std::map<std::string, std::vector<std::size_t>> by_key;
  for (std::size_t i = 0; i < n; ++i) {
    succeeded.selected[i] = jobs[i].succeeded;
    failed.selected[i] = !jobs[i].succeeded;
    by_key[key_of(jobs[i])].push_back(i);
  }
  groups.push_back(std::move(succeeded));
  if (std::find(failed.selected.begin(), failed.selected.end(), true) != failed.selected.end())
    groups.push_back(std::move(failed));
  if (by_key.size() < 2 && warmup == 0) return groups;
  for (const auto& [key, members] : by_key) {
    Group all{"key " + key, std::vector<bool>(n)};
    for (std::size_t i : members) all.selected[i] = true;
    groups.push_back(std::move(all));
    if (warmup == 0 || members.size() <= warmup) continue;
    // Learned once `warmup` of the key's jobs have ended: the jobs submitted
    // after that end, whatever their outcome.
    std::vector<double> ends;
    for (std::size_t i : members) ends.push_back(jobs[i].end_at);
    std::sort(ends.begin(), ends.end());
    const double learned_at = ends[warmup - 1];
    Group warm{"key " + key + ", after " + std::to_string(warmup) + " ended", std::vector<bool>(n)};
    for (std::size_t i : members) warm.selected[i] = jobs[i].submitted_at > learned_at;
    Group warm_ok{"key " + key + ", after " + std::to_string(warmup) + " ended, succeeded",
                  std::vector<bool>(n)};
    for (std::size_t i : members) warm_ok.selected[i] = warm.selected[i] && jobs[i].succeeded;
    groups.push_back(std::move(warm));
    groups.push_back(std::move(warm_ok));
  }
  return groups;
}

void print_text(std::FILE* out, const std::vector<Group>& groups,
                const std::vector<StrategyResult>& results) {
  std::size_t width = 8;
  for (const StrategyResult& r : results) width = std::max(width, r.name.size());
  const int w = static_cast<int>(width);
  for (const Group& group : groups) {
    const Figures sample = figures_of(results.front(), group.selected);
    std::fprintf(out, "\n%s: %zu jobs\n", group.name.c_str(), sample.jobs);
    std::fprintf(out, "  %-*s %10s %8s %8s %8s %8s %8s %10s %6s\n", w, "strategy", "calls/job",
                 "mean s", "p50 s", "p95 s", "p99 s", "max s", "unpolled s", "missed");
    for (const StrategyResult& r : results) {
      const Figures f = figures_of(r, group.selected);
      std::fprintf(out, "  %-*s %10.1f %8.1f %8.1f %8.1f %8.1f %8.1f %10.0f %6zu\n", w,
                   r.name.c_str(), f.calls_per_job, f.delay_mean_s, f.delay_p50_s, f.delay_p95_s,
                   f.delay_p99_s, f.delay_max_s, f.longest_gap_s, f.missed);
    }
  }
}

boost::json::object to_json(const std::vector<Group>& groups,
                            const std::vector<StrategyResult>& results) {
  boost::json::array out_groups;
  for (const Group& group : groups) {
    boost::json::object strategies;
    for (const StrategyResult& r : results)
      strategies[r.name] = figures_json(figures_of(r, group.selected));
    out_groups.push_back({{"group", group.name}, {"strategies", std::move(strategies)}});
  }
  return {{"groups", std::move(out_groups)}};
}

}  // namespace jobwatch::bench
