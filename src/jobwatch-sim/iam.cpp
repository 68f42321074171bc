#include "iam.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cstdio>

#include "jobwatch/model/time.hpp"

namespace jobwatch::sim {

namespace json = boost::json;

namespace {

// IAM's own error shape (not the API gateway's error_code/error_msg).
IamIssue iam_error(unsigned status, std::string_view title, std::string_view message) {
  IamIssue out;
  out.status = status;
  out.body = json::serialize(json::object{
      {"error", {{"code", std::to_string(status)}, {"message", message}, {"title", title}}}});
  return out;
}

const json::value* at_path(const json::value& v, std::initializer_list<std::string_view> keys) {
  const json::value* cur = &v;
  for (auto key : keys) {
    if (!cur->is_object()) return nullptr;
    cur = cur->as_object().if_contains(key);
    if (!cur) return nullptr;
  }
  return cur;
}

std::optional<std::string_view> string_at(const json::value& v,
                                          std::initializer_list<std::string_view> keys) {
  const json::value* found = at_path(v, keys);
  if (!found || !found->is_string()) return std::nullopt;
  return std::string_view(found->as_string());
}

}  // namespace

FakeIam::FakeIam(IamOptions options, std::uint64_t seed)
    : options_(std::move(options)), rng_(seed ^ 0x1a3f'5eed'0000'0001ULL) {}

IamIssue FakeIam::issue(std::string_view body, SimTime wall) {
  ++requests_;
  boost::system::error_code ec;
  const json::value doc = json::parse(body, ec);
  if (ec) return iam_error(400, "Bad Request", "The request body is not valid JSON.");
  const json::value* methods = at_path(doc, {"auth", "identity", "methods"});
  bool password_method = false;
  if (methods && methods->is_array()) {
    for (const auto& m : methods->as_array()) password_method |= m.is_string() && m == "password";
  }
  const auto user = string_at(doc, {"auth", "identity", "password", "user", "name"});
  const auto password = string_at(doc, {"auth", "identity", "password", "user", "password"});
  const auto domain = string_at(doc, {"auth", "identity", "password", "user", "domain", "name"});
  const auto project = string_at(doc, {"auth", "scope", "project", "id"});
  if (!password_method || !user || !password || !domain) {
    return iam_error(400, "Bad Request", "The request must use the password method with a user.");
  }
  if (!project || project->empty()) {
    return iam_error(400, "Bad Request", "The token must be scoped to a project.");
  }
  if (*user != options_.user || *domain != options_.domain || *password != options_.password) {
    return iam_error(401, "Unauthorized", "The username or password is wrong.");
  }

  for (auto it = expiry_.begin(); it != expiry_.end();) {
    it = it->second <= wall ? expiry_.erase(it) : std::next(it);
  }
  char buf[17];
  std::string token = "MIIsim";
  for (int i = 0; i < 4; ++i) {
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(rng_()));
    token += buf;
  }
  const SimTime expires = wall + options_.token_ttl;
  expiry_[token] = expires;
  ++tokens_issued_;

  json::object t;
  t["expires_at"] = model::format_rfc3339(expires, true);
  t["issued_at"] = model::format_rfc3339(wall, true);
  t["methods"] = json::array{"password"};
  t["project"] = {{"id", *project}, {"name", "sim-project"}};
  t["user"] = {{"name", *user}, {"domain", {{"name", *domain}}}};
  IamIssue out;
  out.status = 201;
  out.body = json::serialize(json::object{{"token", std::move(t)}});
  out.token = std::move(token);
  return out;
}

bool FakeIam::valid(std::string_view token, SimTime wall) const {
  auto it = expiry_.find(std::string(token));
  return it != expiry_.end() && wall < it->second;
}

std::size_t FakeIam::expire_all(SimTime wall) {
  std::size_t live = 0;
  for (auto& [token, expires] : expiry_) {
    if (wall < expires) ++live;
    expires = std::min(expires, wall);
  }
  return live;
}

}  // namespace jobwatch::sim
