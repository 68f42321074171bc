#include "syntax.hpp"

#include <algorithm>
#include <charconv>
#include <vector>

namespace jobwatch::config::detail {
namespace {

bool is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool is_ipv6_literal(std::string_view text) {  // "[...]"
  if (text.size() < 4 || text.front() != '[' || text.back() != ']') return false;
  auto inner = text.substr(1, text.size() - 2);
  return std::all_of(inner.begin(), inner.end(),
                     [](char c) {
                       return c == ':' || c == '.' || (c >= '0' && c <= '9') ||
                              (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
                     }) &&
         inner.find(':') != std::string_view::npos;
}

std::optional<int> parse_port(std::string_view text) {
  if (text.empty() || text.size() > 5) return std::nullopt;
  int port = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
  if (ec != std::errc{} || end != text.data() + text.size() || port > 65535) return std::nullopt;
  return port;
}

// Splits "host[:port]"; port_text is empty when there is no port.
bool split_host_port(std::string_view authority, std::string_view& host,
                     std::string_view& port_text, bool& has_port) {
  has_port = false;
  if (!authority.empty() && authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos) return false;
    host = authority.substr(0, close + 1);
    auto after = authority.substr(close + 1);
    if (after.empty()) return true;
    if (after.front() != ':') return false;
    has_port = true;
    port_text = after.substr(1);
    return true;
  }
  auto colon = authority.rfind(':');
  if (colon == std::string_view::npos) {
    host = authority;
    return true;
  }
  host = authority.substr(0, colon);
  port_text = authority.substr(colon + 1);
  has_port = true;
  return true;
}

bool is_host(std::string_view host) {
  return is_host_name(host) || is_ipv6_literal(host);
}

}  // namespace

bool is_host_name(std::string_view text) {
  if (text.empty() || text.size() > 253) return false;
  if (text.front() == '.' || text.front() == '-' || text.back() == '-') return false;
  if (text.find("..") != std::string_view::npos) return false;
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return is_alnum(c) || c == '-' || c == '.'; });
}

bool is_id(std::string_view text, std::size_t max_length) {
  if (text.empty() || text.size() > max_length) return false;
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return is_alnum(c) || c == '-' || c == '_'; });
}

std::variant<Url, UrlError> parse_url(std::string_view text, UrlRules rules) {
  std::string want = rules.allow_https ? "an http:// or https:// URL" : "an http:// URL";
  auto sep = text.find("://");
  if (sep == std::string_view::npos) return UrlError{"expected " + want};
  Url url;
  for (char c : text.substr(0, sep)) {
    url.scheme += static_cast<char>((c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c);
  }
  if (url.scheme != "http" && !(rules.allow_https && url.scheme == "https")) {
    return UrlError{"expected " + want};
  }
  auto rest = text.substr(sep + 3);
  auto authority_end = rest.find_first_of("/?#");
  auto authority = rest.substr(0, authority_end);
  auto tail =
      authority_end == std::string_view::npos ? std::string_view{} : rest.substr(authority_end);

  if (authority.find('@') != std::string_view::npos) {
    return UrlError{"user credentials in the URL are not supported"};
  }
  std::string_view host, port_text;
  bool has_port = false;
  if (!split_host_port(authority, host, port_text, has_port) || host.empty()) {
    return UrlError{"the URL has no host"};
  }
  if (!is_host(host)) return UrlError{"the URL's host is not a valid host name or address"};
  if (has_port) {
    auto port = parse_port(port_text);
    if (!port || *port == 0) return UrlError{"the URL's port must be 1-65535"};
    url.port = *port;
  }
  url.host = std::string(host);

  if (tail.find('#') != std::string_view::npos) return UrlError{"the URL must not have a fragment"};
  if (!rules.allow_path && !tail.empty() && tail != "/") {
    return UrlError{"the URL must not have a path or query (only scheme, host and port)"};
  }
  if (std::any_of(tail.begin(), tail.end(), [](char c) { return c <= ' ' || c == '\x7f'; })) {
    return UrlError{"the URL contains spaces or control characters"};
  }
  url.rest = std::string(tail);
  return url;
}

bool is_host_port(std::string_view text) {
  std::string_view host, port_text;
  bool has_port = false;
  if (!split_host_port(text, host, port_text, has_port) || !has_port) return false;
  return is_host(host) && parse_port(port_text).has_value();
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  // Optimal string alignment: Levenshtein plus adjacent transpositions, the
  // most common typo in a key ("lgo").
  std::size_t width = b.size() + 1;
  std::vector<std::size_t> d((a.size() + 1) * width);
  auto at = [&](std::size_t i, std::size_t j) -> std::size_t& { return d[i * width + j]; };
  for (std::size_t i = 0; i <= a.size(); ++i) at(i, 0) = i;
  for (std::size_t j = 0; j <= b.size(); ++j) at(0, j) = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      at(i, j) = std::min({at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        at(i, j) = std::min(at(i, j), at(i - 2, j - 2) + 1);
      }
    }
  }
  return at(a.size(), b.size());
}

std::optional<std::string_view> closest(std::string_view word,
                                        std::initializer_list<std::string_view> candidates) {
  std::optional<std::string_view> best;
  std::size_t best_distance = 3;  // at most 2 edits
  for (auto candidate : candidates) {
    auto distance = edit_distance(word, candidate);
    // Short words are a couple of edits from anything: "foo" is not "log".
    if (distance * 2 > word.size()) continue;
    if (distance < best_distance) {
      best_distance = distance;
      best = candidate;
    }
  }
  return best;
}

}  // namespace jobwatch::config::detail
