// A blocking varlink client over the control socket: one connection, calls
// sent in order, replies read one at a time.
#pragma once

#include <optional>
#include <string>
#include <variant>

#include "jobwatch/control/varlink.hpp"

namespace jobwatch::ctl {

// Why talking to the daemon failed, with the exit code it maps to.
struct Failure {
  int exit_code;
  std::string message;
};

class Client {
 public:
  struct Timeout {};
  using Received = std::variant<control::Reply, Timeout, Failure>;

  Client(Client&& other) noexcept;
  Client& operator=(Client&&) = delete;
  ~Client();

  static std::variant<Client, Failure> connect(const std::string& socket_path);
  std::optional<Failure> send(const control::Call& call);
  // Waits up to `timeout_ms` (-1: forever) for the next reply.
  Received receive(int timeout_ms = -1);

 private:
  Client(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_ = -1;
  std::string path_;
  control::VarlinkFramer framer_{256 * 1024 * 1024};
};

// The exit code for a varlink error reply and a one-line explanation.
Failure describe_error(const control::Reply& reply);

}  // namespace jobwatch::ctl

namespace jobwatch::ctl {

struct Globals;

// Prints "jobwatchctl: message" and returns the failure's exit code.
int report(const Failure& failure);
// Connects to the configured socket; on failure reports and returns the code.
std::variant<Client, int> open_client(const Globals& globals);
// One call, one reply: the reply's parameters, or the exit code after
// reporting the failure or the daemon's error.
std::variant<boost::json::object, int> call_once(const Globals& globals, const control::Call& call);

}  // namespace jobwatch::ctl
