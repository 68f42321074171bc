// make_authenticator: api.auth → the Authenticator for its type. Secrets are
// read here, once; errors name the setting or file, never the value.
#include <algorithm>

#include "authenticators.hpp"
#include "jobwatch/config/config.hpp"
#include "jobwatch/config/secrets.hpp"

namespace jobwatch::upstream {

std::variant<std::unique_ptr<Authenticator>, std::string> make_authenticator(
    const config::ApiConfig& api) {
  return make_authenticator(boost::asio::any_io_executor(), api);
}

std::variant<std::unique_ptr<Authenticator>, std::string> make_authenticator(
    const boost::asio::any_io_executor& executor, const config::ApiConfig& api) {
  switch (api.auth.type) {
    case config::AuthType::none:
      return detail::make_none_authenticator();
    case config::AuthType::token: {
      auto secret = config::read_secret(api.auth.token, "api.auth.token");
      if (auto* error = std::get_if<config::SecretError>(&secret)) return std::move(error->message);
      std::string token = std::move(std::get<std::string>(secret));
      if (token.empty()) return std::string("api.auth.token: the token is empty");
      // It goes into a header line: a newline would end the header early.
      bool has_control = std::any_of(token.begin(), token.end(), [](char c) {
        return static_cast<unsigned char>(c) < 0x20 || c == 0x7F;
      });
      if (has_control) return std::string("api.auth.token: the token contains control characters");
      return detail::make_token_authenticator(std::move(token));
    }
    case config::AuthType::iam_password:
      return detail::make_iam_password_authenticator(executor, api);
    case config::AuthType::aksk:
      return detail::make_aksk_authenticator(api);
  }
  return std::string("unknown auth type");
}

}  // namespace jobwatch::upstream
