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

std::optional<watch::WatchState> state_from_name(std::string_view name) {
  using watch::WatchState;
  for (WatchState state : {WatchState::pending, WatchState::initializing, WatchState::handling,
                           WatchState::succeeded, WatchState::failed, WatchState::abandoned}) {
    if (watch::state_name(state) == name) return state;
  }
  return std::nullopt;
}

std::optional<watch::AbandonReason> reason_from_name(std::string_view name) {
  using watch::AbandonReason;
  for (AbandonReason reason :
       {AbandonReason::not_found, AbandonReason::rejected, AbandonReason::deadline}) {
    if (watch::reason_name(reason) == name) return reason;
  }
  return std::nullopt;
}

}  // namespace detail

StoredWatch to_stored(const watch::Watch& w) {
  StoredWatch s;
  s.job = w.job;
  s.api = w.api;
  s.job_type = w.job_type;
  s.labels = w.labels;
  s.submitter = w.submitter;
  s.created_at = w.created_at;
  s.deadline_at = w.deadline_at;
  s.state = w.state;
  s.track = w.track;
  s.subjobs_total = w.subjobs_total;
  s.subjobs_done = w.subjobs_done;
  s.polls = w.polls;
  s.last_poll_at = w.last_poll_at;
  s.next_poll_at = w.next_poll_at;
  s.expected_end = w.expected_end;
  s.last_error = w.last_error;
  if (!w.unsaved_answer.empty()) s.last_job_json = w.unsaved_answer;
  s.abandon_reason = w.abandon_reason;
  s.final_event = w.final_event;
  if (watch::is_finished(w.state)) s.finished_at = w.finished_at;
  return s;
}

WatchPolls polls_of(const watch::Watch& w) {
  WatchPolls p{w.job, w.polls, w.last_poll_at, w.next_poll_at, w.expected_end, w.last_error, {}};
  if (!w.unsaved_answer.empty()) p.last_job_json = w.unsaved_answer;
  return p;
}

watch::Watch to_watch(StoredWatch s) {
  watch::Watch w;
  w.job = std::move(s.job);
  w.api = s.api;
  w.job_type = std::move(s.job_type);
  w.labels = std::move(s.labels);
  w.submitter = s.submitter;
  w.created_at = s.created_at;
  w.deadline_at = s.deadline_at;
  w.state = s.state;
  w.seen = s.track.job_status.has_value();
  w.track = std::move(s.track);
  w.subjobs_total = s.subjobs_total;
  w.subjobs_done = s.subjobs_done;
  w.polls = s.polls;
  w.last_poll_at = s.last_poll_at;
  w.next_poll_at = s.next_poll_at;
  w.expected_end = s.expected_end;
  w.last_error = std::move(s.last_error);
  if (s.last_job_json) watch::remember_answer(w, std::move(*s.last_job_json));
  w.abandon_reason = s.abandon_reason;
  w.final_event = std::move(s.final_event);
  w.finished_at = s.finished_at.value_or(model::WallTime{});
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
