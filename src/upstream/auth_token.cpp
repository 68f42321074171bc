// api.auth.type token: a static X-Auth-Token. A 401 cannot be helped by
// retrying, so invalidate() keeps the default (false).
#include <utility>

#include "authenticators.hpp"

namespace jobwatch::upstream::detail {
namespace {

class TokenAuthenticator final : public Authenticator {
 public:
  explicit TokenAuthenticator(std::string token) : token_(std::move(token)) {}
  void prepare(HttpRequest& request, const Origin&, Ready ready) override {
    request.headers.emplace_back("X-Auth-Token", token_);
    ready(std::nullopt);
  }
  std::string describe() const override { return "token"; }

 private:
  std::string token_;
};

}  // namespace

std::unique_ptr<Authenticator> make_token_authenticator(std::string token) {
  return std::make_unique<TokenAuthenticator>(std::move(token));
}

}  // namespace jobwatch::upstream::detail
