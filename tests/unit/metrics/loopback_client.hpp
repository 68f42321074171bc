// Test helper: raw HTTP/1.1 over loopback TCP, from the thread that also
// runs the server's io_context. Client sockets are non-blocking and every
// wait for them turns the event loop.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace jobwatch::metrics::test {

struct Response {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lowercased
  std::string body;

  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

class LoopbackClients {
 public:
  explicit LoopbackClients(boost::asio::io_context& io) : io_(io) {}
  ~LoopbackClients() {
    for (int fd : fds_) ::close(fd);
  }

  // A connected, non-blocking socket, or -1. Loopback connects complete in
  // the kernel's backlog, before the server accepts.
  int connect(std::uint16_t port, bool v6 = false) {
    const int fd = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int rc;
    if (v6) {
      sockaddr_in6 addr{};
      addr.sin6_family = AF_INET6;
      addr.sin6_port = htons(port);
      addr.sin6_addr = in6addr_loopback;
      rc = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    } else {
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_port = htons(port);
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      rc = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    }
    if (rc != 0) {
      ::close(fd);
      return -1;
    }
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    fds_.push_back(fd);
    return fd;
  }

  void send(int fd, std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        step();
        continue;
      }
      if (n < 0) return;  // the server may have closed already
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
  }

  // The next response on fd; nullopt on EOF or after `limit`. A response to
  // HEAD has a Content-Length but no body: pass head = true.
  std::optional<Response> read_response(int fd, bool head = false,
                                        std::chrono::milliseconds limit = std::chrono::seconds(5)) {
    auto& buffer = buffers_[fd];
    const auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
      bool malformed = false;
      if (auto response = take_response(buffer, head, malformed)) return response;
      if (malformed || !receive(fd, buffer)) return std::nullopt;
    }
    return std::nullopt;
  }

  // True once the server has closed fd (EOF or reset); false if it stays
  // open for `limit`. Data arriving meanwhile is kept for read_response.
  bool closed_by_server(int fd, std::chrono::milliseconds limit = std::chrono::seconds(5)) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
      if (!receive(fd, buffers_[fd])) return true;
    }
    return false;
  }

  bool run_until(const std::function<bool()>& done,
                 std::chrono::milliseconds limit = std::chrono::seconds(5)) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (!done()) {
      if (std::chrono::steady_clock::now() > end) return false;
      step();
    }
    return true;
  }

  void step() {
    io_.restart();
    if (io_.run_one_for(std::chrono::milliseconds(5)) == 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }

  // Bytes received on fd not yet consumed by read_response.
  std::string& pending(int fd) { return buffers_[fd]; }

 private:
  // One non-blocking receive (or a turn of the loop); false on EOF/reset.
  bool receive(int fd, std::string& buffer) {
    char chunk[4096];
    const ssize_t n = ::recv(fd, chunk, sizeof chunk, MSG_DONTWAIT);
    if (n > 0) {
      buffer.append(chunk, static_cast<std::size_t>(n));
      return true;
    }
    if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) return false;
    step();
    return true;
  }

  static std::optional<Response> take_response(std::string& buffer, bool head, bool& malformed) {
    const auto header_end = buffer.find("\r\n\r\n");
    if (header_end == std::string::npos) return std::nullopt;
    Response r;
    std::string_view head_text(buffer.data(), header_end);
    auto line_end = head_text.find("\r\n");
    std::string_view status_line = head_text.substr(0, line_end);
    if (status_line.size() < 12 || !status_line.starts_with("HTTP/1.")) {
      ADD_FAILURE() << "bad status line: " << status_line;
      malformed = true;
      return std::nullopt;
    }
    r.status = std::stoi(std::string(status_line.substr(9, 3)));
    while (line_end != std::string_view::npos) {
      head_text.remove_prefix(line_end + 2);
      line_end = head_text.find("\r\n");
      std::string_view line = head_text.substr(0, line_end);
      auto colon = line.find(':');
      if (colon == std::string_view::npos) continue;
      std::string name(line.substr(0, colon));
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::string_view value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      r.headers[name] = std::string(value);
    }
    const std::size_t length = head ? 0 : std::stoul("0" + r.header("content-length"));
    if (buffer.size() < header_end + 4 + length) return std::nullopt;
    r.body = buffer.substr(header_end + 4, length);
    buffer.erase(0, header_end + 4 + length);
    return r;
  }

  boost::asio::io_context& io_;
  std::vector<int> fds_;
  std::map<int, std::string> buffers_;
};

}  // namespace jobwatch::metrics::test
