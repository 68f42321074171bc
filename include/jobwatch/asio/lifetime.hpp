// The one way a completion handler learns that the object it was handed
// out by is gone. Asio runs a handler after the operation ends, which may
// be after its object was destroyed (a reload replacing sinks, shutdown
// tearing down the engine); a handler that captures `this` must not touch
// it then.
//
// An object with an owner (the engine, the outbox, a sink, a timer, the
// swappable upstream client) holds a Lifetime and captures `this` with
// a token(); a handler checks `token.expired()` first and does nothing
// when it is. An object that owns itself while its I/O is out (a control
// connection, a pooled upstream connection, a Wait call, a batch walk)
// has no owner whose going it must notice: its handlers hold it by
// shared_from_this, and it ends when the last of them has run.
#pragma once

#include <memory>

namespace jobwatch {

class Lifetime {
 public:
  class Token {
   public:
    Token() = default;  // expired, until assigned one from token()
    bool expired() const { return flag_.expired(); }

   private:
    friend class Lifetime;
    explicit Token(std::weak_ptr<const bool> flag) : flag_(std::move(flag)) {}
    std::weak_ptr<const bool> flag_;
  };

  Lifetime() = default;
  // A token names one object: a copy or a move would hand it to another.
  Lifetime(const Lifetime&) = delete;
  Lifetime& operator=(const Lifetime&) = delete;

  Token token() const { return Token(flag_); }
  // For a destructor that must stop handlers before its members go (the
  // flag ends with the Lifetime otherwise, which may be too late).
  void end() { flag_.reset(); }

 private:
  std::shared_ptr<const bool> flag_ = std::make_shared<const bool>(true);
};

}  // namespace jobwatch
