// api.auth.type aksk: every request is signed (SDK-HMAC-SHA256) with the
// AK/SK, carrying X-Project-Id and, for temporary credentials,
// X-Security-Token. The gateway refuses signatures more than 15 min off its
// clock, so a 401 that says so moves our X-Sdk-Date to its Date header.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/beast/http/field.hpp>
#include <utility>

#include "authenticators.hpp"
#include "jobwatch/config/config.hpp"
#include "jobwatch/config/secrets.hpp"
#include "jobwatch/upstream/aksk_signer.hpp"

namespace jobwatch::upstream::detail {
namespace {

using std::chrono::system_clock;

bool has_control(std::string_view text) {
  return std::any_of(text.begin(), text.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7F; });
}

// "/prefix/v1/{project_id}/job/{job_id}" → project_id; empty otherwise.
std::string project_in_target(std::string_view target) {
  std::string_view path = target.substr(0, target.find('?'));
  std::size_t job = path.rfind("/job/");
  if (job == std::string_view::npos || job == 0) return {};
  std::size_t start = path.rfind('/', job - 1);
  if (start == std::string_view::npos) return {};
  std::string_view project = path.substr(start + 1, job - start - 1);
  // IDs are sent percent-encoded; a valid one never needed it, so an
  // escaped one is left to the default.
  if (project.find('%') != std::string_view::npos) return {};
  return std::string(project);
}

class AkskAuthenticator final : public Authenticator {
 public:
  AkskAuthenticator(std::string access_key, std::string secret_key, std::string security_token,
                    std::string project_id)
      : access_key_(std::move(access_key)),
        secret_key_(std::move(secret_key)),
        security_token_(std::move(security_token)),
        project_id_(std::move(project_id)) {}

  void prepare(HttpRequest& request, const Origin& origin, Ready ready) override {
    std::string project = project_in_target(request.target);
    if (project.empty()) project = project_id_;
    std::vector<std::string> names = {"host", "x-sdk-date"};
    request.headers.emplace_back("Host", host_header(origin));
    request.headers.emplace_back("X-Sdk-Date", aksk::format_sdk_date(now()));
    if (!project.empty()) {
      request.headers.emplace_back("X-Project-Id", std::move(project));
      names.emplace_back("x-project-id");
    }
    if (!security_token_.empty()) {
      request.headers.emplace_back("X-Security-Token", security_token_);
      names.emplace_back("x-security-token");
    }
    aksk::MessageView message;
    message.method = std::string_view(boost::beast::http::to_string(request.method));
    message.target = request.target;
    message.body = request.body;
    for (const auto& [name, value] : request.headers) message.headers.emplace_back(name, value);
    auto value = aksk::authorization(access_key_, secret_key_, message, std::move(names));
    // X-Sdk-Date was added above, so there is always a value.
    request.headers.emplace_back("Authorization", value ? std::move(*value) : std::string());
    ready(std::nullopt);
  }

  bool on_unauthorized(const HttpResponse& response) override {
    auto date = response.headers[boost::beast::http::field::date];
    auto offset = aksk::corrected_clock_offset(response.status, response.body,
                                               std::string_view(date.data(), date.size()),
                                               system_clock::now(), offset_);
    if (!offset) return invalidate();
    if (*offset != offset_) {
      spdlog::warn("upstream: the API gateway's clock is {}s from ours; signing with its time",
                   offset->count());
      offset_ = *offset;
    }
    return true;
  }

  std::string describe() const override {
    // The AK identifies the account; a prefix is enough to tell keys apart.
    return "aksk (AccessKey " +
           access_key_.substr(0, std::min<std::size_t>(4, access_key_.size() / 2)) + "…)";
  }

 private:
  system_clock::time_point now() const { return system_clock::now() + offset_; }

  std::string access_key_;
  std::string secret_key_;
  std::string security_token_;
  std::string project_id_;
  std::chrono::seconds offset_{0};  // the gateway's clock minus ours
};

}  // namespace

std::variant<std::unique_ptr<Authenticator>, std::string> make_aksk_authenticator(
    const config::ApiConfig& api) {
  const auto& auth = api.auth;
  if (auth.access_key.empty()) return std::string("api.auth.access_key: not set");
  if (has_control(auth.access_key)) {
    return std::string("api.auth.access_key: contains control characters");
  }
  auto secret = config::read_secret(auth.secret_key, "api.auth.secret_key");
  if (auto* error = std::get_if<config::SecretError>(&secret)) return std::move(error->message);
  std::string secret_key = std::move(std::get<std::string>(secret));
  if (secret_key.empty()) return std::string("api.auth.secret_key: the secret key is empty");
  std::string token;
  if (!auth.security_token.inline_value.empty() || !auth.security_token.file.empty()) {
    auto read = config::read_secret(auth.security_token, "api.auth.security_token");
    if (auto* error = std::get_if<config::SecretError>(&read)) return std::move(error->message);
    token = std::move(std::get<std::string>(read));
    // It goes into a header line: a newline would end the header early.
    if (has_control(token)) {
      return std::string("api.auth.security_token: contains control characters");
    }
  }
  return std::unique_ptr<Authenticator>(std::make_unique<AkskAuthenticator>(
      auth.access_key, std::move(secret_key), std::move(token), api.project_id));
}

}  // namespace jobwatch::upstream::detail
