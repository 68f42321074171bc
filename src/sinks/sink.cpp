#include "jobwatch/sinks/sink.hpp"

#include <boost/asio/post.hpp>
#include <memory>

namespace jobwatch::sinks {

std::string_view kind_name(DeliveryResult::Kind kind) {
  switch (kind) {
    case DeliveryResult::Kind::delivered:
      return "delivered";
    case DeliveryResult::Kind::retry:
      return "retry";
    case DeliveryResult::Kind::permanent:
      return "permanent";
  }
  return "unknown";
}

std::string_view sink_type_name(config::SinkType type) {
  switch (type) {
    case config::SinkType::log:
      return "log";
    case config::SinkType::file:
      return "file";
    case config::SinkType::webhook:
      return "webhook";
  }
  return "unknown";
}

void Sink::post_done(Done done, DeliveryResult result) const {
  boost::asio::post(executor_, [done = std::move(done), result = std::move(result)]() mutable {
    done(std::move(result));
  });
}

void Sink::post_batch_done(BatchDone done, std::vector<DeliveryResult> results) const {
  boost::asio::post(executor_, [done = std::move(done), results = std::move(results)]() mutable {
    done(std::move(results));
  });
}

namespace {

// Walks a batch one event at a time; each step runs from the previous
// step's completion, so the sink never sees two of these events at once.
struct BatchWalk : std::enable_shared_from_this<BatchWalk> {
  Sink* sink = nullptr;
  std::weak_ptr<const int> sink_life;
  std::vector<const watch::Event*> events;
  std::vector<DeliveryResult> results;
  Sink::BatchDone done;

  void step() {
    if (results.size() == events.size()) {
      done(std::move(results));
      return;
    }
    sink->deliver(*events[results.size()], [self = shared_from_this()](DeliveryResult result) {
      const bool stop = result.kind == DeliveryResult::Kind::retry;
      self->results.push_back(std::move(result));
      if (stop) {
        self->done(std::move(self->results));
        return;
      }
      if (self->sink_life.expired()) {  // the rest stays unattempted
        self->done(std::move(self->results));
        return;
      }
      self->step();
    });
  }
};

}  // namespace

void Sink::deliver_batch(std::span<const watch::Event* const> events, BatchDone done) {
  if (events.empty()) {
    post_batch_done(std::move(done), {});
    return;
  }
  auto walk = std::make_shared<BatchWalk>();
  walk->sink = this;
  walk->sink_life = life_;
  walk->events.assign(events.begin(), events.end());
  walk->results.reserve(events.size());
  walk->done = std::move(done);
  walk->step();  // deliver() posts its completion, so `done` still runs later
}

}  // namespace jobwatch::sinks
