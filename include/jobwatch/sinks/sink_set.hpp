// The sinks of a config, built and checked as a whole (SPEC §5), so that a
// reload swaps them only once every one of them could be built.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "jobwatch/config/config.hpp"
#include "jobwatch/sinks/sink.hpp"
#include "jobwatch/watch/event.hpp"

namespace jobwatch::sinks {

struct SinkSpec {
  std::unique_ptr<Sink> sink;
  std::vector<watch::EventType> events;  // empty = all
  std::chrono::milliseconds max_age{72LL * 3600 * 1000};
};

// Errors (one message, naming the sink): duplicate name, unknown event type
// in `events`, a file sink without a path, a bad webhook URL or secret. A
// file that cannot be opened yet is not an error: its events wait and are
// retried.
std::variant<std::vector<SinkSpec>, std::string> build_sinks(
    const boost::asio::any_io_executor& executor, const std::vector<config::SinkConfig>& sinks);

}  // namespace jobwatch::sinks
