// The Authenticator implementations make_authenticator chooses from, one
// per api.auth.type. Private to src/upstream.
#pragma once

#include <memory>
#include <string>
#include <variant>

#include "jobwatch/upstream/auth.hpp"

namespace jobwatch::upstream::detail {

std::unique_ptr<Authenticator> make_none_authenticator();
// `token` has been checked: non-empty, no control characters.
std::unique_ptr<Authenticator> make_token_authenticator(std::string token);
// Reads api.auth.password; needs `executor` (it talks to IAM itself).
std::variant<std::unique_ptr<Authenticator>, std::string> make_iam_password_authenticator(
    const boost::asio::any_io_executor& executor, const config::ApiConfig& api);
// Reads api.auth.secret_key and security_token; signs every request.
std::variant<std::unique_ptr<Authenticator>, std::string> make_aksk_authenticator(
    const config::ApiConfig& api);

}  // namespace jobwatch::upstream::detail
