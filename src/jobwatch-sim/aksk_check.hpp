// The simulator as an AK/SK gateway: checks SDK-HMAC-SHA256 signatures with
// the daemon's own verifier, against a clock that may be set off on purpose
// (--clock-skew-s) to exercise the daemon's skew correction.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "timeline.hpp"

namespace jobwatch::sim {

struct AkskOptions {
  std::string access_key;
  std::string secret_key;
  std::chrono::seconds clock_skew{0};  // the gateway's clock minus the wall clock
};

struct AkskRefusal {
  std::string error_code;  // "APIGW.0301", "APIGW.0303"
  std::string error_msg;
  std::string date;  // Date header (the gateway's time), for skew answers
};

// nullopt: a request correctly signed within 15 min of the gateway's clock.
std::optional<AkskRefusal> check_aksk(
    const AkskOptions& options, std::string_view method, std::string_view target,
    const std::vector<std::pair<std::string_view, std::string_view>>& headers,
    std::string_view body, SimTime wall);

// "Wed, 01 May 2024 12:30:00 GMT".
std::string format_http_date(SimTime t);

}  // namespace jobwatch::sim
