// An outbox on a real state store in a temporary directory, for the tests
// that take sinks through it (the webhook and file sink tests too).
#pragma once

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <memory>
#include <string>
#include <vector>

#include "jobwatch/outbox/outbox.hpp"
#include "store/store_test_support.hpp"

namespace jobwatch::outbox::test {

class OutboxHarness {
 public:
  // The sinks of `configs` behind an outbox with a fixed jitter; nullptr
  // (and a test failure) when they do not build.
  std::unique_ptr<Outbox> make(boost::asio::io_context& ioc,
                               const std::vector<config::SinkConfig>& configs,
                               sinks::RetryPolicy backoff = {}, double jitter = 0.0) {
    auto built = sinks::build_sinks(ioc.get_executor(), configs);
    if (auto* error = std::get_if<std::string>(&built)) {
      ADD_FAILURE() << *error;
      return nullptr;
    }
    Clocks clocks;
    clocks.jitter = [jitter] { return jitter; };
    return std::make_unique<Outbox>(ioc.get_executor(), *store_, std::move(std::get<0>(built)),
                                    registry_, backoff, std::move(clocks));
  }
  std::vector<store::OutboxRow> owed_rows() { return store::test::value_of(store_->load_outbox()); }
  std::vector<store::DeadLetterRow> dead_rows() {
    return store::test::value_of(store_->load_dead_letters(100));
  }

 private:
  store::test::TempDir dir_;
  std::unique_ptr<store::Store> store_ = store::test::open_ok(dir_.path());
  metrics::Registry registry_;
};

}  // namespace jobwatch::outbox::test
