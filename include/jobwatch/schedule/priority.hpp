// Which due polls go first when the rate budget is short (SPEC §7): the
// ones most likely to find a change, with aging so that no watch starves.
// Sans-io; ages and waits are seconds (double).
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <vector>

#include "jobwatch/schedule/end_distribution.hpp"

namespace jobwatch::schedule {

// P(end in (last_poll_age, now_age] | not ended at last_poll_age): the
// chance that polling now finds the job ended. A first poll (no last poll)
// is 1: it always tells something (the job exists, its begin time). For a
// straggler the model knows nothing about, the default below.
double change_probability(const EndDistribution& end, std::optional<double> last_poll_age_s,
                          double now_age_s);

// Without a model: the scale-free ("Lindy") prior S(t) ∝ 1/t, under which
// a job that has run for t is as likely as not to run another t, so
// P = (now - last) / now. It needs no constant, is 1 for a first poll and
// falls as the job outlives its gaps, like any heavy-tailed duration.
double default_change_probability(std::optional<double> last_poll_age_s, double now_age_s);

// What a due poll is worth when the budget cannot start them all.
//  - Unpolled for less than max_interval: p_change × unpolled / M. If the
//    job ended since the last poll (chance p_change), it did so on average
//    unpolled/2 ago, so p × unpolled / 2 is the delay the poll cuts; the
//    score is that in units of M/2, below 1. With p = rate × unpolled
//    (engine) this is the index rate × unpolled² of the square-root law:
//    for the least total delay per call, a watch whose end is 4× as likely
//    per second is polled 2× as often, not 4× (ranking by p alone), which
//    overpays sharp windows and leaves vague ones waiting.
//  - A first poll (p_change none) scores 1, above every such score: it
//    always tells something (the job exists, its begin time).
//  - From M unpolled the watch is starving: 1 + unpolled / M (>= 2), above
//    every other, longest unpolled first — so while the budget covers one
//    poll per max_interval for every watch, none waits much past that, and
//    an early failure is still seen within about max_interval.
// With no max_interval there is no scale: p_change alone.
inline constexpr double kStarvingAfter = 1.0;  // x max_interval
double priority_score(std::optional<double> p_change, double unpolled_s, double max_interval_s);

struct DuePoll {
  std::size_t id;  // the caller's (e.g. an index into its due list)
  double score;
  double waited_s;  // past the due time
};

// Higher score first, then longer wait, then lower id (a total order, so
// the selection is deterministic).
bool outranks(const DuePoll& a, const DuePoll& b);

// The ids of the `budget` polls to issue now, best first.
std::vector<std::size_t> select_polls(std::span<const DuePoll> due, std::size_t budget);

}  // namespace jobwatch::schedule
