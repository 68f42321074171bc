// The api section: where the job API is, how to authenticate, how hard to
// push it.
#include "jobwatch/model/api.hpp"

#include <algorithm>
#include <variant>

#include "sections.hpp"
#include "syntax.hpp"

namespace jobwatch::config::detail {
namespace {

constexpr std::string_view huawei_domains[] = {".myhuaweicloud.com", ".myhuaweicloud.eu"};

// The IAM endpoint that belongs with the API's region: named, or read off a
// Huawei Cloud host name such as workspace.ap-southeast-3.myhuaweicloud.com.
std::optional<std::string> default_iam_endpoint(const ApiConfig& api) {
  if (!api.region.empty()) return "https://iam." + api.region + ".myhuaweicloud.com";
  auto url = parse_url(api.endpoint, {});
  if (auto* u = std::get_if<Url>(&url)) {
    for (auto domain : huawei_domains) {
      const std::string& host = u->host;
      if (host.size() <= domain.size() || !host.ends_with(domain)) continue;
      auto labels = host.substr(0, host.size() - domain.size());  // "workspace.ap-southeast-3"
      auto dot = labels.find('.');
      if (dot == std::string::npos) continue;
      auto region = labels.substr(dot + 1);
      if (region.empty() || region.find('.') != std::string::npos) continue;
      return "https://iam." + region + std::string(domain);
    }
  }
  return std::nullopt;
}

bool is_region(std::string_view text) {
  if (text.empty() || text.size() > 64 || text.front() == '-' || text.back() == '-') return false;
  return std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

// Checks a URL-valued key; returns it without a trailing "/" when valid.
std::optional<std::string> read_url(const MapReader& map, std::string_view key, UrlRules rules) {
  auto text = map.nonempty_string(key);
  if (!text) return std::nullopt;
  auto url = parse_url(*text, rules);
  if (auto* error = std::get_if<UrlError>(&url)) {
    map.error(key, error->reason);
    return std::nullopt;
  }
  if (!rules.allow_path && text->ends_with('/')) text->pop_back();
  return text;
}

struct AuthKind {
  std::string_view name;
  AuthType type;
  Names keys;  // the keys this type uses besides `type`
};

const AuthKind auth_kinds[] = {
    {"none", AuthType::none, {}},
    {"token", AuthType::token, {"token", "token_file"}},
    {"iam-password",
     AuthType::iam_password,
     {"iam_endpoint", "domain", "user", "password", "password_file"}},
    {"aksk",
     AuthType::aksk,
     {"access_key", "secret_key", "secret_key_file", "security_token", "security_token_file"}},
};

void read_auth(const MapReader& api_map, ApiConfig& api) {
  MapReader map =
      api_map.section("auth", {"type", "token", "token_file", "iam_endpoint", "domain", "user",
                               "password", "password_file", "access_key", "secret_key",
                               "secret_key_file", "security_token", "security_token_file"});
  if (!map.present()) return;
  AuthConfig& auth = api.auth;
  if (!map.has("type")) {
    map.error_here("type is required (token, iam-password, aksk or none)");
    return;
  }
  auto type = map.choice("type", {"token", "iam-password", "aksk", "none"});
  if (!type) return;
  const AuthKind* kind = &*std::find_if(std::begin(auth_kinds), std::end(auth_kinds),
                                        [&](const AuthKind& k) { return k.name == *type; });
  auth.type = kind->type;

  // A key of another auth type is a leftover or a mistake; either way it
  // would be silently ignored.
  for (const AuthKind& other : auth_kinds) {
    for (auto key : other.keys) {
      bool used = std::find(kind->keys.begin(), kind->keys.end(), key) != kind->keys.end();
      if (!used && map.has(key)) map.error_at_key(key, "not used by auth type '" + *type + "'");
    }
  }
  auto needs = [&](std::string_view what) {
    map.error("type", "type '" + *type + "' needs " + std::string(what));
  };

  switch (auth.type) {
    case AuthType::none:
      break;
    case AuthType::token:
      auth.token = map.secret("token", "token_file");
      if (!map.has("token") && !map.has("token_file")) needs("token or token_file");
      break;
    case AuthType::iam_password: {
      if (auto v = map.nonempty_string("domain")) auth.domain = *v;
      if (auto v = map.nonempty_string("user")) auth.user = *v;
      auth.password = map.secret("password", "password_file");
      if (!map.has("domain")) needs("domain");
      if (!map.has("user")) needs("user");
      if (!map.has("password") && !map.has("password_file")) needs("password or password_file");
      if (map.has("iam_endpoint")) {
        if (auto v = read_url(map, "iam_endpoint", {})) auth.iam_endpoint = *v;
      } else if (auto derived = default_iam_endpoint(api)) {
        auth.iam_endpoint = *derived;
      } else if (!api.endpoint.empty()) {
        map.error("type",
                  "type 'iam-password' needs iam_endpoint: it cannot be derived from "
                  "api.endpoint (only from api.region or a *.myhuaweicloud.com host)");
      }
      if (api.project_id.empty()) {
        map.error("type", "type 'iam-password' needs api.project_id (the token is scoped to it)");
      }
      break;
    }
    case AuthType::aksk:
      if (auto v = map.nonempty_string("access_key")) auth.access_key = *v;
      auth.secret_key = map.secret("secret_key", "secret_key_file");
      auth.security_token = map.secret("security_token", "security_token_file");
      if (!map.has("access_key")) needs("access_key");
      if (!map.has("secret_key") && !map.has("secret_key_file")) {
        needs("secret_key or secret_key_file");
      }
      break;
  }
}

}  // namespace

void read_api(const MapReader& root, ApiConfig& api) {
  MapReader map = root.section(
      "api", {"endpoint", "region", "project_id", "auth", "request_timeout", "max_connections",
              "rate_limit", "tls", "proxy", "default_api", "desktop_endpoint"});
  if (auto v = read_url(map, "endpoint", {})) api.endpoint = *v;
  if (auto v = read_url(map, "desktop_endpoint", {})) api.desktop_endpoint = *v;
  if (auto v = map.nonempty_string("default_api")) {
    if (auto known = model::api_from_name(*v)) {
      api.default_api = *known;
    } else {
      map.error("default_api", "'" + *v + "' is not a job API (" + model::api_names() + ")");
    }
  }
  if (auto v = map.nonempty_string("region")) {
    if (is_region(*v)) {
      api.region = *v;
    } else {
      map.error("region", "'" + *v + "' is not a region name (like ap-southeast-3)");
    }
  }
  bool api_is_wrong_type = root.has("api") && !map.present() && !root.find("api")->IsNull();
  if (map.has("endpoint") && map.has("region")) {
    auto second = map.key_mark("endpoint").pos > map.key_mark("region").pos ? "endpoint" : "region";
    map.error_at_key(second, "give either api.endpoint or api.region, not both");
  } else if (!map.has("endpoint") && !map.has("region") && !api_is_wrong_type) {
    // At the api key when there is one, else at the top of the file.
    root.diagnostics().add(root.has("api") ? map.mark() : YAML::Mark(),
                           "api.endpoint or api.region is required");
  }
  if (auto v = map.nonempty_string("project_id")) {
    if (is_id(*v, 64)) {
      api.project_id = *v;
    } else {
      map.error("project_id", "must be 1-64 characters of A-Z a-z 0-9 - _");
    }
  }
  if (auto v = map.duration("request_timeout")) api.request_timeout = *v;
  if (auto v = map.integer("max_connections", 1, 1024)) api.max_connections = static_cast<int>(*v);
  if (auto v = map.number("rate_limit")) {
    if (*v > 0) {
      api.rate_limit = *v;
    } else {
      map.error("rate_limit", "must be greater than zero (requests per second)");
    }
  }
  MapReader tls = map.section("tls", {"verify", "ca_file"});
  if (auto v = tls.boolean("verify")) api.tls.verify = *v;
  if (auto v = tls.nonempty_string("ca_file")) api.tls.ca_file = *v;
  if (auto v = read_url(map, "proxy", {.allow_https = false})) api.proxy = *v;

  read_auth(map, api);
}

}  // namespace jobwatch::config::detail
