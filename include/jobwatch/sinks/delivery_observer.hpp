// How delivery outcomes leave the sinks module: the daemon backs the
// dispatcher with its outbox through this interface, so sinks never see SQLite.
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

#include "jobwatch/watch/event.hpp"

namespace jobwatch::sinks {

// Called on the loop thread, exactly once per outcome, never from inside a
// Dispatcher call (always from a completion), and never after stop().
// `attempts` counts every attempt at this (event, sink), restored ones included.
class DeliveryObserver {
 public:
  virtual ~DeliveryObserver() = default;
  // The sink confirmed the event: the (event, sink) is no longer owed.
  virtual void delivered(const watch::Event& event, std::string_view sink) = 0;
  // An attempt failed and will be retried at about `next_attempt_at`.
  virtual void attempt_failed(const watch::Event& event, std::string_view sink,
                              std::uint32_t attempts,
                              std::chrono::system_clock::time_point next_attempt_at,
                              std::string_view error) = 0;
  // Refused permanently, or past the sink's max_age: moved to dead letters.
  virtual void dead_lettered(const watch::Event& event, std::string_view sink,
                             std::string_view reason, std::uint32_t attempts) = 0;
};

}  // namespace jobwatch::sinks
