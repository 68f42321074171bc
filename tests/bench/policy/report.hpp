// The replayer's figures: calls per job and detection delay quantiles, for
// every strategy over the same jobs, overall, by outcome and by key.
#pragma once

#include <boost/json/object.hpp>
#include <cstdio>
#include <string>
#include <vector>

#include "trace.hpp"

namespace jobwatch::bench {

// One job under one strategy.
struct JobResult {
  std::size_t calls = 0;
  double delay_s = 0;        // detected − end_at
  double longest_gap_s = 0;  // longest time unpolled while watched
  bool detected = false;     // false: the strategy never saw the end
};

struct StrategyResult {
  std::string name;
  std::vector<JobResult> jobs;  // by trace index
};

struct Figures {
  std::size_t jobs = 0;
  std::size_t missed = 0;
  double calls_per_job = 0;
  double delay_mean_s = 0, delay_p50_s = 0, delay_p95_s = 0, delay_p99_s = 0, delay_max_s = 0;
  double longest_gap_s = 0;
};

// Over the jobs `selected` marks (by trace index).
Figures figures_of(const StrategyResult& result, const std::vector<bool>& selected);

// A group of jobs the report breaks out: all, by outcome, each key and each
// key once `warmup` of its jobs have ended (submitted after the warmup-th end).
struct Group {
  std::string name;
  std::vector<bool> selected;
};
std::vector<Group> groups_of(const std::vector<TraceJob>& jobs, std::size_t warmup);

void print_text(std::FILE* out, const std::vector<Group>& groups,
                const std::vector<StrategyResult>& results);
boost::json::object to_json(const std::vector<Group>& groups,
                            const std::vector<StrategyResult>& results);

}  // namespace jobwatch::bench
