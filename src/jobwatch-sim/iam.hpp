// The simulator's fake IAM (POST /v3/auth/tokens, password method): checks
// the credentials, issues random tokens with a lifetime, and tells the API
// whether a request's X-Auth-Token is one it issued and still live.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>

#include "timeline.hpp"

namespace jobwatch::sim {

struct IamOptions {
  std::string user;
  std::string domain;
  std::string password;
  Millis token_ttl{3'600'000};
};

struct IamIssue {
  unsigned status = 201;
  std::string body;
  std::string token;  // X-Subject-Token, set on success
};

class FakeIam {
 public:
  FakeIam(IamOptions options, std::uint64_t seed);

  // POST /v3/auth/tokens with `body`, at wall time `wall`.
  IamIssue issue(std::string_view body, SimTime wall);
  bool valid(std::string_view token, SimTime wall) const;
  // Every issued token expires now; returns how many were live.
  std::size_t expire_all(SimTime wall);

  std::uint64_t tokens_issued() const { return tokens_issued_; }
  std::uint64_t requests() const { return requests_; }
  void clear_counters() { tokens_issued_ = requests_ = 0; }

 private:
  IamOptions options_;
  std::mt19937_64 rng_;
  std::unordered_map<std::string, SimTime> expiry_;  // token → expires at
  std::uint64_t tokens_issued_ = 0;
  std::uint64_t requests_ = 0;
};

}  // namespace jobwatch::sim
