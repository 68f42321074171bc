// URL handling for the pool: http(s) URLs in, Origin + target out. Error
// messages never repeat the URL: webhook URLs often carry a secret.
#include <optional>

#include "jobwatch/upstream/http_pool.hpp"

namespace jobwatch::upstream {
namespace {

bool starts_with_nocase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != prefix[i]) return false;
  }
  return true;
}

// ASCII only: <cctype> would consult the locale.
bool is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool valid_host_char(char c) {
  return is_alnum(c) || c == '-' || c == '.' || c == '_';
}

std::optional<unsigned short> parse_port(std::string_view text) {
  if (text.empty() || text.size() > 5) return std::nullopt;
  unsigned value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value == 0 || value > 65535) return std::nullopt;
  return static_cast<unsigned short>(value);
}

}  // namespace

std::variant<ParsedUrl, std::string> parse_url(std::string_view url) {
  ParsedUrl out;
  if (starts_with_nocase(url, "https://")) {
    out.origin.tls = true;
    out.origin.port = 443;
    url.remove_prefix(8);
  } else if (starts_with_nocase(url, "http://")) {
    out.origin.tls = false;
    out.origin.port = 80;
    url.remove_prefix(7);
  } else {
    return std::string("URL must start with http:// or https://");
  }

  auto end = url.find_first_of("/?#");
  std::string_view auth = url.substr(0, end);
  std::string_view rest = end == std::string_view::npos ? std::string_view{} : url.substr(end);
  if (auth.find('@') != std::string_view::npos) {
    return std::string("URL user info (user:password@) is not supported");
  }

  std::string_view host;
  std::string_view port_text;
  if (!auth.empty() && auth.front() == '[') {
    auto close = auth.find(']');
    if (close == std::string_view::npos) return std::string("URL has an unterminated IPv6 address");
    host = auth.substr(1, close - 1);
    auto after = auth.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return std::string("URL has junk after the IPv6 address");
      port_text = after.substr(1);
      if (port_text.empty()) return std::string("URL has an empty port");
    }
    for (char c : host) {
      if (!is_hex(c) && c != ':' && c != '.') {
        return std::string("URL has an invalid IPv6 address");
      }
    }
  } else {
    auto colon = auth.find(':');
    host = auth.substr(0, colon);
    if (colon != std::string_view::npos) {
      port_text = auth.substr(colon + 1);
      if (port_text.empty()) return std::string("URL has an empty port");
    }
    for (char c : host) {
      if (!valid_host_char(c)) return std::string("URL host contains invalid characters");
    }
  }
  if (host.empty()) return std::string("URL has no host");
  if (!port_text.empty()) {
    auto port = parse_port(port_text);
    if (!port) return std::string("URL port must be a number from 1 to 65535");
    out.origin.port = *port;
  }
  out.origin.host = std::string(host);

  if (auto hash = rest.find('#'); hash != std::string_view::npos) rest = rest.substr(0, hash);
  for (char c : rest) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7F)
      return std::string("URL path contains spaces or control characters");
  }
  if (rest.empty() || rest.front() == '?') out.target = "/";
  out.target += rest;
  return out;
}

std::string authority(const Origin& origin) {
  std::string text;
  bool v6 = origin.host.find(':') != std::string::npos;
  if (v6) text += '[';
  text += origin.host;
  if (v6) text += ']';
  text += ':';
  text += std::to_string(origin.port);
  return text;
}

std::string host_header(const Origin& origin) {
  bool v6 = origin.host.find(':') != std::string::npos;
  std::string text = v6 ? "[" + origin.host + "]" : origin.host;
  if (origin.port != (origin.tls ? 443 : 80)) text += ":" + std::to_string(origin.port);
  return text;
}

std::string percent_encode(std::string_view segment) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(segment.size());
  for (char c : segment) {
    auto u = static_cast<unsigned char>(c);
    if (is_alnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += c;
    } else {
      out += '%';
      out += hex[u >> 4];
      out += hex[u & 0x0F];
    }
  }
  return out;
}

}  // namespace jobwatch::upstream
