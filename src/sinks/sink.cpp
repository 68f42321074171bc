#include "jobwatch/sinks/sink.hpp"

#include <algorithm>
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
    case DeliveryResult::Kind::not_attempted:
      return "not_attempted";
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

// Walks a batch in groups, up to `parallel` groups in flight: within a
// group each event goes out from the previous one's completion, and a
// retry ends the group (the rest stays not_attempted, so nothing
// overtakes the event being retried). One group of everything is the
// plain one-by-one walk.
struct Walk : std::enable_shared_from_this<Walk> {
  Sink* sink = nullptr;
  Lifetime::Token sink_life;
  std::vector<const watch::Event*> events;
  std::vector<std::vector<std::size_t>> groups;  // positions in `events`
  std::vector<DeliveryResult> results;           // not_attempted until answered
  std::size_t next_group = 0;
  std::size_t running = 0;
  Sink::BatchDone done;

  void start(std::size_t parallel) {
    while (running < parallel && next_group < groups.size()) {
      ++running;
      step(next_group++, 0);
    }
  }

  void step(std::size_t group, std::size_t k) {
    if (k == groups[group].size() || sink_life.expired()) {
      group_done();
      return;
    }
    const std::size_t at = groups[group][k];
    sink->deliver(*events[at], [self = shared_from_this(), group, k, at](DeliveryResult result) {
      const bool stop = result.kind == DeliveryResult::Kind::retry;
      self->results[at] = std::move(result);
      if (stop)
        self->group_done();
      else
        self->step(group, k + 1);
    });
  }

  void group_done() {
    --running;
    if (!sink_life.expired()) start(1);
    if (running == 0) done(std::move(results));
  }
};

// A batch is a few hundred events at most: a linear search for the group.
std::vector<std::vector<std::size_t>> groups_by_job(std::span<const watch::Event* const> events) {
  std::vector<std::vector<std::size_t>> groups;
  std::vector<const watch::Event*> first_of_group;
  for (std::size_t i = 0; i < events.size(); ++i) {
    auto same_job = [&](const watch::Event* first) {
      return first->project_id == events[i]->project_id && first->job_id == events[i]->job_id;
    };
    auto it = std::find_if(first_of_group.begin(), first_of_group.end(), same_job);
    if (it == first_of_group.end()) {
      first_of_group.push_back(events[i]);
      groups.emplace_back();
      groups.back().push_back(i);
    } else {
      groups[static_cast<std::size_t>(it - first_of_group.begin())].push_back(i);
    }
  }
  return groups;
}

}  // namespace

void Sink::walk(std::span<const watch::Event* const> events,
                std::vector<std::vector<std::size_t>> groups, std::size_t parallel,
                BatchDone done) {
  if (events.empty()) {
    post_batch_done(std::move(done), {});
    return;
  }
  auto walk = std::make_shared<Walk>();
  walk->sink = this;
  walk->sink_life = lifetime_.token();
  walk->events.assign(events.begin(), events.end());
  walk->groups = std::move(groups);
  walk->results.assign(events.size(), DeliveryResult::not_attempted());
  walk->done = std::move(done);
  walk->start(std::max<std::size_t>(parallel, 1));  // deliver() posts, so `done` runs later
}

void Sink::deliver_by_job(std::span<const watch::Event* const> events, std::size_t parallel,
                          BatchDone done) {
  walk(events, groups_by_job(events), parallel, std::move(done));
}

void Sink::deliver_batch(std::span<const watch::Event* const> events, BatchDone done) {
  std::vector<std::size_t> in_order(events.size());
  for (std::size_t i = 0; i < in_order.size(); ++i) in_order[i] = i;
  walk(events, {std::move(in_order)}, 1, std::move(done));
}

}  // namespace jobwatch::sinks
