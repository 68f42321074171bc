// An HTTP/1.1 request as the bytes a connection writes. Built by hand into a
// buffer that keeps its capacity from one request to the next: Beast's
// message (a heap node per field) and its serializer were ~14 % of a poll's
// CPU for a 150-byte GET (issue 11; docs/BENCHMARKS.md "The poll path").
#pragma once

#include <string>
#include <string_view>

#include "jobwatch/upstream/http_pool.hpp"

namespace jobwatch::upstream {

// Into `out` (cleared first): the request line, Host and User-Agent (unless
// empty) unless the request names them itself, the request's headers,
// Connection: keep-alive, Content-Length when there is a body or the method
// carries one, and the body. A CR or LF inside a header value becomes a
// space, so that no value can start a header of its own.
void render_request(std::string& out, const HttpRequest& request, std::string_view host,
                    std::string_view user_agent);

}  // namespace jobwatch::upstream
