#include "client.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/json/serialize.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "cli.hpp"
#include "jobwatch/control/validation.hpp"

namespace jobwatch::ctl {

namespace json = boost::json;
using control::escape_for_display;

namespace {

std::string param(const control::Reply& reply, std::string_view name) {
  const auto* v = reply.parameters.if_contains(name);
  return v && v->is_string() ? escape_for_display(v->get_string(), 200) : std::string();
}

std::string job_of(const control::Reply& reply) {
  std::string job = param(reply, "job_id");
  if (auto project = param(reply, "project_id"); !project.empty())
    job += " (project " + project + ")";
  return job;
}

}  // namespace

Client::Client(Client&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      path_(std::move(other.path_)),
      framer_(std::move(other.framer_)) {}

Client::~Client() {
  if (fd_ >= 0) ::close(fd_);
}

std::variant<Client, Failure> Client::connect(const std::string& path) {
  sockaddr_un addr{};
  if (path.empty() || path.size() >= sizeof addr.sun_path) {
    return Failure{exit_code::usage, "invalid socket path: " + escape_for_display(path)};
  }
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return Failure{exit_code::unavailable, std::string("socket(): ") + std::strerror(errno)};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.data(), path.size());
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    const int error = errno;
    ::close(fd);
    const bool denied = error == EACCES || error == EPERM;
    std::string message = "cannot connect to " + path + ": " + std::strerror(error);
    if (!denied) message += " (is jobwatchd running? set --socket or $JOBWATCH_SOCKET)";
    return Failure{denied ? exit_code::no_permission : exit_code::unavailable, message};
  }
  return Client(fd, path);
}

std::optional<Failure> Client::send(const control::Call& call) {
  const std::string wire = control::encode_call(call);
  std::string_view rest = wire;
  while (!rest.empty()) {
    const ssize_t n = ::send(fd_, rest.data(), rest.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      return Failure{exit_code::unavailable,
                     "cannot send to " + path_ + ": " + std::strerror(errno)};
    }
    rest.remove_prefix(static_cast<std::size_t>(n));
  }
  return std::nullopt;
}

Client::Received Client::receive(int timeout_ms) {
  for (;;) {
    auto next = framer_.next();
    if (auto* message = std::get_if<std::string>(&next)) {
      auto reply = control::parse_reply(*message);
      if (!reply)
        return Failure{exit_code::unavailable, "the daemon sent something that is not a reply"};
      return std::move(*reply);
    }
    if (std::holds_alternative<control::VarlinkFramer::Oversize>(next)) {
      return Failure{exit_code::unavailable, "the daemon's reply is too large"};
    }
    pollfd pfd{fd_, POLLIN, 0};
    const int ready = ::poll(&pfd, 1, timeout_ms);
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0) return Timeout{};
    char buffer[64 * 1024];
    const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      return Failure{exit_code::unavailable,
                     n == 0 ? "the daemon closed the connection"
                            : "cannot read from " + path_ + ": " + std::strerror(errno)};
    }
    framer_.feed(std::string_view(buffer, static_cast<std::size_t>(n)));
  }
}

Failure describe_error(const control::Reply& reply) {
  const std::string& name = reply.error;
  const std::string reason = param(reply, "reason");
  const std::string because = reason.empty() ? "" : ": " + reason;
  if (name == control::errors::invalid_job_id) {
    return {exit_code::rejected, "invalid job ID '" + param(reply, "job_id") + "'" + because};
  }
  if (name == control::errors::invalid_parameter) {
    return {exit_code::rejected, "invalid " + param(reply, "parameter") + because};
  }
  if (name == control::errors::not_watched) {
    return {exit_code::rejected, "not watched: " + job_of(reply)};
  }
  if (name == control::errors::limit_reached) {
    return {exit_code::rejected, "the daemon refuses more watches" + because};
  }
  if (name == control::errors::permission_denied) {
    return {exit_code::no_permission,
            "permission denied: " + job_of(reply) + " was submitted by another user"};
  }
  if (name == control::errors::shutting_down) {
    return {exit_code::unavailable, "the daemon is shutting down"};
  }
  if (name == control::errors::unavailable) {
    return {exit_code::unavailable, "the daemon cannot take the request now" + because};
  }
  if (name == control::errors::method_not_found) {
    return {exit_code::rejected,
            "the daemon does not know " + param(reply, "method") + " (a different version?)"};
  }
  return {exit_code::rejected, "the daemon answered " + escape_for_display(name, 200) + " " +
                                   escape_for_display(json::serialize(reply.parameters), 400)};
}

}  // namespace jobwatch::ctl

namespace jobwatch::ctl {

int report(const Failure& failure) {
  std::fprintf(stderr, "jobwatchctl: %s\n", failure.message.c_str());
  return failure.exit_code;
}

std::variant<Client, int> open_client(const Globals& globals) {
  auto connected = Client::connect(globals.socket);
  if (auto* failure = std::get_if<Failure>(&connected)) return report(*failure);
  return std::move(std::get<Client>(connected));
}

std::variant<json::object, int> call_once(const Globals& globals, const control::Call& call) {
  auto opened = open_client(globals);
  if (auto* code = std::get_if<int>(&opened)) return *code;
  auto& client = std::get<Client>(opened);
  if (auto failure = client.send(call)) return report(*failure);
  auto received = client.receive();
  if (auto* failure = std::get_if<Failure>(&received)) return report(*failure);
  auto& reply = std::get<control::Reply>(received);
  if (!reply.error.empty()) return report(describe_error(reply));
  return std::move(reply.parameters);
}

}  // namespace jobwatch::ctl
