#include "jobwatch/sinks/log_sink.hpp"

#include <spdlog/spdlog.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

namespace jobwatch::sinks {

namespace {

// Abandon reasons are only in the document; read just that field.
std::string abandon_reason(const std::string& document) {
  boost::system::error_code ec;
  const auto doc = boost::json::parse(document, ec);
  if (ec || !doc.is_object()) return {};
  const auto* data = doc.as_object().if_contains("data");
  if (!data || !data->is_object()) return {};
  const auto* reason = data->as_object().if_contains("reason");
  if (!reason || !reason->is_string()) return {};
  return std::string(reason->as_string());
}

bool is_warning(watch::EventType type) {
  return type == watch::EventType::job_failed || type == watch::EventType::subjob_failed ||
         type == watch::EventType::watch_abandoned;
}

}  // namespace

std::string format_log_line(const watch::Event& event) {
  std::string line = "event ";
  line.append(watch::type_name(event.type));
  line.append(" job=").append(event.job_id);
  line.append(" project=").append(event.project_id);
  if (!event.subjob_id.empty()) line.append(" subjob=").append(event.subjob_id);
  if (event.type == watch::EventType::watch_abandoned) {
    const auto reason = abandon_reason(event.document);
    if (!reason.empty()) line.append(" reason=").append(reason);
  }
  line.append(" id=").append(event.id);
  return line;
}

LogSink::LogSink(boost::asio::any_io_executor executor, std::string name)
    : Sink(std::move(executor), std::move(name), config::SinkType::log) {}

void LogSink::deliver(const watch::Event& event, Done done) {
  const auto line = format_log_line(event);
  if (is_warning(event.type)) {
    spdlog::warn("{}", line);
  } else {
    spdlog::info("{}", line);
  }
  post_done(std::move(done), DeliveryResult::ok());
}

}  // namespace jobwatch::sinks
