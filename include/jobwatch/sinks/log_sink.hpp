// The `log` sink: one readable key=value line per event on the default
// spdlog logger (info for successes, warn for failures and abandons).
#pragma once

#include <string>

#include "jobwatch/sinks/sink.hpp"

namespace jobwatch::sinks {

// "event job.failed job=… project=… id=evt_…" (+ subjob=…, reason=…).
std::string format_log_line(const watch::Event& event);

class LogSink final : public Sink {
 public:
  LogSink(boost::asio::any_io_executor executor, std::string name);
  void deliver(const watch::Event& event, Done done) override;  // always delivered
  std::size_t max_batch() const override { return 64; }
};

}  // namespace jobwatch::sinks
