// Checks for the small languages inside config values: URLs, host:port,
// identifiers; and the edit distance behind "did you mean".
#pragma once

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace jobwatch::config::detail {

struct UrlRules {
  bool allow_https = true;
  bool allow_path = false;  // false: nothing after the authority but an optional "/"
};

struct Url {
  std::string scheme;  // "http" | "https", lowercased
  std::string host;    // as written; IPv6 keeps its brackets
  int port = 0;        // 0 when not given
  std::string rest;    // path and query, may be empty
};

// Why `text` is not an acceptable URL; the reason never quotes the URL,
// which may carry credentials (webhook URLs often do).
struct UrlError {
  std::string reason;
};

// Parses "scheme://host[:port][/path][?query]". No user info, no fragment.
std::variant<Url, UrlError> parse_url(std::string_view text, UrlRules rules);

// "host:port" or "[v6]:port" with port 0..65535.
bool is_host_port(std::string_view text);

// A DNS name or an IPv4 address: letters, digits, '-', '.'.
bool is_host_name(std::string_view text);

// Characters allowed in IDs that go into upstream URL paths: A-Z a-z 0-9 - _.
bool is_id(std::string_view text, std::size_t max_length);

std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidate closest to `word` when at most 2 edits away (and those
// edits change at most half of `word`).
std::optional<std::string_view> closest(std::string_view word,
                                        std::initializer_list<std::string_view> candidates);

}  // namespace jobwatch::config::detail
