// Helpers for HttpPool tests: short names for requests and results.
#pragma once

#include <string>

#include "jobwatch/upstream/http_pool.hpp"

namespace jobwatch::testing {

inline upstream::HttpRequest get(std::string target) {
  upstream::HttpRequest request;
  request.target = std::move(target);
  return request;
}

inline const char* transport_kind_name(upstream::TransportErrorKind kind) {
  switch (kind) {
    case upstream::TransportErrorKind::timeout:
      return "timeout";
    case upstream::TransportErrorKind::reset:
      return "reset";
    case upstream::TransportErrorKind::connect:
      return "connect";
    case upstream::TransportErrorKind::tls:
      return "tls";
    case upstream::TransportErrorKind::protocol:
      return "protocol";
  }
  return "?";
}

// "200 body" for a response, "tls: message" for a failure: one string to
// compare and to print when a test fails.
inline std::string outcome(const upstream::HttpResult& result) {
  if (const auto* response = std::get_if<upstream::HttpResponse>(&result)) {
    return std::to_string(response->status) + " " + response->body;
  }
  const auto& error = std::get<upstream::TransportError>(result);
  return std::string(transport_kind_name(error.kind)) + ": " + error.message;
}

inline bool failed_with(const upstream::HttpResult& result, upstream::TransportErrorKind kind) {
  const auto* error = std::get_if<upstream::TransportError>(&result);
  return error != nullptr && error->kind == kind;
}

}  // namespace jobwatch::testing
