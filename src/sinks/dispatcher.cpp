#include "jobwatch/sinks/dispatcher.hpp"

#include <algorithm>
#include <random>
#include <set>

#include "jobwatch/sinks/file_sink.hpp"
#include "jobwatch/sinks/log_sink.hpp"
#include "jobwatch/sinks/webhook_sink.hpp"

namespace jobwatch::sinks {

namespace {

RetryPolicy with_defaults(RetryPolicy policy) {
  if (!policy.jitter) {
    policy.jitter = [rng = std::mt19937_64(std::random_device{}()),
                     dist = std::uniform_real_distribution<double>(0.0, 1.0)]() mutable {
      return dist(rng);
    };
  }
  if (!policy.now) policy.now = [] { return std::chrono::steady_clock::now(); };
  if (!policy.wall_now) policy.wall_now = [] { return std::chrono::system_clock::now(); };
  return policy;
}

std::variant<std::unique_ptr<Sink>, std::string> make_sink(
    const boost::asio::any_io_executor& executor, const config::SinkConfig& config) {
  switch (config.type) {
    case config::SinkType::log:
      return std::make_unique<LogSink>(executor, config.name);
    case config::SinkType::file:
      if (config.path.empty()) return "sinks[" + config.name + "].path: required for a file sink";
      return std::make_unique<FileSink>(executor, config.name, config.path);
    case config::SinkType::webhook: {
      auto made = WebhookSink::create(executor, config);
      if (auto* error = std::get_if<std::string>(&made)) return std::move(*error);
      return std::unique_ptr<Sink>(std::move(std::get<std::unique_ptr<WebhookSink>>(made)));
    }
  }
  return "sinks[" + config.name + "]: unknown sink type";
}

}  // namespace

std::variant<std::unique_ptr<Dispatcher>, std::string> Dispatcher::create(
    const boost::asio::any_io_executor& executor, const std::vector<config::SinkConfig>& sinks,
    RetryPolicy policy, metrics::Registry* registry) {
  std::vector<SinkSpec> specs;
  std::set<std::string> names;
  for (const auto& config : sinks) {
    if (!names.insert(config.name).second) {
      return "sinks[" + config.name + "]: duplicate sink name";
    }
    SinkSpec spec;
    for (const auto& name : config.events) {
      const auto type = watch::type_from_name(name);
      if (!type) return "sinks[" + config.name + "].events: unknown event type \"" + name + "\"";
      spec.events.push_back(*type);
    }
    auto sink = make_sink(executor, config);
    if (auto* error = std::get_if<std::string>(&sink)) return std::move(*error);
    spec.sink = std::move(std::get<std::unique_ptr<Sink>>(sink));
    spec.max_age = config.max_age;
    specs.push_back(std::move(spec));
  }
  return with_sinks(std::move(specs), std::move(policy), registry);
}

std::unique_ptr<Dispatcher> Dispatcher::with_sinks(std::vector<SinkSpec> sinks, RetryPolicy policy,
                                                   metrics::Registry* registry) {
  return std::unique_ptr<Dispatcher>(new Dispatcher(std::move(sinks), std::move(policy), registry));
}

Dispatcher::Dispatcher(std::vector<SinkSpec> sinks, RetryPolicy policy, metrics::Registry* registry)
    : policy_(std::make_shared<RetryPolicy>(with_defaults(std::move(policy)))),
      registry_(registry) {
  outcomes_ = &registry_->counter(
      "jobwatch_events_total",
      "Delivery outcomes by event type and sink: delivered, retry (an attempt failed with an "
      "error worth retrying) or dead_lettered.",
      {"type", "sink", "result"});
  for (auto& spec : sinks) {
    // Loops report dead letters through a token, not `this`, so a late
    // completion after the dispatcher is gone does nothing.
    auto on_dead = [this, alive = std::weak_ptr<bool>(alive_)](DeadLetter letter) {
      if (alive.lock()) add_dead_letter(std::move(letter));
    };
    loops_.push_back(std::make_shared<DeliveryLoop>(std::move(spec.sink), EventFilter(spec.events),
                                                    spec.max_age, policy_, std::move(on_dead),
                                                    *outcomes_));
  }
}

Dispatcher::~Dispatcher() {
  stop();
}

void Dispatcher::submit(const watch::Event& event) {
  const bool wanted = std::any_of(loops_.begin(), loops_.end(),
                                  [&](const auto& loop) { return loop->accepts(event.type); });
  if (wanted) submit(std::make_shared<const watch::Event>(event));
}

void Dispatcher::submit(const std::shared_ptr<const watch::Event>& event) {
  for (auto& loop : loops_) {
    if (loop->accepts(event->type)) loop->push(event);
  }
}

std::vector<std::string> Dispatcher::sinks_for(watch::EventType type) const {
  std::vector<std::string> names;
  for (const auto& loop : loops_) {
    if (loop->accepts(type)) names.push_back(loop->sink().name());
  }
  return names;
}

void Dispatcher::set_observer(DeliveryObserver* observer) {
  for (auto& loop : loops_) loop->set_observer(observer);
}

std::vector<OwedDelivery> Dispatcher::restore(std::vector<OwedDelivery> owed) {
  std::vector<OwedDelivery> not_queued;
  const auto steady_now = policy_->now();
  const auto wall_now = policy_->wall_now();
  for (auto& item : owed) {
    auto* loop = item.event ? find_loop(item.sink) : nullptr;
    if (!loop) {
      not_queued.push_back(std::move(item));
      continue;
    }
    // The loop measures age on the steady clock; the age so far is only
    // known on the wall clock. A created_at in the future counts as new.
    const auto age = std::max(wall_now - item.created_at, std::chrono::system_clock::duration{0});
    const auto enqueued =
        steady_now - std::chrono::duration_cast<std::chrono::steady_clock::duration>(age);
    loop->push(std::move(item.event), enqueued, item.attempts);
  }
  return not_queued;
}

DeliveryLoop* Dispatcher::find_loop(std::string_view sink) const {
  for (const auto& loop : loops_) {
    if (loop->sink().name() == sink) return loop.get();
  }
  return nullptr;
}

boost::json::object Dispatcher::stats() const {
  boost::json::object out;
  for (const auto& loop : loops_) out[loop->sink().name()] = loop->stats();
  return out;
}

void Dispatcher::reopen() {
  for (auto& loop : loops_) loop->reopen();
}

void Dispatcher::pause() {
  for (auto& loop : loops_) loop->pause();
}

void Dispatcher::resume() {
  for (auto& loop : loops_) loop->resume();
}

void Dispatcher::stop() {
  if (stopped_) return;
  stopped_ = true;
  for (auto& loop : loops_) loop->stop();
}

std::size_t Dispatcher::pending() const {
  std::size_t total = 0;
  for (const auto& loop : loops_) total += loop->pending();
  return total;
}

std::vector<std::pair<std::string, std::size_t>> Dispatcher::pending_by_sink() const {
  std::vector<std::pair<std::string, std::size_t>> out;
  out.reserve(loops_.size());
  for (const auto& loop : loops_) out.emplace_back(loop->sink().name(), loop->pending());
  return out;
}

std::size_t Dispatcher::in_flight() const {
  std::size_t total = 0;
  for (const auto& loop : loops_) total += loop->in_flight();
  return total;
}

std::uint64_t Dispatcher::dead_lettered_total() const {
  return dead_lettered_before_ +
         metrics::as_count(outcomes_->sum_where({{"result", "dead_lettered"}}));
}

void Dispatcher::add_dead_letter(DeadLetter letter) {
  dead_letters_.push_back(std::move(letter));
  if (dead_letters_.size() > max_dead_letters) dead_letters_.pop_front();
}

}  // namespace jobwatch::sinks
