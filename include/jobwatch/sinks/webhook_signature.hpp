// Standard Webhooks signing (https://www.standardwebhooks.com): pure
// functions over bytes, so they are tested against the reference vector.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace jobwatch::sinks {

// The HMAC key for a configured secret: the base64-decoded part after
// "whsec_", or the raw bytes of a secret without that prefix. nullopt when
// a "whsec_" secret is not valid base64. Surrounding whitespace is ignored.
std::optional<std::string> decode_webhook_secret(std::string_view secret);

// "v1," + base64(HMAC-SHA256(key, "{id}.{ts}.{body}")).
std::string sign_standard_webhook(std::string_view key_bytes, std::string_view id, std::int64_t ts,
                                  std::string_view body);

std::string base64_encode(std::string_view bytes);
std::optional<std::string> base64_decode(std::string_view text);  // nullopt: not base64

}  // namespace jobwatch::sinks
