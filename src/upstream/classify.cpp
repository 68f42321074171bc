// The answer classifier (SPEC §1): HTTP status, Retry-After and body in, an
// Answer out. Pure; the HTTP job API is its only caller in the daemon.
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <utility>

#include "jobwatch/upstream/answer.hpp"

namespace jobwatch::upstream {
namespace {

// Error texts come from the network and end up in logs and Show: keep them
// short and on one line.
constexpr std::size_t max_error_text = 512;

std::string clean_text(std::string_view text) {
  if (text.size() > max_error_text) {
    std::size_t cut = max_error_text;
    // Do not split a UTF-8 sequence: back up over continuation bytes.
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
    text = text.substr(0, cut);
  }
  std::string out(text);
  for (char& c : out) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) c = ' ';
  }
  return out;
}

std::string json_text(const boost::json::value* v) {
  if (v == nullptr) return {};
  if (v->is_string()) return std::string(v->get_string());
  if (v->is_int64()) return std::to_string(v->get_int64());
  if (v->is_uint64()) return std::to_string(v->get_uint64());
  return {};
}

// {"error_code","error_msg"} (the API), {"error":{"code","message"}} (the API
// gateway) or {"code","message"}; otherwise a snippet of the body, since an
// HTML page from a proxy still says more than nothing.
void read_error_body(std::string_view body, Answer& answer) {
  if (body.empty()) return;
  boost::system::error_code ec;
  boost::json::value doc = boost::json::parse(body, ec);
  if (!ec && doc.is_object()) {
    const auto& obj = doc.get_object();
    std::string code = json_text(obj.if_contains("error_code"));
    std::string msg = json_text(obj.if_contains("error_msg"));
    if (code.empty() && msg.empty()) {
      if (const auto* err = obj.if_contains("error"); err != nullptr && err->is_object()) {
        code = json_text(err->get_object().if_contains("code"));
        msg = json_text(err->get_object().if_contains("message"));
      }
    }
    if (code.empty() && msg.empty()) {
      code = json_text(obj.if_contains("code"));
      msg = json_text(obj.if_contains("message"));
    }
    if (!code.empty() || !msg.empty()) {
      answer.error_code = clean_text(code);
      answer.error_msg = clean_text(msg);
      return;
    }
  }
  answer.error_msg = clean_text(body);
}

AnswerKind kind_for_status(unsigned status) {
  if (status >= 200 && status < 300) return AnswerKind::ok;  // refined by the body
  switch (status) {
    case 401:
      return AnswerKind::unauthorized;
    case 404:
      return AnswerKind::not_found;
    case 429:
    case 503:
      return AnswerKind::throttled;
    default:
      break;
  }
  if (status >= 400 && status < 500) return AnswerKind::rejected;
  // 5xx, and 1xx/3xx/nonsense that a JSON API has no business sending: a
  // server-side problem worth retrying, never a reason to end the watch.
  return AnswerKind::server_error;
}

}  // namespace

Answer classify_response(unsigned http_status, std::string_view retry_after, std::string_view body,
                         std::chrono::system_clock::time_point now, model::Api api,
                         std::string_view date) {
  Answer answer;
  answer.http_status = http_status;
  answer.kind = kind_for_status(http_status);
  if (!date.empty()) answer.server_date = parse_http_date(date);
  if (!retry_after.empty())
    answer.retry_after = parse_retry_after(retry_after, answer.server_date.value_or(now));

  if (answer.kind == AnswerKind::ok) {
    auto parsed = model::mapping(api).parse(body);
    if (auto* job = std::get_if<model::JobSnapshot>(&parsed)) {
      answer.job = std::move(*job);
    } else {
      answer.kind = AnswerKind::malformed;
      answer.error_msg = clean_text(std::get<model::ParseError>(parsed).message);
    }
    return answer;
  }
  read_error_body(body, answer);
  return answer;
}

}  // namespace jobwatch::upstream
