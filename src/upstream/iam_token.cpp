// The pure half of iam-password auth: the token request, reading IAM's
// answer, and the timing rules (refresh margin, backoff).
#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <cmath>

#include "jobwatch/model/time.hpp"
#include "jobwatch/upstream/answer.hpp"
#include "jobwatch/upstream/iam_password.hpp"

namespace jobwatch::upstream::iam {
namespace json = boost::json;

std::string token_request_body(const Credentials& c) {
  json::object user{{"name", c.user}, {"password", c.password}, {"domain", {{"name", c.domain}}}};
  json::object identity{{"methods", json::array{"password"}},
                        {"password", json::object{{"user", std::move(user)}}}};
  json::object scope{{"project", {{"id", c.project_id}}}};
  json::object auth{{"identity", std::move(identity)}, {"scope", std::move(scope)}};
  return json::serialize(json::object{{"auth", std::move(auth)}});
}

namespace {

// IAM's own error body is {"error":{"code":…,"message":…}}; the gateway in
// front of it answers {"error_code":…,"error_msg":…}.
std::string describe_failure(unsigned status, std::string_view body) {
  boost::system::error_code ec;
  json::value doc = json::parse(body, ec);
  if (!ec && doc.is_object()) {
    if (auto* error = doc.as_object().if_contains("error"); error && error->is_object()) {
      if (auto* message = error->as_object().if_contains("message");
          message && message->is_string()) {
        std::string text = "HTTP " + std::to_string(status) + ": ";
        text.append(message->as_string().data(),
                    std::min<std::size_t>(message->as_string().size(), 200));
        return text;
      }
    }
  }
  return classify_response(status, {}, body, Clock::now()).describe();
}

bool has_control(std::string_view text) {
  return std::any_of(text.begin(), text.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7F; });
}

}  // namespace

std::variant<IssuedToken, std::string> parse_token_response(unsigned status,
                                                            std::string_view subject_token,
                                                            std::string_view body) {
  if (status != 200 && status != 201) return describe_failure(status, body);
  if (subject_token.empty()) return std::string("IAM answer has no X-Subject-Token header");
  if (has_control(subject_token)) {
    return std::string("IAM answer's X-Subject-Token contains control characters");
  }
  boost::system::error_code ec;
  json::value doc = json::parse(body, ec);
  const json::value* expires = nullptr;
  if (!ec && doc.is_object()) {
    if (auto* token = doc.as_object().if_contains("token"); token && token->is_object()) {
      expires = token->as_object().if_contains("expires_at");
    }
  }
  if (expires == nullptr || !expires->is_string()) {
    return std::string("IAM answer has no token.expires_at");
  }
  auto when = model::parse_rfc3339(expires->as_string());
  if (!when) return std::string("IAM answer's token.expires_at is not an RFC 3339 time");
  return IssuedToken{std::string(subject_token),
                     std::chrono::time_point_cast<Clock::duration>(*when)};
}

Clock::duration refresh_margin(Clock::duration lifetime) {
  if (lifetime <= Clock::duration::zero()) return Clock::duration::zero();
  return std::min<Clock::duration>(lifetime / 10, std::chrono::minutes(5));
}

std::chrono::milliseconds backoff_delay(int failures, double jitter) {
  using std::chrono::milliseconds;
  const int doublings = std::clamp(failures - 1, 0, 6);  // 2^6 s > the cap already
  const milliseconds base = std::min(milliseconds(1000) * (1 << doublings), milliseconds(60'000));
  const double factor = 1.0 + 0.2 * std::clamp(jitter, -1.0, 1.0);
  return milliseconds(std::llround(static_cast<double>(base.count()) * factor));
}

std::string short_duration(Clock::duration d) {
  using namespace std::chrono;
  auto s = std::max<long long>(0, duration_cast<seconds>(d + milliseconds(500)).count());
  if (s < 60) return std::to_string(s) + "s";
  if (s < 3600) return std::to_string(s / 60) + "m";
  std::string text = std::to_string(s / 3600) + "h";
  if ((s % 3600) / 60 != 0) text += std::to_string((s % 3600) / 60) + "m";
  return text;
}

}  // namespace jobwatch::upstream::iam
