// A DeliveryObserver for tests: records every outcome in call order.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "jobwatch/sinks/delivery_observer.hpp"

namespace jobwatch::sinks::test {

class RecordingObserver final : public DeliveryObserver {
 public:
  struct Call {
    std::string what;  // "delivered", "attempt_failed", "dead_lettered"
    std::string event_id;
    std::string sink;
    std::uint32_t attempts = 0;
    std::chrono::system_clock::time_point next_attempt_at{};
    std::string text;  // error or reason
  };

  void delivered(const watch::Event& event, std::string_view sink) override {
    calls.push_back({"delivered", event.id, std::string(sink), 0, {}, {}});
  }
  void attempt_failed(const watch::Event& event, std::string_view sink, std::uint32_t attempts,
                      std::chrono::system_clock::time_point next_attempt_at,
                      std::string_view error) override {
    calls.push_back({"attempt_failed", event.id, std::string(sink), attempts, next_attempt_at,
                     std::string(error)});
  }
  void dead_lettered(const watch::Event& event, std::string_view sink, std::string_view reason,
                     std::uint32_t attempts) override {
    calls.push_back(
        {"dead_lettered", event.id, std::string(sink), attempts, {}, std::string(reason)});
  }

  std::vector<Call> of(const std::string& what) const {
    std::vector<Call> out;
    for (const auto& c : calls) {
      if (c.what == what) out.push_back(c);
    }
    return out;
  }
  // "what event_id" per call, for order checks.
  std::vector<std::string> trace() const {
    std::vector<std::string> out;
    for (const auto& c : calls) out.push_back(c.what + " " + c.event_id);
    return out;
  }

  std::vector<Call> calls;
};

}  // namespace jobwatch::sinks::test
