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

// Walks a batch one event at a time; each step runs from the previous
// step's completion, so the sink never sees two of these events at once.
struct BatchWalk : std::enable_shared_from_this<BatchWalk> {
  Sink* sink = nullptr;
  Lifetime::Token sink_life;
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

// The events of a batch grouped by job, up to `parallel` groups in flight;
// within a group each step runs from the previous one's completion.
struct JobWalk : std::enable_shared_from_this<JobWalk> {
  Sink* sink = nullptr;
  Lifetime::Token sink_life;
  std::vector<const watch::Event*> events;
  std::vector<std::vector<std::size_t>> groups;  // positions in `events`, per job
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

}  // namespace

void Sink::deliver_by_job(std::span<const watch::Event* const> events, std::size_t parallel,
                          BatchDone done) {
  if (events.empty()) {
    post_batch_done(std::move(done), {});
    return;
  }
  auto walk = std::make_shared<JobWalk>();
  walk->sink = this;
  walk->sink_life = lifetime_.token();
  walk->events.assign(events.begin(), events.end());
  walk->results.assign(events.size(), DeliveryResult::not_attempted());
  // A batch is a few hundred events at most: a linear search for the group.
  std::vector<std::pair<const watch::Event*, std::size_t>> first_of_job;
  for (std::size_t i = 0; i < events.size(); ++i) {
    auto same_job = [&](const auto& entry) {
      return entry.first->project_id == events[i]->project_id &&
             entry.first->job_id == events[i]->job_id;
    };
    auto it = std::find_if(first_of_job.begin(), first_of_job.end(), same_job);
    if (it == first_of_job.end()) {
      first_of_job.emplace_back(events[i], walk->groups.size());
      walk->groups.emplace_back();
      walk->groups.back().push_back(i);
    } else {
      walk->groups[it->second].push_back(i);
    }
  }
  walk->done = std::move(done);
  walk->start(std::max<std::size_t>(parallel, 1));  // deliver() posts, so `done` runs later
}

void Sink::deliver_batch(std::span<const watch::Event* const> events, BatchDone done) {
  if (events.empty()) {
    post_batch_done(std::move(done), {});
    return;
  }
  auto walk = std::make_shared<BatchWalk>();
  walk->sink = this;
  walk->sink_life = lifetime_.token();
  walk->events.assign(events.begin(), events.end());
  walk->results.reserve(events.size());
  walk->done = std::move(done);
  walk->step();  // deliver() posts its completion, so `done` still runs later
}

}  // namespace jobwatch::sinks
