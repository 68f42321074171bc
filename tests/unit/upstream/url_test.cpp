#include <gtest/gtest.h>

#include "jobwatch/config/config.hpp"
#include "jobwatch/upstream/http_job_api.hpp"
#include "jobwatch/upstream/http_pool.hpp"

namespace jobwatch::upstream {
namespace {

ParsedUrl parse_ok(std::string_view url) {
  auto parsed = parse_url(url);
  if (auto* error = std::get_if<std::string>(&parsed)) {
    ADD_FAILURE() << url << ": " << *error;
    return {};
  }
  return std::get<ParsedUrl>(parsed);
}

TEST(ParseUrl, SchemesPortsAndPaths) {
  auto a = parse_ok("https://workspace.ap-southeast-3.myhuaweicloud.com");
  EXPECT_TRUE(a.origin.tls);
  EXPECT_EQ(a.origin.host, "workspace.ap-southeast-3.myhuaweicloud.com");
  EXPECT_EQ(a.origin.port, 443);
  EXPECT_EQ(a.target, "/");

  auto b = parse_ok("http://127.0.0.1:8080/hooks/x?a=1#frag");
  EXPECT_FALSE(b.origin.tls);
  EXPECT_EQ(b.origin.host, "127.0.0.1");
  EXPECT_EQ(b.origin.port, 8080);
  EXPECT_EQ(b.target, "/hooks/x?a=1");

  auto c = parse_ok("HTTP://Example.com?q");
  EXPECT_EQ(c.origin.port, 80);
  EXPECT_EQ(c.target, "/?q");

  auto d = parse_ok("https://[::1]:8443/p");
  EXPECT_EQ(d.origin.host, "::1");
  EXPECT_EQ(d.origin.port, 8443);
  EXPECT_EQ(authority(d.origin), "[::1]:8443");
  EXPECT_EQ(authority(b.origin), "127.0.0.1:8080");
}

TEST(ParseUrl, Rejects) {
  for (const char* url :
       {"", "ftp://x", "https://", "https://:443", "https://host:0", "https://host:65536",
        "https://host:x", "https://host:", "https://user:secret@host/", "https://ho st/",
        "https://host/a b", "https://[::1", "https://[::1]x", "//host/"}) {
    auto parsed = parse_url(url);
    ASSERT_TRUE(std::holds_alternative<std::string>(parsed)) << url;
    EXPECT_EQ(std::get<std::string>(parsed).find("secret"), std::string::npos);
  }
}

TEST(HostHeader, PortOnlyWhenNotTheDefault) {
  EXPECT_EQ(host_header(Origin{true, "example.test", 443}), "example.test");
  EXPECT_EQ(host_header(Origin{true, "example.test", 80}), "example.test:80");
  EXPECT_EQ(host_header(Origin{false, "example.test", 80}), "example.test");
  EXPECT_EQ(host_header(Origin{false, "::1", 8080}), "[::1]:8080");
}

TEST(PercentEncode, KeepsUnreservedOnly) {
  EXPECT_EQ(percent_encode("abc-DEF_123.~"), "abc-DEF_123.~");
  EXPECT_EQ(percent_encode("a/b c%d?e#f"), "a%2Fb%20c%25d%3Fe%23f");
  EXPECT_EQ(percent_encode("\xC3\xA9\n"), "%C3%A9%0A");
  EXPECT_EQ(percent_encode(""), "");
}

TEST(EndpointFor, ExplicitEndpointWins) {
  config::ApiConfig api;
  api.endpoint = "https://example.test:8443/";
  api.region = "cn-north-4";
  EXPECT_EQ(endpoint_for(api), "https://example.test:8443");
}

TEST(EndpointFor, AppstreamRegions) {
  config::ApiConfig api;
  for (const char* region :
       {"cn-north-4", "cn-north-9", "cn-east-3", "cn-south-1", "cn-southwest-2"}) {
    api.region = region;
    EXPECT_EQ(endpoint_for(api), std::string("https://appstream.") + region + ".myhuaweicloud.com");
  }
}

TEST(EndpointFor, WorkspaceElsewhere) {
  config::ApiConfig api;
  for (const char* region : {"ap-southeast-3", "ap-southeast-1", "cn-north-1", "la-south-2"}) {
    api.region = region;
    EXPECT_EQ(endpoint_for(api), std::string("https://workspace.") + region + ".myhuaweicloud.com");
  }
}

TEST(EndpointFor, NothingConfigured) {
  config::ApiConfig api;
  EXPECT_EQ(endpoint_for(api), "");
}

TEST(PoolOptionsFor, FromApiConfig) {
  config::ApiConfig api;
  api.max_connections = 3;
  api.request_timeout = std::chrono::milliseconds(2500);
  api.tls.verify = false;
  api.tls.ca_file = "/etc/ca.pem";
  auto options = pool_options_for(api);
  EXPECT_EQ(options.max_connections, 3);
  EXPECT_EQ(options.request_timeout, std::chrono::milliseconds(2500));
  EXPECT_FALSE(options.verify_tls);
  EXPECT_EQ(options.ca_file, "/etc/ca.pem");
  EXPECT_EQ(options.user_agent, "jobwatch/" JOBWATCH_VERSION);
}

}  // namespace
}  // namespace jobwatch::upstream
