// AK/SK request signing as Huawei Cloud's SDKs do it (SDK-HMAC-SHA256), and
// its verification (for the simulator). Pure: no clock, no I/O.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace jobwatch::upstream::aksk {

inline constexpr std::string_view algorithm = "SDK-HMAC-SHA256";
// The gateway refuses a signature whose X-Sdk-Date is further than this
// from its own clock.
inline constexpr std::chrono::minutes max_clock_skew{15};

using HeaderView = std::pair<std::string_view, std::string_view>;

// What gets signed: the request as it goes on the wire.
struct MessageView {
  std::string_view method;  // "GET"
  std::string_view target;  // path and query as sent (already percent-encoded)
  std::vector<HeaderView> headers;
  std::string_view body;
};

// "20060102T150405Z" (UTC, whole seconds).
std::string format_sdk_date(std::chrono::system_clock::time_point t);
std::optional<std::chrono::system_clock::time_point> parse_sdk_date(std::string_view text);

// Percent-encodes all but A-Z a-z 0-9 - _ . ~ (uppercase hex).
std::string encode(std::string_view text);
// Each segment of `path` (percent-decoded first, so an encoded target and
// its plain form agree) encoded, with a trailing '/'.
std::string canonical_uri(std::string_view path);
// key=value pairs encoded and sorted (by key, then value), joined by '&'.
std::string canonical_query(std::string_view query);
// "name:value\n" for each of `signed_names` (lowercase, sorted), the value
// trimmed; a header sent twice gives one line per value, sorted.
std::string canonical_headers(const std::vector<HeaderView>& headers,
                              const std::vector<std::string>& signed_names);
// Lowercased, deduplicated and sorted: the SignedHeaders list.
std::vector<std::string> normalize_signed_names(std::vector<std::string> names);
std::string canonical_request(const MessageView& message,
                              const std::vector<std::string>& signed_names);
std::string string_to_sign(std::string_view canonical_request, std::string_view sdk_date);
// Lowercase hex of HMAC-SHA256(secret_key, string_to_sign).
std::string signature(std::string_view secret_key, std::string_view string_to_sign);
std::string sha256_hex(std::string_view data);

// The Authorization header value for `message`, which must carry
// X-Sdk-Date (nullopt when it does not). `signed_names` need not be sorted.
std::optional<std::string> authorization(std::string_view access_key, std::string_view secret_key,
                                         const MessageView& message,
                                         std::vector<std::string> signed_names);

enum class VerifyResult {
  ok,
  unsigned_request,  // no Authorization, or not SDK-HMAC-SHA256
  malformed,         // unparsable Authorization or X-Sdk-Date missing/bad
  unknown_key,       // Access is not the expected AK
  bad_signature,
  skewed,  // a valid signature, but X-Sdk-Date too far from `now`
};
std::string_view verify_result_name(VerifyResult result);

// Checks `message` the way the gateway does: parse Authorization, recompute
// over its SignedHeaders (which must include x-sdk-date), compare in
// constant time, then compare X-Sdk-Date with `now`.
VerifyResult verify(const MessageView& message, std::string_view access_key,
                    std::string_view secret_key, std::chrono::system_clock::time_point now,
                    std::chrono::seconds max_skew = max_clock_skew);

// After a 401: the clock offset (server time minus local time) to sign with
// from now on when the answer says the signature's time was off, i.e. it
// names the time (APIGW.0303/0304, "expired", "skew", "time") and carries a
// Date header, or its Date header is more than 5 min from local + offset.
// The offset stays `current_offset` when Date agrees with it already (a
// concurrent request corrected it). nullopt: the 401 is not about time.
std::optional<std::chrono::seconds> corrected_clock_offset(
    unsigned status, std::string_view body, std::string_view date_header,
    std::chrono::system_clock::time_point local_now, std::chrono::seconds current_offset);

}  // namespace jobwatch::upstream::aksk
