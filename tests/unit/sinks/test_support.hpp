// Helpers shared by the sinks tests: events, a loop runner and a scripted
// fake sink.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "jobwatch/sinks/sink.hpp"
#include "jobwatch/watch/event.hpp"

namespace jobwatch::sinks::test {

inline watch::Event make_event(const std::string& job,
                               watch::EventType type = watch::EventType::job_succeeded,
                               const std::string& subjob = {}, const std::string& reason = {}) {
  watch::Event event;
  event.type = type;
  event.project_id = "proj1";
  event.job_id = job;
  event.subjob_id = subjob;
  event.id = "evt_" + job + (subjob.empty() ? "" : "_" + subjob) + "_" +
             std::to_string(static_cast<int>(type));
  boost::json::object data{{"project_id", event.project_id}, {"job_id", job}};
  if (!subjob.empty()) data["subjob_id"] = subjob;
  if (!reason.empty()) data["reason"] = reason;
  boost::json::object doc{{"id", event.id},
                          {"type", watch::type_name(type)},
                          {"timestamp", "2026-11-28T12:01:02Z"},
                          {"data", std::move(data)}};
  event.document = boost::json::serialize(doc);
  return event;
}

// Runs the loop until `done()` holds; false if it did not within `limit`
// (a safety net against hangs, not a speed assertion).
inline bool run_until(boost::asio::io_context& ioc, const std::function<bool()>& done,
                      std::chrono::milliseconds limit = std::chrono::seconds(20)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    ioc.run_one_for(std::chrono::milliseconds(20));
    if (ioc.stopped()) ioc.restart();
  }
  return true;
}

// Runs whatever is ready (and due within `for_at_least`), for negative checks.
inline void run_for(boost::asio::io_context& ioc, std::chrono::milliseconds for_at_least) {
  const auto deadline = std::chrono::steady_clock::now() + for_at_least;
  while (std::chrono::steady_clock::now() < deadline) {
    ioc.run_one_for(std::chrono::milliseconds(10));
    if (ioc.stopped()) ioc.restart();
  }
}

// A sink whose answers come from a script; records every attempt.
class FakeSink final : public Sink {
 public:
  using Script = std::function<DeliveryResult(const watch::Event&, int attempt)>;

  FakeSink(boost::asio::any_io_executor executor, std::string name, Script script,
           std::size_t max_batch = 1)
      : Sink(std::move(executor), std::move(name), config::SinkType::log),
        script_(std::move(script)),
        max_batch_(max_batch) {}

  void deliver(const watch::Event& event, Done done) override {
    attempts.push_back(event.id);
    const int attempt = ++attempt_counts_[event.id];
    if (hang) {
      hung.push_back(std::move(done));  // never completes
      return;
    }
    post_done(std::move(done), script_(event, attempt));
  }
  std::size_t max_batch() const override { return max_batch_; }
  void deliver_batch(std::span<const watch::Event* const> events, BatchDone done) override {
    batch_sizes.push_back(events.size());
    Sink::deliver_batch(events, std::move(done));
  }

  bool hang = false;
  std::vector<std::string> attempts;  // event ids, in attempt order
  std::vector<std::size_t> batch_sizes;
  std::vector<Done> hung;

 private:
  Script script_;
  std::size_t max_batch_;
  std::map<std::string, int> attempt_counts_;
};

inline DeliveryResult always_ok(const watch::Event&, int) {
  return DeliveryResult::ok();
}

}  // namespace jobwatch::sinks::test
