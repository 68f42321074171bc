// Forward-proxy support: the proxy URL (with optional user info for Basic
// auth) and the CONNECT exchange. Messages never quote the URL or the
// credentials.
#include "proxy.hpp"

#include <openssl/evp.h>

#include <vector>

namespace jobwatch::upstream {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// User info is percent-encoded in a URL (RFC 3986 §3.2.1).
std::optional<std::string> percent_decode(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;
    int high = hex_value(text[i + 1]);
    int low = hex_value(text[i + 2]);
    if (high < 0 || low < 0) return std::nullopt;
    out += static_cast<char>(high * 16 + low);
    i += 2;
  }
  return out;
}

std::string base64(std::string_view data) {
  std::vector<unsigned char> out(4 * ((data.size() + 2) / 3) + 1);
  int n = EVP_EncodeBlock(out.data(), reinterpret_cast<const unsigned char*>(data.data()),
                          static_cast<int>(data.size()));
  return std::string(reinterpret_cast<const char*>(out.data()), static_cast<std::size_t>(n));
}

// The proxy's reason phrase is untrusted text headed for logs.
std::string printable(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, 80)) out += (c >= 0x20 && c < 0x7F) ? c : '?';
  return out;
}

}  // namespace

std::variant<ProxyUrl, std::string> parse_proxy_url(std::string_view url) {
  constexpr std::string_view scheme = "http://";
  std::string lower(url.substr(0, scheme.size()));
  for (char& c : lower) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  if (lower != scheme) {
    return std::string("the proxy must be an http:// URL (TLS runs inside the tunnel)");
  }
  std::string_view rest = url.substr(scheme.size());
  auto authority_end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, authority_end);
  ProxyUrl out;
  if (auto at = authority.rfind('@'); at != std::string_view::npos) {
    std::string_view userinfo = authority.substr(0, at);
    auto colon = userinfo.find(':');
    auto user = percent_decode(userinfo.substr(0, colon));
    auto password = percent_decode(colon == std::string_view::npos ? std::string_view{}
                                                                   : userinfo.substr(colon + 1));
    if (!user || !password || user->empty()) {
      return std::string("the proxy URL has malformed user info");
    }
    out.authorization = "Basic " + base64(*user + ":" + *password);
    rest.remove_prefix(at + 1);
  }
  auto parsed = parse_url(std::string(scheme) + std::string(rest));
  if (auto* error = std::get_if<std::string>(&parsed)) return "proxy " + *error;
  auto& parsed_url = std::get<ParsedUrl>(parsed);
  if (parsed_url.target != "/") return std::string("the proxy URL must not have a path");
  out.origin = std::move(parsed_url.origin);
  return out;
}

namespace detail {

std::string connect_request(const Origin& target, const std::string& authorization) {
  std::string where = authority(target);
  std::string request = "CONNECT " + where + " HTTP/1.1\r\nHost: " + where + "\r\n";
  if (!authorization.empty()) request += "Proxy-Authorization: " + authorization + "\r\n";
  request += "\r\n";
  return request;
}

std::optional<std::string> connect_refusal(unsigned status, std::string_view reason,
                                           bool sent_credentials, const std::string& proxy,
                                           const std::string& target) {
  if (status >= 200 && status < 300) return std::nullopt;
  std::string answer = std::to_string(status);
  if (!reason.empty()) answer += " " + printable(reason);
  if (status == 407) {
    return "proxy " + proxy +
           (sent_credentials ? " rejected the proxy credentials (" : " requires authentication (") +
           answer + ")";
  }
  return "proxy " + proxy + " refused to tunnel to " + target + ": " + answer;
}

}  // namespace detail
}  // namespace jobwatch::upstream
