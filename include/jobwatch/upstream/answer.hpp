// What one ShowJob poll came back with, classified (SPEC §1). The engine and
// the poll policy act on the kind; nothing downstream looks at HTTP.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "jobwatch/model/api.hpp"
#include "jobwatch/model/snapshot.hpp"

namespace jobwatch::upstream {

enum class AnswerKind {
  ok,            // 200 with a job body that maps
  not_found,     // 404: maybe not visible yet
  unauthorized,  // 401 (after the auth provider's one refresh-and-retry)
  throttled,     // 429, or 503: back off, slow the shared budget
  server_error,  // other 5xx
  rejected,      // 400, 403, 405 (and other 4xx): the watch ends
  timeout,       // no answer within api.request_timeout
  reset,         // connection refused/reset/closed mid-answer, TLS failure
  malformed,     // 200 whose body does not map (bad JSON, unknown status…)
};

std::string_view kind_name(AnswerKind kind);

struct Answer {
  AnswerKind kind = AnswerKind::reset;
  unsigned http_status = 0;                              // 0 when no HTTP answer came
  std::optional<model::JobSnapshot> job;                 // set when kind == ok
  std::optional<std::chrono::milliseconds> retry_after;  // from Retry-After
  std::string error_code;                                // from the error body, e.g. "APIGW.0308"
  std::string error_msg;  // from the error body, or what went wrong locally
  // The Date header of an HTTP answer: the API's clock, in which its job
  // times are stated (watch::ApiClock learns the offset to ours from it).
  // Whole seconds; none without an HTTP answer or a parsable Date.
  std::optional<std::chrono::system_clock::time_point> server_date;

  // "HTTP 503 APIGW.0308: too many requests" / "timeout after 10s" — for
  // logs, WatchInfo.last_error and Show. Never contains credentials.
  std::string describe() const;
};

// Pure: turns an HTTP answer into an Answer; a 200 body is parsed by `api`'s
// mapping. `retry_after` and `date` are the raw header values (empty when
// absent). A Retry-After HTTP-date is resolved against the Date the server
// sent with it when there is one (both are its clock), else against `now`.
Answer classify_response(unsigned http_status, std::string_view retry_after, std::string_view body,
                         std::chrono::system_clock::time_point now,
                         model::Api api = model::Api::app_v1, std::string_view date = {});

// For failures below HTTP (kind is timeout or reset).
Answer transport_failure(AnswerKind kind, std::string what);

// `Retry-After`: delta-seconds or an HTTP-date (IMF-fixdate, RFC 850 or
// asctime) resolved against `now`, bounded to 0..1h (a date in the past is
// 0). nullopt when the value is neither.
std::optional<std::chrono::milliseconds> parse_retry_after(
    std::string_view value, std::chrono::system_clock::time_point now);
// An HTTP-date (RFC 9110 §5.6.7, all three forms); nullopt when it is not one.
std::optional<std::chrono::system_clock::time_point> parse_http_date(std::string_view value);

}  // namespace jobwatch::upstream
