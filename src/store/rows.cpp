// Conversions between the engine's structs, the store's rows and columns.
#include "jobwatch/store/rows.hpp"

#include <algorithm>
#include <array>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "codec.hpp"

namespace jobwatch::store {

namespace json = boost::json;

namespace detail {

namespace {

// Start-up parses two small documents for each of 100k rows: a DOM in a
// stack buffer (the heap only past 4 KiB) is a third of the cost of one
// built node by node on the heap and freed again.
template <class Read>
auto with_parsed_object(std::string_view text, Read read) -> decltype(read(json::object())) {
  unsigned char buffer[4096];
  json::monotonic_resource resource(buffer, sizeof buffer);
  boost::system::error_code ec;
  json::value value = json::parse(text, ec, &resource);
  if (ec || !value.is_object()) return std::nullopt;
  return read(value.get_object());
}

}  // namespace

std::string labels_to_json(const watch::Labels& labels) {
  json::object obj;
  obj.reserve(labels.size());
  for (const auto& [key, value] : labels) obj[key] = value;
  return json::serialize(obj);
}

std::optional<watch::Labels> labels_from_json(std::string_view text) {
  if (text == "{}") return watch::Labels{};  // most watches have none
  return with_parsed_object(text, [](const json::object& object) -> std::optional<watch::Labels> {
    watch::Labels labels;
    labels.reserve(object.size());
    for (const auto& [key, item] : object) {
      if (!item.is_string()) return std::nullopt;
      labels.emplace_back(std::string(key), std::string(item.get_string()));
    }
    std::sort(labels.begin(), labels.end());
    return labels;
  });
}

std::string track_to_json(const watch::TrackState& track) {
  return json::serialize(watch::to_json(track));
}

std::optional<watch::TrackState> track_from_json(std::string_view text) {
  return with_parsed_object(
      text, [](const json::object& object) { return watch::track_state_from_json(object); });
}

}  // namespace detail

StoredWatch to_stored(const watch::Watch& w) {
  StoredWatch s{static_cast<const watch::WatchRecord&>(w), std::nullopt};
  if (!watch::is_finished(w.status)) s.finished_at.reset();  // retention purges on it alone
  if (!w.unsaved_answer.empty()) s.last_job_json = w.unsaved_answer;
  return s;
}

WatchPolls polls_of(const watch::Watch& w) {
  WatchPolls p{.job = w.job,
               .polls = w.polls,
               .last_poll_at = w.last_poll_at,
               .next_poll_at = w.next_poll_at,
               .expected_end_time = w.expected_end_time,
               .last_error = w.last_error,
               .last_job_json = std::nullopt};
  if (!w.unsaved_answer.empty()) p.last_job_json = w.unsaved_answer;
  return p;
}

watch::Watch to_watch(StoredWatch s) {
  watch::Watch w;
  w.seen = s.track.job_status.has_value();
  std::optional<std::string> answer = std::move(s.last_job_json);
  static_cast<watch::WatchRecord&>(w) = std::move(static_cast<watch::WatchRecord&>(s));
  if (answer) watch::remember_answer(w, std::move(*answer));
  return w;
}

OutboxRow outbox_row(const watch::Event& event, std::string sink, model::WallTime now) {
  OutboxRow row;
  row.event_id = event.id;
  row.sink = std::move(sink);
  row.document = event.document;
  row.type = event.type;
  row.created_at = now;
  row.next_attempt_at = now;
  return row;
}

}  // namespace jobwatch::store
