#include "scenarios.hpp"

#include <algorithm>
#include <random>

namespace jobwatch::sim {

namespace json = boost::json;

namespace {

std::optional<double> fraction(const json::value& v) {
  auto n = as_number(v);
  if (!n || *n < 0 || *n > 1) return std::nullopt;
  return n;
}

}  // namespace

std::variant<RandomParams, SpecError> parse_random_params(const json::value& v,
                                                          std::uint64_t default_seed) {
  if (!v.is_object()) return SpecError{"body must be an object"};
  RandomParams p;
  p.seed = default_seed;
  bool have_count = false;
  for (const auto& [key, value] : v.get_object()) {
    auto n = as_number(value);
    if (key == "count") {
      if (!n || *n < 0 || *n > 10'000'000 ||
          *n != static_cast<double>(static_cast<std::uint64_t>(*n))) {
        return SpecError{"count: must be an integer 0-10000000"};
      }
      p.count = static_cast<std::uint64_t>(*n);
      have_count = true;
    } else if (key == "seed") {
      if (value.is_uint64()) {
        p.seed = value.get_uint64();
      } else if (value.is_int64() && value.get_int64() >= 0) {
        p.seed = static_cast<std::uint64_t>(value.get_int64());
      } else {
        return SpecError{"seed: must be a non-negative integer"};
      }
    } else if (key == "max_duration_s" || key == "min_duration_s") {
      if (!n || *n < 0 || *n > 366.0 * 24 * 3600)
        return SpecError{std::string(key) + ": must be a number of seconds >= 0"};
      (key == "max_duration_s" ? p.max_duration_s : p.min_duration_s) = *n;
    } else if (key == "ghost_fraction" || key == "late_404_fraction") {
      auto f = fraction(value);
      if (!f) return SpecError{std::string(key) + ": must be a number 0-1"};
      (key == "ghost_fraction" ? p.ghost_fraction : p.late_404_fraction) = *f;
    } else if (key == "api") {
      // One API name, or a list to spread the jobs over.
      const json::array* list = value.if_array();
      const json::array single{value};
      if (!list) list = &single;
      p.apis.clear();
      for (const json::value& name : *list) {
        auto api = name.is_string() ? parse_api(name.get_string()) : std::nullopt;
        if (!api) return SpecError{"api: must be app-v1, app-v2, desktop-v2 or a list of them"};
        p.apis.push_back(*api);
      }
      if (p.apis.empty()) return SpecError{"api: the list must not be empty"};
    } else if (key == "project_id") {
      if (!value.is_string() || !valid_id(value.get_string()))
        return SpecError{"project_id: invalid"};
      p.project_id = std::string(value.get_string());
    } else {
      return SpecError{"unknown field \"" + std::string(key) + "\""};
    }
  }
  if (!have_count) return SpecError{"count: required"};
  p.min_duration_s = std::min(p.min_duration_s, p.max_duration_s);
  return p;
}

std::vector<JobSpec> random_specs(const RandomParams& params) {
  std::mt19937_64 rng(params.seed);
  auto uniform = [&rng](double lo, double hi) {
    return lo >= hi ? lo : std::uniform_real_distribution<double>(lo, hi)(rng);
  };
  auto chance = [&](double p) { return uniform(0.0, 1.0) < p; };

  std::vector<JobSpec> specs;
  specs.reserve(params.count);
  for (std::uint64_t i = 0; i < params.count; ++i) {
    JobSpec spec;
    spec.project_id = params.project_id;
    if (!params.apis.empty()) spec.api = params.apis[i % params.apis.size()];
    const double duration = uniform(params.min_duration_s, params.max_duration_s);
    spec.duration_s = duration;
    spec.initializing_s = uniform(0.0, std::min(3.0, 0.25 * duration));
    if (chance(params.ghost_fraction)) {
      spec.ghost = true;
      specs.push_back(std::move(spec));
      continue;
    }
    spec.success = chance(0.7);

    const int n = std::uniform_int_distribution<int>(0, 5)(rng);
    std::vector<SubJobSpec> subs(static_cast<std::size_t>(n));
    for (auto& sub : subs) {
      sub.duration_s = uniform(spec.initializing_s, duration);
      sub.success = true;
    }
    if (!spec.success && n > 0) {
      subs[std::uniform_int_distribution<std::size_t>(0, subs.size() - 1)(rng)].success = false;
      for (auto& sub : subs) {
        if (chance(0.2)) sub.success = false;
      }
    }
    spec.subjobs = std::move(subs);

    if (chance(params.late_404_fraction)) {
      const double cap = std::min(10.0, 0.5 * duration);
      spec.not_found_s = uniform(0.2 * cap, cap);
    }

    const double e = uniform(0.0, 1.0);
    if (e < 0.15) {
      spec.estimate = JobSpec::Estimate::none;
    } else if (e < 0.5) {
      spec.estimate = JobSpec::Estimate::offset;
      spec.expected_end_offset_s = duration * uniform(0.6, 0.95);
    } else if (e < 0.85) {
      spec.estimate = JobSpec::Estimate::offset;
      spec.expected_end_offset_s = duration * uniform(1.05, 1.5);
    }
    specs.push_back(std::move(spec));
  }
  return specs;
}

std::vector<JobSpec> demo_specs() {
  struct Row {
    double duration_s;
    bool success;
    int subjobs;
    double not_found_s;
    JobSpec::Estimate estimate;
    double expected_factor;
  };
  using E = JobSpec::Estimate;
  static constexpr Row rows[] = {
      {8, true, 1, 0, E::actual_end, 1},   {12, true, 2, 0, E::offset, 0.8},
      {15, false, 3, 0, E::actual_end, 1}, {20, true, 4, 5, E::offset, 1.2},
      {25, false, 2, 0, E::offset, 0.7},   {30, true, 3, 0, E::offset, 1.4},
      {35, true, 1, 0, E::none, 1},        {40, false, 4, 0, E::offset, 1.1},
  };
  std::vector<JobSpec> specs;
  for (const Row& row : rows) {
    JobSpec spec;
    spec.duration_s = row.duration_s;
    spec.success = row.success;
    spec.initializing_s = 2;
    spec.subjob_count = row.subjobs;
    spec.not_found_s = row.not_found_s;
    spec.estimate = row.estimate;
    spec.expected_end_offset_s = row.duration_s * row.expected_factor;
    specs.push_back(std::move(spec));
  }
  return specs;
}

}  // namespace jobwatch::sim
