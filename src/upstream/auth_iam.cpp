// api.auth.type iam-password, the stateful half: one cached token, one
// refresh in flight however many requests wait for it, backoff after a
// failed refresh. Refreshes happen lazily, on prepare(): no timers, so an
// idle daemon does not talk to IAM.
#include <spdlog/spdlog.h>

#include <random>
#include <utility>
#include <vector>

#include "authenticators.hpp"
#include "jobwatch/config/config.hpp"
#include "jobwatch/config/secrets.hpp"
#include "jobwatch/upstream/http_job_api.hpp"
#include "jobwatch/upstream/iam_password.hpp"

namespace jobwatch::upstream::iam {
namespace {

namespace http = boost::beast::http;

class IamPasswordAuthenticator final : public Authenticator {
 public:
  IamPasswordAuthenticator(boost::asio::any_io_executor executor, Options options)
      : options_(std::move(options)),
        grace_(options_.pool.request_timeout),
        pool_(std::move(executor), options_.endpoint.origin, capped(options_.pool)),
        jitter_(std::random_device{}()) {
    if (!options_.now) options_.now = [] { return Clock::now(); };
    target_ = options_.endpoint.target == "/" ? std::string() : options_.endpoint.target;
    while (!target_.empty() && target_.back() == '/') target_.pop_back();
    target_ += "/v3/auth/tokens";
  }

  const std::string& setup_error() const { return pool_.setup_error(); }

  void prepare(HttpRequest& request, const Origin&, Ready ready) override {
    const auto now = options_.now();
    if (has_token_ && now < expires_at_) {
      // Still good: use it, and fetch its successor in the background once
      // it is close to expiry.
      if (now >= refresh_at_ && !in_flight_ && now >= next_try_) start_refresh();
      request.headers.emplace_back("X-Auth-Token", token_);
      ready(std::nullopt);
      return;
    }
    if (!in_flight_ && failures_ > 0 && now < next_try_) {
      ready(failure_message(now));
      return;
    }
    waiters_.push_back({&request, std::move(ready)});
    if (!in_flight_) start_refresh();
  }

  bool invalidate() override {
    ++invalidations_;
    const auto now = options_.now();
    if (has_token_) {
      // A 401 that arrives just after a fresh token is most likely for a
      // request sent with the old one: retry with the new token instead of
      // throwing it away (a burst of 401s costs one refresh, not one each).
      if (now - obtained_at_ < grace_) return true;
      spdlog::debug("IAM: the API answered 401; dropping the cached token");
      drop_token();
      return true;
    }
    // Already dropped: the retry waits for the refresh, unless refreshing is
    // backing off after failures.
    return in_flight_ || failures_ == 0 || now >= next_try_;
  }

  std::string describe() const override {
    const auto now = options_.now();
    std::string text = "iam-password (";
    if (failures_ > 0) {
      text += refresh_failure_text(now);
    } else if (has_token_ && now < expires_at_) {
      text += "token valid " + short_duration(expires_at_ - now);
    } else if (in_flight_) {
      text += "fetching a token";
    } else if (tokens_obtained_ > 0) {
      text += "token expired or rejected; refreshing on the next request";
    } else {
      text += "no token yet";
    }
    return text + ")";
  }

  boost::json::object stats() const override {
    const auto now = options_.now();
    boost::json::object out;
    out["type"] = "iam-password";
    out["state"] = describe();
    out["token_valid_s"] =
        has_token_ && now < expires_at_
            ? std::chrono::duration_cast<std::chrono::seconds>(expires_at_ - now).count()
            : 0;
    out["iam_requests"] = iam_requests_;
    out["tokens_obtained"] = tokens_obtained_;
    out["refresh_failures"] = refresh_failures_;
    out["consecutive_failures"] = failures_;
    out["invalidations"] = invalidations_;
    out["last_error"] = last_error_;
    return out;
  }

 private:
  struct Waiter {
    HttpRequest* request;
    Ready ready;
  };

  static PoolOptions capped(PoolOptions pool) {
    pool.max_connections = std::clamp(pool.max_connections, 1, 2);
    return pool;
  }

  void drop_token() {
    has_token_ = false;
    token_.clear();
  }

  void start_refresh() {
    in_flight_ = true;
    ++iam_requests_;
    HttpRequest request;
    request.method = http::verb::post;
    request.target = target_;
    request.headers.emplace_back("Content-Type", "application/json;charset=utf8");
    request.headers.emplace_back("Accept", "application/json");
    request.body = token_request_body(options_.credentials);
    spdlog::debug("IAM: requesting a token from {} for user {} in domain {}",
                  authority(options_.endpoint.origin), options_.credentials.user,
                  options_.credentials.domain);
    pool_.send(std::move(request), [this](HttpResult result) { on_refreshed(std::move(result)); });
  }

  void on_refreshed(HttpResult result) {
    in_flight_ = false;
    const auto now = options_.now();
    std::variant<IssuedToken, std::string> outcome;
    if (auto* error = std::get_if<TransportError>(&result)) {
      outcome = error->message;
    } else {
      auto& response = std::get<HttpResponse>(result);
      auto subject = response.headers["X-Subject-Token"];
      outcome = parse_token_response(
          response.status, std::string_view(subject.data(), subject.size()), response.body);
      if (auto* issued = std::get_if<IssuedToken>(&outcome); issued && issued->expires_at <= now) {
        outcome = std::string("IAM issued a token that has already expired (clock skew?)");
      }
    }
    auto waiters = std::exchange(waiters_, {});
    if (auto* issued = std::get_if<IssuedToken>(&outcome)) {
      token_ = std::move(issued->token);
      has_token_ = true;
      obtained_at_ = now;
      expires_at_ = issued->expires_at;
      refresh_at_ = expires_at_ - refresh_margin(expires_at_ - now);
      ++tokens_obtained_;
      if (failures_ > 0) spdlog::info("IAM: token obtained after {} failed attempt(s)", failures_);
      failures_ = 0;
      last_error_.clear();
      spdlog::debug("IAM: token obtained, valid {}", short_duration(expires_at_ - now));
      for (auto& waiter : waiters) {
        waiter.request->headers.emplace_back("X-Auth-Token", token_);
        waiter.ready(std::nullopt);
      }
      return;
    }
    ++failures_;
    ++refresh_failures_;
    last_error_ = std::get<std::string>(outcome);
    std::uniform_real_distribution<double> jitter(-1.0, 1.0);
    next_try_ = now + backoff_delay(failures_, jitter(jitter_));
    const std::string message = failure_message(now);
    spdlog::warn("{}", message);
    for (auto& waiter : waiters) waiter.ready(message);
  }

  std::string refresh_failure_text(Clock::time_point now) const {
    std::string text = "refresh failed " + std::to_string(failures_) + "×: " + last_error_;
    if (in_flight_) return text + "; retrying now";
    if (now < next_try_) return text + "; next try in " + short_duration(next_try_ - now);
    return text + "; next try on the next request";
  }

  std::string failure_message(Clock::time_point now) const {
    return "IAM token " + refresh_failure_text(now);
  }

  Options options_;
  Clock::duration grace_;
  std::string target_;
  HttpPool pool_;
  std::minstd_rand jitter_;

  bool has_token_ = false;
  std::string token_;
  Clock::time_point obtained_at_{};
  Clock::time_point expires_at_{};
  Clock::time_point refresh_at_{};

  bool in_flight_ = false;
  std::vector<Waiter> waiters_;
  int failures_ = 0;  // consecutive
  std::string last_error_;
  Clock::time_point next_try_{};

  std::uint64_t iam_requests_ = 0;
  std::uint64_t tokens_obtained_ = 0;
  std::uint64_t refresh_failures_ = 0;
  std::uint64_t invalidations_ = 0;
};

}  // namespace

std::variant<std::unique_ptr<Authenticator>, std::string> make_authenticator(
    boost::asio::any_io_executor executor, Options options) {
  auto auth = std::make_unique<IamPasswordAuthenticator>(std::move(executor), std::move(options));
  if (!auth->setup_error().empty()) return "api.tls: " + auth->setup_error();
  return std::unique_ptr<Authenticator>(std::move(auth));
}

}  // namespace jobwatch::upstream::iam

namespace jobwatch::upstream::detail {

std::variant<std::unique_ptr<Authenticator>, std::string> make_iam_password_authenticator(
    const boost::asio::any_io_executor& executor, const config::ApiConfig& api) {
  const config::AuthConfig& auth = api.auth;
  if (!executor) return std::string("api.auth: iam-password needs the daemon's event loop");
  if (auth.iam_endpoint.empty()) return std::string("api.auth.iam_endpoint: not set");
  if (auth.user.empty()) return std::string("api.auth.user: not set");
  if (auth.domain.empty()) return std::string("api.auth.domain: not set");
  if (api.project_id.empty()) {
    return std::string("api.project_id: iam-password tokens are scoped to it; not set");
  }
  auto url = parse_url(auth.iam_endpoint);
  if (auto* error = std::get_if<std::string>(&url)) return "api.auth.iam_endpoint: " + *error;
  auto secret = config::read_secret(auth.password, "api.auth.password");
  if (auto* error = std::get_if<config::SecretError>(&secret)) return std::move(error->message);
  iam::Options options;
  options.credentials = {auth.domain, auth.user, std::move(std::get<std::string>(secret)),
                         api.project_id};
  if (options.credentials.password.empty()) {
    return std::string("api.auth.password: the password is empty");
  }
  options.endpoint = std::move(std::get<ParsedUrl>(url));
  options.pool = pool_options_for(api);
  return iam::make_authenticator(executor, std::move(options));
}

}  // namespace jobwatch::upstream::detail
