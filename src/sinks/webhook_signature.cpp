#include "jobwatch/sinks/webhook_signature.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <string>

namespace jobwatch::sinks {

std::string base64_encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(n < 0 ? 0 : static_cast<std::size_t>(n));
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  if (text.empty()) return std::string();
  std::string out(3 * text.size() / 4, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  // EVP_DecodeBlock counts the padding as zero bytes; drop them.
  std::size_t size = static_cast<std::size_t>(n);
  if (text.back() == '=') --size;
  if (text.size() >= 2 && text[text.size() - 2] == '=') --size;
  out.resize(size);
  return out;
}

std::optional<std::string> decode_webhook_secret(std::string_view secret) {
  // Secret files usually end with a newline that is not part of the secret.
  const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!secret.empty() && space(secret.front())) secret.remove_prefix(1);
  while (!secret.empty() && space(secret.back())) secret.remove_suffix(1);
  constexpr std::string_view prefix = "whsec_";
  if (secret.substr(0, prefix.size()) != prefix) return std::string(secret);
  return base64_decode(secret.substr(prefix.size()));
}

std::string sign_standard_webhook(std::string_view key_bytes, std::string_view id, std::int64_t ts,
                                  std::string_view body) {
  std::string message;
  const std::string ts_text = std::to_string(ts);
  message.reserve(id.size() + ts_text.size() + body.size() + 2);
  message.append(id).append(1, '.').append(ts_text).append(1, '.').append(body);

  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  HMAC(EVP_sha256(), key_bytes.data(), static_cast<int>(key_bytes.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac, &mac_len);
  return "v1," + base64_encode(std::string_view(reinterpret_cast<const char*>(mac), mac_len));
}

}  // namespace jobwatch::sinks
