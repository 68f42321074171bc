// One control connection: reads into the framer, runs one call at a time,
// writes replies in order. Internal to the control module.
#pragma once

#include <array>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "jobwatch/control/service.hpp"
#include "jobwatch/control/varlink.hpp"

namespace jobwatch::control {

struct ConnectionLimits {
  std::size_t max_message;
  std::chrono::milliseconds idle_timeout;
  std::size_t max_pending_output;
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  using Socket = boost::asio::local::stream_protocol::socket;
  using ClosedFn = std::function<void(Connection*)>;

  Connection(Socket socket, Service& service, const ConnectionLimits& limits, ClosedFn on_closed);
  void start();
  // Idempotent; afterwards the connection touches neither the service nor
  // the server again (its pending handlers only see Phase::closed).
  void close();

 private:
  void do_read();
  void on_read(boost::system::error_code ec, std::size_t n);
  void process();
  void start_call(Call call);
  void call_finished();
  void fail(std::string_view reason);
  void send(const Reply& reply);
  void do_write();
  void arm_idle();
  void close_later();
  bool idle() const { return !in_call_ && !call_; }

  // Where the connection is in its life; it only moves forward.
  enum class Phase : std::uint8_t {
    open,       // reading calls and answering them
    peer_done,  // the peer half-closed: answer what it sent, then close
    closing,    // a fatal protocol error or a reader too slow: flush, then close
    closed,     // the socket is closed; pending handlers only return
  };
  void enter(Phase next);
  // The one place the connection closes on its own: once everything owed
  // is written, in `closing`, or in `peer_done` with no call left.
  void settle();

  Socket socket_;
  Service& service_;
  ConnectionLimits limits_;
  ClosedFn on_closed_;
  Peer peer_;
  VarlinkFramer framer_;
  std::array<char, 16 * 1024> read_buffer_{};
  boost::asio::steady_timer idle_timer_;
  std::uint64_t idle_generation_ = 0;
  // A message owed to the peer: its bytes, or the pieces of a large reply
  // still to be drawn (one per write).
  struct Outgoing {
    std::string bytes;
    std::shared_ptr<ReplyPieces> pieces;
  };
  std::deque<Outgoing> out_;
  std::vector<std::string> in_flight_;
  std::size_t out_bytes_ = 0;
  std::unique_ptr<ActiveCall> call_;
  Phase phase_ = Phase::open;
  bool in_call_ = false;
  // An async read or write is out (each at most one at a time).
  bool reading_ = false;
  bool writing_ = false;
};

}  // namespace jobwatch::control
