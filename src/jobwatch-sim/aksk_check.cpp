#include "aksk_check.hpp"

#include <boost/beast/core/string.hpp>
#include <ctime>

#include "jobwatch/upstream/aksk_signer.hpp"

namespace jobwatch::sim {

namespace aksk = jobwatch::upstream::aksk;

std::string format_http_date(SimTime t) {
  std::time_t seconds = std::chrono::system_clock::to_time_t(t);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buffer[64];
  std::strftime(buffer, sizeof buffer, "%a, %d %b %Y %H:%M:%S GMT", &utc);
  return buffer;
}

std::optional<AkskRefusal> check_aksk(
    const AkskOptions& options, std::string_view method, std::string_view target,
    const std::vector<std::pair<std::string_view, std::string_view>>& headers,
    std::string_view body, SimTime wall) {
  const SimTime gateway_now = wall + options.clock_skew;
  aksk::MessageView message{method, target, headers, body};
  auto result = aksk::verify(message, options.access_key, options.secret_key, gateway_now);
  if (result == aksk::VerifyResult::ok) return std::nullopt;
  if (result == aksk::VerifyResult::skewed) {
    std::string signed_at;
    for (const auto& [name, value] : headers) {
      if (boost::beast::iequals(name, "X-Sdk-Date")) signed_at = value;
    }
    // As API Gateway words it.
    return AkskRefusal{"APIGW.0303",
                       "Incorrect app authentication information: signature expired, signature "
                       "time:" +
                           signed_at + ",server time:" + aksk::format_sdk_date(gateway_now),
                       format_http_date(gateway_now)};
  }
  return AkskRefusal{"APIGW.0301",
                     "Incorrect IAM authentication information: verify aksk signature fail", ""};
}

}  // namespace jobwatch::sim
