#include "scenarios.hpp"

#include <boost/json/parse.hpp>

#include "sim_test_util.hpp"

namespace jobwatch::sim {
namespace {

RandomParams params(std::uint64_t count, std::uint64_t seed) {
  RandomParams p;
  p.count = count;
  p.seed = seed;
  return p;
}

TEST(SimRandomSpecs, DeterministicBySeed) {
  const auto a = random_specs(params(200, 5));
  const auto b = random_specs(params(200, 5));
  const auto c = random_specs(params(200, 6));
  ASSERT_EQ(a.size(), 200u);
  int same_as_other_seed = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].duration_s, b[i].duration_s);
    EXPECT_EQ(a[i].success, b[i].success);
    same_as_other_seed += a[i].duration_s == c[i].duration_s;
  }
  EXPECT_LT(same_as_other_seed, 200);
}

TEST(SimRandomSpecs, ShapeOfTheMix) {
  RandomParams p = params(5000, 11);
  p.max_duration_s = 60;
  p.ghost_fraction = 0.02;
  p.late_404_fraction = 0.1;
  const auto specs = random_specs(p);
  int ghosts = 0, successes = 0, late = 0, no_estimate = 0, early = 0, overdue = 0;
  for (const JobSpec& s : specs) {
    EXPECT_LE(s.duration_s, 60);
    EXPECT_GE(s.duration_s, p.min_duration_s);
    if (s.ghost) {
      ++ghosts;
      continue;
    }
    ASSERT_TRUE(s.subjobs.has_value());
    EXPECT_LE(s.subjobs->size(), 5u);
    bool any_failed = false;
    for (const SubJobSpec& sub : *s.subjobs) {
      EXPECT_LE(*sub.duration_s, s.duration_s);
      any_failed = any_failed || !*sub.success;
    }
    if (s.success) {
      ++successes;
      EXPECT_FALSE(any_failed) << "a successful job with a failed subjob";
    } else if (!s.subjobs->empty()) {
      EXPECT_TRUE(any_failed) << "a failed job whose subjobs all succeeded";
    }
    if (s.not_found_s > 0) {
      ++late;
      EXPECT_LE(s.not_found_s, std::min(10.0, 0.5 * s.duration_s));
    }
    if (s.estimate == JobSpec::Estimate::none) {
      ++no_estimate;
    } else if (s.estimate == JobSpec::Estimate::offset) {
      const double ratio = s.expected_end_offset_s / s.duration_s;
      EXPECT_TRUE((ratio >= 0.6 && ratio <= 0.95) || (ratio >= 1.05 && ratio <= 1.5)) << ratio;
      (ratio < 1 ? early : overdue)++;
    }
  }
  // Loose bands around the documented fractions (5000 draws, fixed seed).
  EXPECT_GT(ghosts, 50);
  EXPECT_LT(ghosts, 200);
  const int visible = static_cast<int>(specs.size()) - ghosts;
  EXPECT_GT(successes, visible * 6 / 10);
  EXPECT_LT(successes, visible * 8 / 10);
  EXPECT_GT(late, visible / 20);
  EXPECT_LT(late, visible / 6);
  EXPECT_GT(no_estimate, visible / 10);
  EXPECT_LT(no_estimate, visible / 5);
  EXPECT_GT(early, visible / 4);
  EXPECT_GT(overdue, visible / 4);
}

TEST(SimRandomSpecs, FractionsAtTheExtremes) {
  RandomParams p = params(100, 3);
  p.ghost_fraction = 1;
  for (const JobSpec& s : random_specs(p)) EXPECT_TRUE(s.ghost);
  p.ghost_fraction = 0;
  p.late_404_fraction = 0;
  for (const JobSpec& s : random_specs(p)) {
    EXPECT_FALSE(s.ghost);
    EXPECT_EQ(s.not_found_s, 0);
  }
}

TEST(SimRandomParamsParse, DefaultsAndErrors) {
  auto ok = parse_random_params(boost::json::parse(R"({"count": 3})"), 99);
  ASSERT_TRUE(std::holds_alternative<RandomParams>(ok));
  EXPECT_EQ(std::get<RandomParams>(ok).seed, 99u);
  EXPECT_EQ(std::get<RandomParams>(ok).max_duration_s, 60);

  auto with = parse_random_params(
      boost::json::parse(R"({"count": 3, "seed": 7, "max_duration_s": 20, "ghost_fraction": 0.5,
                             "late_404_fraction": 0, "project_id": "p1"})"),
      99);
  ASSERT_TRUE(std::holds_alternative<RandomParams>(with));
  EXPECT_EQ(std::get<RandomParams>(with).seed, 7u);
  EXPECT_EQ(std::get<RandomParams>(with).project_id, "p1");

  for (const char* bad :
       {R"({})", R"({"count": -1})", R"({"count": 1.5})", R"({"count": 1, "ghost_fraction": 2})",
        R"({"count": 1, "colour": "red"})"}) {
    EXPECT_TRUE(std::holds_alternative<SpecError>(parse_random_params(boost::json::parse(bad), 1)))
        << bad;
  }
}

TEST(SimDemoSpecs, EightMixedJobs) {
  const auto specs = demo_specs();
  ASSERT_EQ(specs.size(), 8u);
  int failures = 0, late = 0;
  for (const JobSpec& s : specs) {
    EXPECT_GE(s.duration_s, 8);
    EXPECT_LE(s.duration_s, 40);
    ASSERT_TRUE(s.subjob_count.has_value());
    EXPECT_GE(*s.subjob_count, 1);
    EXPECT_LE(*s.subjob_count, 4);
    failures += !s.success;
    if (s.not_found_s > 0) {
      ++late;
      EXPECT_EQ(s.not_found_s, 5);
    }
  }
  EXPECT_GT(failures, 0);
  EXPECT_LT(failures, 8);
  EXPECT_EQ(late, 1);
}

}  // namespace
}  // namespace jobwatch::sim
