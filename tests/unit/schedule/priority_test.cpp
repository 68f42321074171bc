// Priority: change probabilities, ordering and aging.
#include "jobwatch/schedule/priority.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace jobwatch::schedule {
namespace {

constexpr double kMax = 120;

TEST(Priority, ChangeProbabilityFromTheDistribution) {
  const auto d = *EndDistribution::lognormal(1200, 0.3);
  EXPECT_EQ(change_probability(d, std::nullopt, 10), 1.0);  // first poll
  EXPECT_DOUBLE_EQ(change_probability(d, 1190, 1200), *d.prob_end_between(1190, 1200));
  // Near the median a 10 s gap is likelier to find the end than far before.
  EXPECT_GT(change_probability(d, 1190, 1200), change_probability(d, 290, 300));
  EXPECT_EQ(change_probability(d, 1200, 1200), 0.0);
  // A straggler falls back to the default prior.
  EXPECT_DOUBLE_EQ(change_probability(d, 1e6, 1e6 + 100),
                   default_change_probability(1e6, 1e6 + 100));
}

TEST(Priority, DefaultChangeProbabilityIsScaleFree) {
  EXPECT_EQ(default_change_probability(std::nullopt, 5), 1.0);
  EXPECT_DOUBLE_EQ(default_change_probability(480, 600), 0.2);
  EXPECT_DOUBLE_EQ(default_change_probability(4800, 6000), 0.2);
  EXPECT_EQ(default_change_probability(0, 10), 1.0);
  EXPECT_EQ(default_change_probability(10, 10), 0.0);
  EXPECT_EQ(default_change_probability(10, 5), 0.0);  // clock went back
}

TEST(Priority, LikelierChangeFirst) {
  std::vector<DuePoll> due{
      {0, priority_score(0.01, 60, kMax), 0},
      {1, priority_score(0.30, 60, kMax), 0},
      {2, priority_score(0.05, 60, kMax), 0},
      {3, priority_score(0.90, 60, kMax), 0},
  };
  EXPECT_EQ(select_polls(due, 4), (std::vector<std::size_t>{3, 1, 2, 0}));
  EXPECT_EQ(select_polls(due, 2), (std::vector<std::size_t>{3, 1}));
  EXPECT_TRUE(select_polls(due, 0).empty());
  EXPECT_EQ(select_polls(due, 10).size(), 4u);
}

TEST(Priority, SquareRootLaw) {
  // Chance = rate × unpolled. A watch 4× as likely to end per second is
  // worth the same after half the time unpolled: 2× the polls, not 4×.
  const double rate = 0.001;
  EXPECT_DOUBLE_EQ(priority_score(4 * rate * 30, 30, kMax), priority_score(rate * 60, 60, kMax));
  EXPECT_GT(priority_score(4 * rate * 30, 30, kMax), priority_score(rate * 59, 59, kMax));
  // At the same chance, the end found after longer has waited longer.
  EXPECT_GT(priority_score(0.2, 90, kMax), priority_score(0.2, 30, kMax));
}

TEST(Priority, AFirstPollOutranksEverySeenWatchButAStarvingOne) {
  const double first = priority_score(std::nullopt, 0, kMax);
  EXPECT_DOUBLE_EQ(first, 1.0);
  EXPECT_GT(first, priority_score(1.0, 0.99 * kMax, kMax));
  EXPECT_LT(first, priority_score(0.0, kMax, kMax));
  EXPECT_GT(priority_score(std::nullopt, 1.5 * kMax, kMax), priority_score(0.0, 1.2 * kMax, kMax));
}

TEST(Priority, AStarvingWatchOutranksAnyLikelihood) {
  // Unpolled for less than max_interval: below 1 whatever the likelihood.
  EXPECT_LT(priority_score(1.0, 0.99 * kMax, kMax), 1.0);
  const DuePoll starving{7, priority_score(0.0, kMax, kMax), 0};
  for (double p : {0.0, 0.5, 0.99, 1.0}) {
    const DuePoll fresh{1, priority_score(p, 0.99 * kMax, kMax), kMax};
    EXPECT_TRUE(outranks(starving, fresh)) << "p " << p;
    EXPECT_FALSE(outranks(fresh, starving)) << "p " << p;
  }
  const std::vector<DuePoll> due{{1, priority_score(std::nullopt, 0, kMax), 0}, starving};
  EXPECT_EQ(select_polls(due, 1), (std::vector<std::size_t>{7}));
}

TEST(Priority, AmongStarvingWatchesTheLongestUnpolledFirst) {
  const std::vector<DuePoll> due{{0, priority_score(0.9, 1.1 * kMax, kMax), 0},
                                 {1, priority_score(0.0, 1.9 * kMax, kMax), 0},
                                 {2, priority_score(0.5, 1.5 * kMax, kMax), 0}};
  EXPECT_EQ(select_polls(due, 3), (std::vector<std::size_t>{1, 2, 0}));
  // The score grows without bound, so no watch can be outranked forever.
  EXPECT_GT(priority_score(0, 10 * kMax, kMax), priority_score(1, 9 * kMax, kMax));
}

TEST(Priority, EqualScoresGoToTheLongerWait) {
  const std::vector<DuePoll> due{{0, priority_score(0.2, 10, kMax), 1},
                                 {1, priority_score(0.2, 10, kMax), 5}};
  EXPECT_EQ(select_polls(due, 1), (std::vector<std::size_t>{1}));
}

TEST(Priority, ScoreIsSane) {
  EXPECT_DOUBLE_EQ(priority_score(0.3, 60, kMax), 0.15);
  EXPECT_DOUBLE_EQ(priority_score(2.0, -5, kMax), 0.0);  // clamped, no negative wait
  EXPECT_DOUBLE_EQ(priority_score(2.0, 60, kMax), 0.5);  // p clamped to 1
  EXPECT_DOUBLE_EQ(priority_score(0.3, 2 * kMax, kMax), 3.0);
  EXPECT_DOUBLE_EQ(priority_score(std::nan(""), 60, kMax), 0.0);
  EXPECT_DOUBLE_EQ(priority_score(0.3, 60, 0), 0.3);  // no max_interval: p alone
  const std::vector<DuePoll> due{{0, std::nan(""), 0}, {1, 0.1, 0}};
  EXPECT_EQ(select_polls(due, 1), (std::vector<std::size_t>{1}));
}

}  // namespace
}  // namespace jobwatch::schedule
