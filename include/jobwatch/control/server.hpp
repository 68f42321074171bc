// The control socket (SPEC §3): accepts Unix stream connections, frames
// varlink messages and hands calls to the Service, one call at a time per
// connection. Only moves bytes and timers; all decisions are in Service.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include "jobwatch/config/config.hpp"
#include "jobwatch/control/service.hpp"

namespace jobwatch::control {

// Error replies the server sends on its own, before a call reaches the
// service (then it closes the connection): a message over max_message, one
// nested deeper than 32 levels, malformed JSON or not a call all get
// org.varlink.service.InvalidParameter with parameter "message" and a reason.
class ControlServer {
 public:
  static constexpr std::size_t default_max_connections = 1024;
  // A client that stops reading a stream may make us queue this much at most.
  static constexpr std::size_t max_pending_output = 16 * 1024 * 1024;

  ControlServer(boost::asio::any_io_executor executor, const config::ControlConfig& config,
                Service& service, std::size_t max_connections = default_max_connections);
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // Starts accepting; returns an error message on failure. With an inherited
  // (socket-activated, already listening) fd, that socket is used as is;
  // otherwise control.socket is bound — a stale socket file is removed only
  // when nothing listens there — and chmod'ed to control.socket_mode.
  std::optional<std::string> listen(int inherited_fd = -1);
  // Stops accepting and closes every connection (ending their Wait/Follow);
  // removes the socket file if listen() created it. Call before destroying
  // the Service or the Engine.
  void stop();

  std::size_t connection_count() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace jobwatch::control
