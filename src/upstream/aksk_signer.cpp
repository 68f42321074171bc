// SDK-HMAC-SHA256: the canonical request, string to sign and signature as
// huaweicloud-sdk-go-v3's core/auth/signer builds them; and the checks the
// API gateway makes, for the simulator.
#include "jobwatch/upstream/aksk_signer.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <cctype>
#include <cstdio>
#include <ctime>
#include <map>

#include "jobwatch/upstream/answer.hpp"
#include "jobwatch/upstream/http_pool.hpp"

namespace jobwatch::upstream::aksk {
namespace {

using std::chrono::system_clock;

constexpr char hex_digits[] = "0123456789abcdef";

std::string to_hex(const unsigned char* data, std::size_t size) {
  std::string out;
  out.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    out += hex_digits[data[i] >> 4];
    out += hex_digits[data[i] & 0xF];
  }
  return out;
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view text) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!text.empty() && space(text.front())) text.remove_prefix(1);
  while (!text.empty() && space(text.back())) text.remove_suffix(1);
  return text;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// A malformed escape stays as it is, like a lenient URL parser.
std::string decode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%' && i + 2 < text.size()) {
      int hi = hex_value(text[i + 1]);
      int lo = hex_value(text[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out += (plus_is_space && c == '+') ? ' ' : c;
  }
  return out;
}

std::optional<std::string_view> find_header(const std::vector<HeaderView>& headers,
                                            std::string_view lower_name) {
  for (const auto& [name, value] : headers) {
    if (lower(name) == lower_name) return value;
  }
  return std::nullopt;
}

bool same_secret(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool contains_ci(std::string_view haystack, std::string_view needle) {
  return lower(haystack).find(needle) != std::string::npos;
}

}  // namespace

std::string format_sdk_date(system_clock::time_point t) {
  std::time_t seconds = system_clock::to_time_t(t);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  std::array<char, 32> buffer{};
  std::strftime(buffer.data(), buffer.size(), "%Y%m%dT%H%M%SZ", &utc);
  return buffer.data();
}

std::optional<system_clock::time_point> parse_sdk_date(std::string_view text) {
  if (text.size() != 16 || text[8] != 'T' || text[15] != 'Z') return std::nullopt;
  auto number = [&](std::size_t at, std::size_t len) -> int {
    int value = 0;
    for (std::size_t i = at; i < at + len; ++i) {
      if (!std::isdigit(static_cast<unsigned char>(text[i]))) return -1;
      value = value * 10 + (text[i] - '0');
    }
    return value;
  };
  int year = number(0, 4), month = number(4, 2), day = number(6, 2);
  int hour = number(9, 2), minute = number(11, 2), second = number(13, 2);
  if (year < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 ||
      minute > 59 || second < 0 || second > 60) {
    return std::nullopt;
  }
  std::chrono::year_month_day date{std::chrono::year(year),
                                   std::chrono::month(static_cast<unsigned>(month)),
                                   std::chrono::day(static_cast<unsigned>(day))};
  if (!date.ok()) return std::nullopt;
  return std::chrono::sys_days(date) + std::chrono::hours(hour) + std::chrono::minutes(minute) +
         std::chrono::seconds(second);
}

// The SDK's unreserved set (A-Z a-z 0-9 - _ . ~, uppercase hex) is the
// same as the pool's URL path encoding.
std::string encode(std::string_view text) {
  return percent_encode(text);
}

std::string canonical_uri(std::string_view path) {
  std::string out;
  std::size_t start = 0;
  while (true) {
    std::size_t slash = path.find('/', start);
    out += encode(decode(path.substr(start, slash - start), false));
    if (slash == std::string_view::npos) break;
    out += '/';
    start = slash + 1;
  }
  if (out.empty() || out.back() != '/') out += '/';
  return out;
}

std::string canonical_query(std::string_view query) {
  std::map<std::string, std::vector<std::string>> params;
  std::size_t start = 0;
  while (start <= query.size()) {
    std::size_t amp = query.find('&', start);
    std::string_view pair = query.substr(start, amp - start);
    if (!pair.empty()) {
      std::size_t eq = pair.find('=');
      std::string key = decode(pair.substr(0, eq), true);
      std::string value = eq == std::string_view::npos ? "" : decode(pair.substr(eq + 1), true);
      params[std::move(key)].push_back(std::move(value));
    }
    if (amp == std::string_view::npos) break;
    start = amp + 1;
  }
  std::string out;
  for (auto& [key, values] : params) {
    std::sort(values.begin(), values.end());
    for (const auto& value : values) {
      if (!out.empty()) out += '&';
      out += encode(key) + "=" + encode(value);
    }
  }
  return out;
}

std::vector<std::string> normalize_signed_names(std::vector<std::string> names) {
  for (auto& name : names) name = lower(trim(name));
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  names.erase(std::remove(names.begin(), names.end(), std::string()), names.end());
  return names;
}

std::string canonical_headers(const std::vector<HeaderView>& headers,
                              const std::vector<std::string>& signed_names) {
  std::string out;
  for (const auto& name : signed_names) {
    std::vector<std::string_view> values;
    for (const auto& [header, value] : headers) {
      if (lower(header) == name) values.push_back(trim(value));
    }
    std::sort(values.begin(), values.end());
    for (auto value : values) {
      out += name;
      out += ':';
      out += value;
      out += '\n';
    }
  }
  return out;
}

std::string canonical_request(const MessageView& message,
                              const std::vector<std::string>& signed_names) {
  std::string_view target = message.target;
  std::size_t question = target.find('?');
  std::string_view path = target.substr(0, question);
  std::string_view query =
      question == std::string_view::npos ? std::string_view() : target.substr(question + 1);
  std::string names;
  for (const auto& name : signed_names) {
    if (!names.empty()) names += ';';
    names += name;
  }
  std::string out(message.method);
  out += '\n';
  out += canonical_uri(path);
  out += '\n';
  out += canonical_query(query);
  out += '\n';
  out += canonical_headers(message.headers, signed_names);
  out += '\n';
  out += names;
  out += '\n';
  out += sha256_hex(message.body);
  return out;
}

std::string string_to_sign(std::string_view canonical_request, std::string_view sdk_date) {
  std::string out(algorithm);
  out += '\n';
  out += sdk_date;
  out += '\n';
  out += sha256_hex(canonical_request);
  return out;
}

std::string sha256_hex(std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  EVP_Digest(data.data(), data.size(), digest.data(), &size, EVP_sha256(), nullptr);
  return to_hex(digest.data(), size);
}

std::string signature(std::string_view secret_key, std::string_view string_to_sign) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int size = 0;
  HMAC(EVP_sha256(), secret_key.data(), static_cast<int>(secret_key.size()),
       reinterpret_cast<const unsigned char*>(string_to_sign.data()), string_to_sign.size(),
       mac.data(), &size);
  return to_hex(mac.data(), size);
}

std::optional<std::string> authorization(std::string_view access_key, std::string_view secret_key,
                                         const MessageView& message,
                                         std::vector<std::string> signed_names) {
  auto date = find_header(message.headers, "x-sdk-date");
  if (!date) return std::nullopt;
  signed_names = normalize_signed_names(std::move(signed_names));
  std::string names;
  for (const auto& name : signed_names) {
    if (!names.empty()) names += ';';
    names += name;
  }
  std::string sig =
      signature(secret_key, string_to_sign(canonical_request(message, signed_names), *date));
  return std::string(algorithm) + " Access=" + std::string(access_key) +
         ", SignedHeaders=" + names + ", Signature=" + sig;
}

std::string_view verify_result_name(VerifyResult result) {
  switch (result) {
    case VerifyResult::ok:
      return "ok";
    case VerifyResult::unsigned_request:
      return "unsigned";
    case VerifyResult::malformed:
      return "malformed";
    case VerifyResult::unknown_key:
      return "unknown access key";
    case VerifyResult::bad_signature:
      return "bad signature";
    case VerifyResult::skewed:
      return "request time skewed";
  }
  return "unknown";
}

VerifyResult verify(const MessageView& message, std::string_view access_key,
                    std::string_view secret_key, system_clock::time_point now,
                    std::chrono::seconds max_skew) {
  auto header = find_header(message.headers, "authorization");
  if (!header) return VerifyResult::unsigned_request;
  std::string_view value = trim(*header);
  if (!value.starts_with(algorithm) || value.size() == algorithm.size() ||
      value[algorithm.size()] != ' ') {
    return VerifyResult::unsigned_request;
  }
  value.remove_prefix(algorithm.size() + 1);
  std::optional<std::string_view> access, names, sig;
  std::size_t start = 0;
  while (start <= value.size()) {
    std::size_t comma = value.find(',', start);
    std::string_view part = trim(value.substr(start, comma - start));
    std::size_t eq = part.find('=');
    if (eq != std::string_view::npos) {
      std::string_view key = part.substr(0, eq);
      std::string_view v = part.substr(eq + 1);
      if (key == "Access") access = v;
      if (key == "SignedHeaders") names = v;
      if (key == "Signature") sig = v;
    }
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  if (!access || !names || !sig) return VerifyResult::malformed;
  std::vector<std::string> signed_names;
  std::size_t from = 0;
  while (from <= names->size()) {
    std::size_t semi = names->find(';', from);
    signed_names.emplace_back(names->substr(from, semi - from));
    if (semi == std::string_view::npos) break;
    from = semi + 1;
  }
  // Recomputed over the list exactly as sent: a reordered list is a
  // different signature, as at the gateway.
  if (std::find(signed_names.begin(), signed_names.end(), "x-sdk-date") == signed_names.end()) {
    return VerifyResult::malformed;
  }
  auto date_text = find_header(message.headers, "x-sdk-date");
  if (!date_text) return VerifyResult::malformed;
  auto signed_at = parse_sdk_date(trim(*date_text));
  if (!signed_at) return VerifyResult::malformed;
  if (!same_secret(*access, access_key)) return VerifyResult::unknown_key;
  std::string expected = signature(
      secret_key, string_to_sign(canonical_request(message, signed_names), trim(*date_text)));
  if (!same_secret(*sig, expected)) return VerifyResult::bad_signature;
  auto skew = *signed_at > now ? *signed_at - now : now - *signed_at;
  if (skew > max_skew) return VerifyResult::skewed;
  return VerifyResult::ok;
}

std::optional<std::chrono::seconds> corrected_clock_offset(unsigned status, std::string_view body,
                                                           std::string_view date_header,
                                                           system_clock::time_point local_now,
                                                           std::chrono::seconds current_offset) {
  if (status != 401) return std::nullopt;
  auto server_time = parse_http_date(trim(date_header));
  if (!server_time) return std::nullopt;
  std::string code;
  std::string message;
  boost::system::error_code ec;
  boost::json::value parsed = boost::json::parse(body, ec);
  if (!ec && parsed.is_object()) {
    const auto& object = parsed.as_object();
    if (auto* c = object.if_contains("error_code"); c && c->is_string()) code = c->as_string();
    if (auto* m = object.if_contains("error_msg"); m && m->is_string()) message = m->as_string();
  }
  bool names_time = code == "APIGW.0303" || code == "APIGW.0304" ||
                    contains_ci(message, "expired") || contains_ci(message, "skew") ||
                    contains_ci(message, "time");
  auto offset = std::chrono::duration_cast<std::chrono::seconds>(*server_time - local_now);
  auto drift = offset - current_offset;
  bool off = drift > std::chrono::minutes(5) || drift < -std::chrono::minutes(5);
  if (!names_time && !off) return std::nullopt;
  return off ? offset : current_offset;
}

}  // namespace jobwatch::upstream::aksk
