// Generated job sets: the demo scenario and seeded random sets (for the
// integration tests and the benchmarks), expressed as ordinary JobSpecs.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "job_spec.hpp"

namespace jobwatch::sim {

struct RandomParams {
  std::uint64_t count = 0;
  std::uint64_t seed = 0;
  double min_duration_s = 2;
  double max_duration_s = 60;
  double ghost_fraction = 0.02;
  double late_404_fraction = 0.1;
  std::string project_id;  // empty: any project
  std::vector<Api> apis;   // jobs go round-robin over these; empty: app-v1
};

// POST /admin/random body; `default_seed` is used when it names no seed.
std::variant<RandomParams, SpecError> parse_random_params(const boost::json::value& v,
                                                          std::uint64_t default_seed);

// 0-5 subjobs, ~70% success, expected_end_time early (0.6-0.95 of the
// duration), late (1.05-1.5x), exact or (~15%) absent; a fraction of ghosts
// and of jobs that answer 404 for up to min(10 s, half their duration) first.
// The APIs rotate by index, so naming them changes no other draw.
std::vector<JobSpec> random_specs(const RandomParams& params);

// 8 jobs of 8-40 s with 1-4 subjobs, mixed outcomes, one 404 for its first 5 s.
std::vector<JobSpec> demo_specs();

}  // namespace jobwatch::sim
