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
    RetryPolicy policy) {
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
  return with_sinks(std::move(specs), std::move(policy));
}

std::unique_ptr<Dispatcher> Dispatcher::with_sinks(std::vector<SinkSpec> sinks,
                                                   RetryPolicy policy) {
  return std::unique_ptr<Dispatcher>(new Dispatcher(std::move(sinks), std::move(policy)));
}

Dispatcher::Dispatcher(std::vector<SinkSpec> sinks, RetryPolicy policy) {
  auto shared_policy = std::make_shared<RetryPolicy>(with_defaults(std::move(policy)));
  for (auto& spec : sinks) {
    // Loops report dead letters through a token, not `this`, so a late
    // completion after the dispatcher is gone does nothing.
    auto on_dead = [this, alive = std::weak_ptr<bool>(alive_)](DeadLetter letter) {
      if (alive.lock()) add_dead_letter(std::move(letter));
    };
    loops_.push_back(std::make_shared<DeliveryLoop>(std::move(spec.sink), EventFilter(spec.events),
                                                    spec.max_age, shared_policy,
                                                    std::move(on_dead)));
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

boost::json::object Dispatcher::stats() const {
  boost::json::object out;
  for (const auto& loop : loops_) out[loop->sink().name()] = loop->stats();
  return out;
}

void Dispatcher::reopen() {
  for (auto& loop : loops_) loop->reopen();
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

void Dispatcher::add_dead_letter(DeadLetter letter) {
  dead_letters_.push_back(std::move(letter));
  if (dead_letters_.size() > max_dead_letters) dead_letters_.pop_front();
}

}  // namespace jobwatch::sinks
