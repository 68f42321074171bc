#include "jobwatch/upstream/request_text.hpp"

#include <boost/beast/http/verb.hpp>
#include <charconv>

namespace jobwatch::upstream {
namespace {

namespace http = boost::beast::http;

bool same_name(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

bool names(const HttpRequest& request, std::string_view name) {
  for (const auto& [header, value] : request.headers)
    if (same_name(header, name)) return true;
  return false;
}

void append_field(std::string& out, std::string_view name, std::string_view value) {
  out.append(name).append(": ");
  const std::size_t start = out.size();
  out.append(value);
  for (std::size_t i = start; i < out.size(); ++i)
    if (out[i] == '\r' || out[i] == '\n') out[i] = ' ';
  out.append("\r\n");
}

bool carries_body(http::verb method) {
  return method == http::verb::post || method == http::verb::put || method == http::verb::patch;
}

}  // namespace

void render_request(std::string& out, const HttpRequest& request, std::string_view host,
                    std::string_view user_agent) {
  out.clear();
  out.append(http::to_string(request.method)).push_back(' ');
  out.append(request.target).append(" HTTP/1.1\r\n");
  if (!names(request, "Host")) append_field(out, "Host", host);
  if (!user_agent.empty() && !names(request, "User-Agent"))
    append_field(out, "User-Agent", user_agent);
  for (const auto& [name, value] : request.headers) append_field(out, name, value);
  if (!names(request, "Connection")) append_field(out, "Connection", "keep-alive");
  if (!request.body.empty() || carries_body(request.method)) {
    char digits[24];
    const auto end = std::to_chars(digits, digits + sizeof digits, request.body.size()).ptr;
    append_field(out, "Content-Length", std::string_view(digits, end - digits));
  }
  out.append("\r\n").append(request.body);
}

}  // namespace jobwatch::upstream
