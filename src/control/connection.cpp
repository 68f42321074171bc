#include "connection.hpp"

#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

namespace jobwatch::control {

namespace asio = boost::asio;

namespace {

uid_t peer_uid(int fd) {
  struct ucred cred {};
  socklen_t len = sizeof cred;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
    // Unknown peer: an uid nobody has, so it can cancel nothing but its own.
    return static_cast<uid_t>(-1);
  }
  return cred.uid;
}

}  // namespace

Connection::Connection(Socket socket, Service& service, const ConnectionLimits& limits,
                       ClosedFn on_closed)
    : socket_(std::move(socket)),
      service_(service),
      limits_(limits),
      on_closed_(std::move(on_closed)),
      framer_(limits.max_message),
      idle_timer_(socket_.get_executor()) {
  peer_.uid = peer_uid(socket_.native_handle());
}

void Connection::start() {
  service_.connection_opened();
  spdlog::debug("control: connection from uid {}", peer_.uid);
  arm_idle();
  do_read();
}

void Connection::enter(Phase next) {
  if (next > phase_) phase_ = next;
}

void Connection::settle() {
  if (phase_ == Phase::closed || writing_ || !out_.empty()) return;
  if (phase_ == Phase::closing || (phase_ == Phase::peer_done && idle())) close();
}

void Connection::close() {
  if (phase_ == Phase::closed) return;
  phase_ = Phase::closed;
  call_.reset();  // ends a running Wait/Follow: unsubscribes from the engine
  idle_timer_.cancel();
  boost::system::error_code ignored;
  socket_.shutdown(Socket::shutdown_both, ignored);
  socket_.close(ignored);
  service_.connection_closed();
  if (on_closed_) std::exchange(on_closed_, nullptr)(this);
}

// Replies can be sent from inside an engine listener; closing there would
// unsubscribe re-entrantly, so the close waits for the next loop turn.
void Connection::close_later() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] { self->close(); });
}

void Connection::do_read() {
  if (reading_ || phase_ != Phase::open) return;
  // Back-pressure: a client pipelining faster than we answer is not read
  // further until the buffered calls are consumed.
  if (framer_.buffered() > limits_.max_message + read_buffer_.size()) return;
  reading_ = true;
  socket_.async_read_some(asio::buffer(read_buffer_),
                          [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
                            self->on_read(ec, n);
                          });
}

void Connection::on_read(boost::system::error_code ec, std::size_t n) {
  reading_ = false;
  if (phase_ == Phase::closed) return;
  if (ec) {
    if (ec != asio::error::eof) spdlog::debug("control: read failed: {}", ec.message());
    enter(Phase::peer_done);
    // A client gone in the middle of Wait/Follow: stop streaming to nobody.
    if (call_ || in_call_ || ec != asio::error::eof) {
      close();
      return;
    }
    process();  // answer what was sent before the half-close
    return;
  }
  framer_.feed(std::string_view(read_buffer_.data(), n));
  process();
  do_read();
}

void Connection::process() {
  while ((phase_ == Phase::open || phase_ == Phase::peer_done) && idle()) {
    auto next = framer_.next();
    if (std::holds_alternative<VarlinkFramer::NeedMore>(next)) break;
    if (std::holds_alternative<VarlinkFramer::Oversize>(next)) {
      fail("message larger than " + std::to_string(limits_.max_message) + " bytes");
      return;
    }
    auto parsed = parse_call(std::get<std::string>(next));
    if (auto* failure = std::get_if<ParseFailure>(&parsed)) {
      fail(failure->reason);
      return;
    }
    start_call(std::move(std::get<Call>(parsed)));
  }
  settle();
}

void Connection::fail(std::string_view reason) {
  auto reply = invalid_parameter("message", reason);
  service_.protocol_error(reply.error);
  spdlog::debug("control: closing connection of uid {}: {}", peer_.uid, reason);
  send(reply);
  enter(Phase::closing);
  settle();
}

void Connection::start_call(Call call) {
  ++idle_generation_;
  idle_timer_.cancel();
  in_call_ = true;
  const bool oneway = call.oneway;
  std::weak_ptr<Connection> weak = weak_from_this();
  auto handle = service_.call(call, peer_, [weak, oneway](Reply reply) {
    auto self = weak.lock();
    if (!self || self->phase_ == Phase::closed || !self->in_call_) return;
    if (!oneway) self->send(reply);
    if (!reply.continues) self->call_finished();
  });
  if (!in_call_ || oneway) {
    // Finished already, or nobody listens: a oneway Wait only watches.
    if (in_call_) call_finished();
    return;
  }
  call_ = std::move(handle);
}

void Connection::call_finished() {
  in_call_ = false;
  // We may be inside the call's own code: retire its handle on a later turn,
  // then go on with the next pipelined call.
  auto retired = std::move(call_);
  asio::post(socket_.get_executor(),
             [self = shared_from_this(), retired = std::move(retired)]() mutable {
               retired.reset();
               if (self->phase_ == Phase::closed) return;
               self->arm_idle();
               self->process();
               self->do_read();
             });
}

void Connection::send(const Reply& reply) {
  if (phase_ == Phase::closed) return;
  if (reply.pieces) {
    // Its bytes count once drawn, one piece at a time, so it never trips
    // the limit below on its own.
    out_.push_back(Outgoing{{}, reply.pieces});
    do_write();
    return;
  }
  std::string bytes = encode(reply);
  if (out_bytes_ > 0 && out_bytes_ + bytes.size() > limits_.max_pending_output) {
    spdlog::warn("control: client (uid {}) does not read its replies; closing", peer_.uid);
    enter(Phase::closing);
    close_later();
    return;
  }
  out_bytes_ += bytes.size();
  out_.push_back(Outgoing{std::move(bytes), nullptr});
  do_write();
}

void Connection::do_write() {
  if (writing_ || phase_ == Phase::closed || out_.empty()) return;
  writing_ = true;
  in_flight_.clear();
  while (!out_.empty()) {
    Outgoing& head = out_.front();
    if (!head.pieces) {
      in_flight_.push_back(std::move(head.bytes));
      out_.pop_front();
      continue;
    }
    // One piece per write: the next is drawn when this one is out, so a
    // slow reader holds back the drawing, not the daemon's memory.
    std::string piece;
    if (!head.pieces->next(piece)) out_.pop_front();
    out_bytes_ += piece.size();
    in_flight_.push_back(std::move(piece));
    break;
  }
  std::vector<asio::const_buffer> buffers;
  buffers.reserve(in_flight_.size());
  for (const auto& message : in_flight_) buffers.push_back(asio::buffer(message));
  asio::async_write(socket_, buffers,
                    [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
                      self->writing_ = false;
                      if (self->phase_ == Phase::closed) return;
                      self->out_bytes_ -= n;
                      self->in_flight_.clear();
                      if (ec) {
                        spdlog::debug("control: write failed: {}", ec.message());
                        self->close();
                        return;
                      }
                      if (!self->out_.empty()) {
                        self->do_write();
                      } else {
                        self->settle();
                      }
                    });
}

void Connection::arm_idle() {
  if (phase_ == Phase::closed || !idle()) return;
  const auto generation = ++idle_generation_;
  idle_timer_.expires_after(limits_.idle_timeout);
  idle_timer_.async_wait([weak = weak_from_this(), generation](boost::system::error_code ec) {
    auto self = weak.lock();
    if (!self || ec || self->phase_ == Phase::closed || generation != self->idle_generation_ ||
        !self->idle())
      return;
    spdlog::debug("control: closing idle connection of uid {}", self->peer_.uid);
    self->close();
  });
}

}  // namespace jobwatch::control
