// Poll priority: the change probability, aging and the top-k selection.
#include "jobwatch/schedule/priority.hpp"

#include <algorithm>
#include <cmath>

namespace jobwatch::schedule {

namespace {

double sane_nonnegative(double v) {
  return std::isfinite(v) && v > 0 ? v : 0.0;
}

}  // namespace

double default_change_probability(std::optional<double> last_poll_age_s, double now_age_s) {
  if (!last_poll_age_s) return 1.0;
  if (!(now_age_s > 0)) return 0.0;
  const double last = std::isfinite(*last_poll_age_s) ? std::max(0.0, *last_poll_age_s) : 0.0;
  if (!(now_age_s > last)) return 0.0;
  return std::clamp((now_age_s - last) / now_age_s, 0.0, 1.0);
}

double change_probability(const EndDistribution& end, std::optional<double> last_poll_age_s,
                          double now_age_s) {
  if (!last_poll_age_s) return 1.0;
  if (const auto p = end.prob_end_between(*last_poll_age_s, now_age_s)) return *p;
  return default_change_probability(last_poll_age_s, now_age_s);
}

double priority_score(std::optional<double> p_change, double unpolled_s, double max_interval_s) {
  const double unpolled = sane_nonnegative(unpolled_s);
  const double max_interval = sane_nonnegative(max_interval_s);
  if (max_interval > 0 && unpolled >= kStarvingAfter * max_interval) {
    return 1.0 + unpolled / max_interval;
  }
  if (!p_change) return 1.0;
  const double p = std::isnan(*p_change) ? 0.0 : std::clamp(*p_change, 0.0, 1.0);
  if (max_interval == 0) return p;
  return p * unpolled / max_interval;
}

bool outranks(const DuePoll& a, const DuePoll& b) {
  if (a.score != b.score) return a.score > b.score;
  if (a.waited_s != b.waited_s) return a.waited_s > b.waited_s;
  return a.id < b.id;
}

std::vector<std::size_t> select_polls(std::span<const DuePoll> due, std::size_t budget) {
  std::vector<DuePoll> ranked(due.begin(), due.end());
  // NaN scores would break the strict weak order; they rank last.
  for (DuePoll& d : ranked) {
    if (std::isnan(d.score)) d.score = -1;
    if (std::isnan(d.waited_s)) d.waited_s = 0;
  }
  const std::size_t k = std::min(budget, ranked.size());
  std::partial_sort(ranked.begin(), ranked.begin() + static_cast<std::ptrdiff_t>(k), ranked.end(),
                    outranks);
  std::vector<std::size_t> ids;
  ids.reserve(k);
  for (std::size_t i = 0; i < k; ++i) ids.push_back(ranked[i].id);
  return ids;
}

}  // namespace jobwatch::schedule
