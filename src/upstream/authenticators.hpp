// The Authenticator implementations make_authenticator chooses from, one
// per api.auth.type. Private to src/upstream.
#pragma once

#include "jobwatch/upstream/auth.hpp"

#include <memory>
#include <string>

namespace jobwatch::upstream::detail {

std::unique_ptr<Authenticator> make_none_authenticator();
// `token` has been checked: non-empty, no control characters.
std::unique_ptr<Authenticator> make_token_authenticator(std::string token);

}  // namespace jobwatch::upstream::detail
