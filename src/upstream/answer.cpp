#include "jobwatch/upstream/answer.hpp"

#include <utility>

namespace jobwatch::upstream {

std::string_view kind_name(AnswerKind kind) {
  switch (kind) {
    case AnswerKind::ok:
      return "ok";
    case AnswerKind::not_found:
      return "not_found";
    case AnswerKind::unauthorized:
      return "unauthorized";
    case AnswerKind::throttled:
      return "throttled";
    case AnswerKind::server_error:
      return "server_error";
    case AnswerKind::rejected:
      return "rejected";
    case AnswerKind::timeout:
      return "timeout";
    case AnswerKind::reset:
      return "reset";
    case AnswerKind::malformed:
      return "malformed";
  }
  return "unknown";
}

std::string Answer::describe() const {
  std::string text;
  // A malformed 200 is about the body, and an answer without an HTTP status
  // (timeout, reset, credentials that could not be had) about what failed
  // locally: both lead with the kind. Everything else leads with the status.
  if (http_status == 0 || kind == AnswerKind::malformed) {
    text = kind_name(kind);
    if (!error_msg.empty()) {
      text += ": ";
      text += error_msg;
    }
    return text;
  }
  text = "HTTP " + std::to_string(http_status);
  if (!error_code.empty()) {
    text += ' ';
    text += error_code;
  }
  if (!error_msg.empty()) {
    text += ": ";
    text += error_msg;
  }
  return text;
}

Answer transport_failure(AnswerKind kind, std::string what) {
  Answer answer;
  answer.kind = kind;
  answer.error_msg = std::move(what);
  return answer;
}

}  // namespace jobwatch::upstream
