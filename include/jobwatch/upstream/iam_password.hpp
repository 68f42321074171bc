// api.auth.type iam-password: tokens from IAM (POST /v3/auth/tokens,
// password method, project scope), cached, refreshed ahead of expiry and
// after a 401, one refresh in flight at a time. The pure parts are here so
// they can be tested without sockets or a clock.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <variant>

#include "jobwatch/upstream/auth.hpp"
#include "jobwatch/upstream/http_pool.hpp"

namespace jobwatch::upstream::iam {

using Clock = std::chrono::system_clock;

struct Credentials {
  std::string domain;
  std::string user;
  std::string password;
  std::string project_id;
};

// {"auth":{"identity":{"methods":["password"],"password":{"user":{…}}},
//  "scope":{"project":{"id":…}}}}
std::string token_request_body(const Credentials& credentials);

struct IssuedToken {
  std::string token;
  Clock::time_point expires_at;
};

// IAM's answer: 200/201 with the token in X-Subject-Token and
// token.expires_at in the body; otherwise why not ("HTTP 401 …"). The
// message never contains the token.
std::variant<IssuedToken, std::string> parse_token_response(unsigned status,
                                                            std::string_view subject_token,
                                                            std::string_view body);

// How long before expiry to refresh: 10% of the lifetime or 5 min,
// whichever is smaller.
Clock::duration refresh_margin(Clock::duration lifetime);

// Wait after the n-th consecutive failed refresh (n >= 1): 1 s doubling to a
// 60 s cap, scaled by (1 + 0.2 * jitter) with jitter in [-1, 1].
std::chrono::milliseconds backoff_delay(int failures, double jitter);

// "41m", "1h5m", "8s".
std::string short_duration(Clock::duration d);

struct Options {
  Credentials credentials;
  ParsedUrl endpoint;  // the IAM endpoint; its path (if any) prefixes /v3/auth/tokens
  PoolOptions pool;    // api.tls and api.request_timeout; connections are capped at 2
  // Wall clock (expires_at is wall time); tests substitute their own.
  std::function<Clock::time_point()> now;
};

// Error: the IAM pool cannot be set up (unreadable CA file).
std::variant<std::unique_ptr<Authenticator>, std::string> make_authenticator(
    boost::asio::any_io_executor executor, Options options);

}  // namespace jobwatch::upstream::iam
