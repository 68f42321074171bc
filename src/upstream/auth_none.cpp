// api.auth.type none: requests go out as they are (simulators, proxies that
// add credentials themselves).
#include "authenticators.hpp"

namespace jobwatch::upstream::detail {
namespace {

class NoneAuthenticator final : public Authenticator {
 public:
  void prepare(HttpRequest&, const Origin&, Ready ready) override { ready(std::nullopt); }
  std::string describe() const override { return "none"; }
};

}  // namespace

std::unique_ptr<Authenticator> make_none_authenticator() {
  return std::make_unique<NoneAuthenticator>();
}

}  // namespace jobwatch::upstream::detail
