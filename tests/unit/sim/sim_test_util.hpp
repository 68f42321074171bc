// Helpers for the simulator's unit tests: a fixed epoch and specs from JSON text.
#pragma once

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <chrono>
#include <string_view>

#include "job_spec.hpp"
#include "timeline.hpp"

namespace jobwatch::sim::test {

// 2023-06-06T02:30:06Z, the seed's example time.
inline SimTime epoch() {
  using namespace std::chrono;
  return time_point_cast<Millis>(sys_days{year{2023} / June / 6} + hours{2} + minutes{30} +
                                 seconds{6});
}

inline SimTime at(double seconds_after_epoch) {
  return epoch() + Millis{static_cast<long long>(seconds_after_epoch * 1000.0)};
}

inline JobSpec spec_from(std::string_view json_text) {
  auto parsed = parse_job_spec(boost::json::parse(json_text));
  if (auto* err = std::get_if<SpecError>(&parsed)) {
    ADD_FAILURE() << "spec rejected: " << err->message;
    return {};
  }
  return std::get<JobSpec>(parsed);
}

inline Job job_from(std::string_view json_text, std::uint64_t seed = 1) {
  IdGenerator ids(seed);
  return build_job(spec_from(json_text), epoch(), ids);
}

}  // namespace jobwatch::sim::test
