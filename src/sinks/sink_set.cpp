#include "jobwatch/sinks/sink_set.hpp"

#include <set>

#include "jobwatch/sinks/file_sink.hpp"
#include "jobwatch/sinks/log_sink.hpp"
#include "jobwatch/sinks/webhook_sink.hpp"

namespace jobwatch::sinks {
namespace {

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

std::variant<std::vector<SinkSpec>, std::string> build_sinks(
    const boost::asio::any_io_executor& executor, const std::vector<config::SinkConfig>& sinks) {
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
  return specs;
}

}  // namespace jobwatch::sinks
