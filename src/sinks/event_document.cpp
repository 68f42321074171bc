// event_from_document: an owed event back from the bytes the
// store kept, so a restart delivers exactly what was committed.
#include "jobwatch/sinks/event_document.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

namespace jobwatch::sinks {

namespace {

const boost::json::string* string_at(const boost::json::object& object, std::string_view key) {
  const auto* value = object.if_contains(key);
  return value ? value->if_string() : nullptr;
}

}  // namespace

std::optional<watch::Event> event_from_document(std::string_view document) {
  boost::system::error_code ec;
  const auto parsed = boost::json::parse(document, ec);
  if (ec || !parsed.is_object()) return std::nullopt;
  const auto& root = parsed.get_object();

  const auto* id = string_at(root, "id");
  const auto* type_text = string_at(root, "type");
  const auto* data_value = root.if_contains("data");
  if (!id || id->empty() || !type_text || !data_value || !data_value->is_object()) {
    return std::nullopt;
  }
  const auto type = watch::type_from_name(*type_text);
  if (!type) return std::nullopt;
  const auto& data = data_value->get_object();
  const auto* project_id = string_at(data, "project_id");
  const auto* job_id = string_at(data, "job_id");
  if (!project_id || !job_id) return std::nullopt;

  watch::Event event;
  event.id = std::string(*id);
  event.type = *type;
  event.project_id = std::string(*project_id);
  event.job_id = std::string(*job_id);
  if (const auto* subjob = data.if_contains("subjob_id"); subjob && !subjob->is_null()) {
    if (!subjob->is_string()) return std::nullopt;
    event.subjob_id = std::string(subjob->get_string());
  }
  const bool about_subjob =
      *type == watch::EventType::subjob_succeeded || *type == watch::EventType::subjob_failed;
  if (about_subjob && event.subjob_id.empty()) return std::nullopt;
  event.document = std::string(document);  // the exact bytes, never re-rendered
  return event;
}

}  // namespace jobwatch::sinks
