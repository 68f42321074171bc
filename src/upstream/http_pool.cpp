// The pool: a FIFO of waiting requests, a LIFO of idle connections, and at
// most max_connections connections. Connections do the I/O.
#include <openssl/ssl.h>

#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>

#include "pool_state.hpp"

namespace jobwatch::upstream {
namespace asio = boost::asio;

namespace detail {
namespace {

bool is_token_char(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// A header that would let a value smuggle in other headers (CR/LF) or break
// the request line never reaches the wire. Names only in the message:
// values are often credentials.
std::optional<std::string> check_headers(const HttpRequest& request) {
  for (const auto& [name, value] : request.headers) {
    if (name.empty() || !std::all_of(name.begin(), name.end(), is_token_char)) {
      return "invalid header name '" + name + "'";
    }
    for (char c : value) {
      if (c == '\r' || c == '\n' || c == '\0') return "invalid value for header '" + name + "'";
    }
  }
  for (char c : request.target) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7F) return std::string("invalid request target");
  }
  if (request.target.empty() || request.target.front() != '/') {
    return std::string("request target must start with '/'");
  }
  return std::nullopt;
}

}  // namespace

std::string format_duration(std::chrono::milliseconds d) {
  auto ms = d.count();
  if (ms != 0 && ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

std::variant<asio::ssl::context, std::string> make_tls_context(const PoolOptions& options) {
  asio::ssl::context ctx(asio::ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
  // Idle keep-alive connections then hold no read/write buffers.
  SSL_CTX_set_mode(ctx.native_handle(), SSL_MODE_RELEASE_BUFFERS);
  ctx.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_compression);
  boost::system::error_code ec;
  if (!options.verify_tls) {
    ctx.set_verify_mode(asio::ssl::verify_none, ec);
    return ctx;
  }
  ctx.set_verify_mode(asio::ssl::verify_peer, ec);
  if (options.ca_file.empty()) {
    ctx.set_default_verify_paths(ec);
    if (ec) return "cannot load the system CA store: " + ec.message();
  } else {
    ctx.load_verify_file(options.ca_file, ec);
    if (ec) return "cannot load CA file " + options.ca_file + ": " + ec.message();
  }
  return ctx;
}

PoolState::PoolState(asio::any_io_executor executor_, Origin origin_, PoolOptions options_)
    : executor(std::move(executor_)), origin(std::move(origin_)), options(std::move(options_)) {
  options.max_connections = std::max(options.max_connections, 1);
  authority = upstream::authority(origin);
  host_header = upstream::host_header(origin);
  boost::system::error_code ec;
  asio::ip::make_address(origin.host, ec);
  host_is_address = !ec;
  if (!options.proxy.empty()) {
    auto parsed = parse_proxy_url(options.proxy);
    if (auto* error = std::get_if<std::string>(&parsed)) {
      setup_error = "proxy: " + *error;
      return;
    }
    proxy.emplace(std::move(std::get<ProxyUrl>(parsed)));
    proxy_authority = upstream::authority(proxy->origin);
    asio::ip::make_address(proxy->origin.host, ec);
    proxy_is_address = !ec;
  }
  if (origin.tls) {
    auto ctx = make_tls_context(options);
    if (auto* error = std::get_if<std::string>(&ctx)) {
      setup_error = std::move(*error);
    } else {
      tls_context.emplace(std::move(std::get<asio::ssl::context>(ctx)));
    }
  }
}

void PoolState::pump() {
  const auto now = std::chrono::steady_clock::now();
  while (!queue.empty()) {
    Connection* connection = nullptr;
    while (connection == nullptr && !idle.empty()) {
      Connection* candidate = idle.back();
      idle.pop_back();
      if (candidate->quiet(now)) {
        connection = candidate;
      } else {
        candidate->close();
        forget(*candidate);
      }
    }
    if (connection == nullptr) {
      if (connections.size() >= static_cast<std::size_t>(options.max_connections)) return;
      connections.push_back(std::make_shared<Connection>(shared_from_this()));
      connection = connections.back().get();
    }
    PendingRequest next = std::move(queue.front());
    queue.pop_front();
    ++busy;
    connection->start(std::move(next));
  }
}

void PoolState::release(Connection& connection, bool reusable) {
  --busy;
  if (reusable && !closed) {
    connection.went_idle(std::chrono::steady_clock::now());
    idle.push_back(&connection);
  } else {
    forget(connection);
  }
  pump();
}

void PoolState::forget(Connection& connection) {
  auto it = std::find_if(connections.begin(), connections.end(),
                         [&](const auto& c) { return c.get() == &connection; });
  if (it == connections.end()) return;
  std::swap(*it, connections.back());
  connections.pop_back();
}

}  // namespace detail

struct HttpPool::Impl : detail::PoolState {
  using PoolState::PoolState;
};

HttpPool::HttpPool(asio::any_io_executor executor, Origin origin, PoolOptions options)
    : impl_(std::make_shared<Impl>(std::move(executor), std::move(origin), std::move(options))) {}

HttpPool::~HttpPool() {
  impl_->closed = true;
  impl_->queue.clear();
  impl_->idle.clear();
  auto connections = std::move(impl_->connections);
  impl_->connections.clear();
  for (auto& connection : connections) connection->abandon();
}

void HttpPool::send(HttpRequest request, Callback done) {
  std::optional<TransportError> refusal;
  if (impl_->closed) {
    refusal = TransportError{TransportErrorKind::reset,
                             "the connection pool for " + impl_->authority + " is closed"};
  } else if (!impl_->setup_error.empty()) {
    refusal = TransportError{TransportErrorKind::tls, impl_->setup_error};
  } else if (auto problem = detail::check_headers(request)) {
    refusal = TransportError{TransportErrorKind::protocol, std::move(*problem)};
  }
  if (refusal) {
    asio::post(impl_->executor, [done = std::move(done), error = std::move(*refusal)]() mutable {
      done(std::move(error));
    });
    return;
  }
  impl_->queue.push_back({std::move(request), std::move(done)});
  impl_->pump();
}

std::size_t HttpPool::open_connections() const {
  return impl_->connections.size();
}
std::size_t HttpPool::in_flight() const {
  return impl_->busy;
}
std::size_t HttpPool::queued() const {
  return impl_->queue.size();
}
const std::string& HttpPool::setup_error() const {
  return impl_->setup_error;
}

void HttpPool::close() {
  impl_->closed = true;
  auto queue = std::move(impl_->queue);
  impl_->queue.clear();
  for (auto& pending : queue) {
    asio::post(impl_->executor, [done = std::move(pending.done), who = impl_->authority]() {
      done(TransportError{TransportErrorKind::reset,
                          "cancelled: the connection pool for " + who + " was closed"});
    });
  }
  auto idle = std::move(impl_->idle);
  impl_->idle.clear();
  for (auto* connection : idle) {
    connection->close();
    impl_->forget(*connection);
  }
}

}  // namespace jobwatch::upstream
