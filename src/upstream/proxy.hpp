// The HTTP CONNECT exchange with a forward proxy, sans-io: the request to
// write and what the proxy's answer means. Private to src/upstream.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "jobwatch/upstream/http_pool.hpp"

namespace jobwatch::upstream::detail {

// "CONNECT host:port HTTP/1.1" with Host (and Proxy-Authorization when
// `authorization` is set: the result is then a secret; never log it).
std::string connect_request(const Origin& target, const std::string& authorization);

// nullopt when the proxy opened the tunnel (any 2xx); else why not, naming
// the proxy and the target but never the credentials.
std::optional<std::string> connect_refusal(unsigned status, std::string_view reason,
                                           bool sent_credentials, const std::string& proxy,
                                           const std::string& target);

}  // namespace jobwatch::upstream::detail
