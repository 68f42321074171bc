#include "jobwatch/control/server.hpp"

#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <cstring>
#include <unordered_map>

#include "connection.hpp"

namespace jobwatch::control {

namespace asio = boost::asio;
using stream_protocol = asio::local::stream_protocol;

namespace {

std::string errno_text(int error) {
  return std::strerror(error);
}

// Whether a process accepts connections on the socket file at `path`:
// true (in use), false (stale: refused), or an error message.
std::variant<bool, std::string> probe_socket(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return "socket(): " + errno_text(errno);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  const int rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  const int error = errno;
  ::close(fd);
  if (rc == 0) return true;
  if (error == ECONNREFUSED) return false;
  return "cannot probe " + path + ": " + errno_text(error);
}

}  // namespace

struct ControlServer::Impl : std::enable_shared_from_this<ControlServer::Impl> {
  Impl(asio::any_io_executor executor, const config::ControlConfig& config, Service& service,
       std::size_t max_connections)
      : executor(executor),
        config(config),
        service(service),
        max_connections(max_connections),
        acceptor(executor),
        retry_timer(executor) {}

  void accept() {
    if (stopped) return;
    acceptor.async_accept(
        [self = shared_from_this()](boost::system::error_code ec, stream_protocol::socket socket) {
          self->on_accept(ec, std::move(socket));
        });
  }

  void on_accept(boost::system::error_code ec, stream_protocol::socket socket) {
    if (stopped || ec == asio::error::operation_aborted) return;
    if (ec) {
      // Out of file descriptors and the like: retry later instead of spinning.
      spdlog::warn("control: accept failed: {}", ec.message());
      retry_timer.expires_after(std::chrono::milliseconds(100));
      retry_timer.async_wait([self = shared_from_this()](boost::system::error_code wait_ec) {
        if (!wait_ec) self->accept();
      });
      return;
    }
    if (connections.size() >= max_connections) {
      // Once per episode: a flood of connections must not flood the log.
      if (!limit_logged)
        spdlog::warn("control: {} connections open; refusing more", connections.size());
      limit_logged = true;
      service.connection_rejected();
      boost::system::error_code ignored;
      socket.close(ignored);
    } else {
      const ConnectionLimits limits{
          config.max_message == 0 ? default_max_message : config.max_message, config.idle_timeout,
          max_pending_output};
      std::weak_ptr<Impl> weak = weak_from_this();
      auto connection = std::make_shared<Connection>(std::move(socket), service, limits,
                                                     [weak](Connection* closed) {
                                                       if (auto self = weak.lock()) {
                                                         self->connections.erase(closed);
                                                         self->limit_logged = false;
                                                       }
                                                     });
      connections.emplace(connection.get(), connection);
      connection->start();
    }
    accept();
  }

  std::optional<std::string> bind_path() {
    const std::string& path = config.socket;
    if (path.empty()) return "control.socket is empty";
    if (path.size() >= sizeof(sockaddr_un::sun_path)) {
      return "control socket path is too long (at most " +
             std::to_string(sizeof(sockaddr_un::sun_path) - 1) + " bytes): " + path;
    }
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0) {
      if (!S_ISSOCK(st.st_mode)) return path + " exists and is not a socket";
      auto probe = probe_socket(path);
      if (auto* error = std::get_if<std::string>(&probe)) return *error;
      if (std::get<bool>(probe)) return "another process is listening on " + path;
      if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
        return "cannot remove stale socket " + path + ": " + errno_text(errno);
      }
    }
    boost::system::error_code ec;
    acceptor.open(stream_protocol(), ec);
    if (ec) return "socket(): " + ec.message();
    // Bind under a strict umask, then widen to socket_mode: the socket is
    // never more open than configured, not even for a moment.
    const mode_t old_mask = ::umask(0177);
    acceptor.bind(stream_protocol::endpoint(path), ec);
    ::umask(old_mask);
    if (ec) {
      acceptor.close();
      return "cannot bind " + path + ": " + ec.message();
    }
    if (::chmod(path.c_str(), static_cast<mode_t>(config.socket_mode & 07777)) != 0) {
      const int error = errno;
      acceptor.close();
      ::unlink(path.c_str());
      return "cannot chmod " + path + ": " + errno_text(error);
    }
    acceptor.listen(SOMAXCONN, ec);
    if (ec) {
      acceptor.close();
      ::unlink(path.c_str());
      return "cannot listen on " + path + ": " + ec.message();
    }
    if (::stat(path.c_str(), &st) == 0) bound_inode = st.st_ino;
    bound_path = path;
    return std::nullopt;
  }

  void stop() {
    if (stopped) return;
    stopped = true;
    boost::system::error_code ignored;
    acceptor.close(ignored);
    retry_timer.cancel();
    auto open = std::move(connections);
    connections.clear();
    for (auto& [ptr, weak] : open) {
      if (auto connection = weak.lock()) connection->close();
    }
    // Remove the file only if it is still ours (not a successor's socket).
    struct stat st {};
    if (!bound_path.empty() && ::stat(bound_path.c_str(), &st) == 0 && st.st_ino == bound_inode) {
      ::unlink(bound_path.c_str());
    }
    bound_path.clear();
  }

  asio::any_io_executor executor;
  config::ControlConfig config;
  Service& service;
  std::size_t max_connections;
  stream_protocol::acceptor acceptor;
  asio::steady_timer retry_timer;
  std::unordered_map<Connection*, std::weak_ptr<Connection>> connections;
  std::string bound_path;
  ino_t bound_inode = 0;
  bool stopped = false;
  bool limit_logged = false;
};

ControlServer::ControlServer(asio::any_io_executor executor, const config::ControlConfig& config,
                             Service& service, std::size_t max_connections)
    : impl_(std::make_shared<Impl>(std::move(executor), config, service, max_connections)) {}

ControlServer::~ControlServer() {
  impl_->stop();
}

std::optional<std::string> ControlServer::listen(int inherited_fd) {
  if (inherited_fd >= 0) {
    boost::system::error_code ec;
    impl_->acceptor.assign(stream_protocol(), inherited_fd, ec);
    if (ec) return "cannot use the inherited control socket: " + ec.message();
  } else if (auto error = impl_->bind_path()) {
    return error;
  }
  impl_->stopped = false;
  impl_->accept();
  return std::nullopt;
}

void ControlServer::stop() {
  impl_->stop();
}

std::size_t ControlServer::connection_count() const {
  return impl_->connections.size();
}

}  // namespace jobwatch::control
