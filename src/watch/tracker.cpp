// Status diffing and event rendering (SPEC §5). Each document is rendered
// once, here, and then only moved around.
#include "jobwatch/watch/tracker.hpp"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <utility>

namespace jobwatch::watch {

namespace json = boost::json;

namespace {

WatchStatus state_of_status(model::JobStatus status) {
  switch (status) {
    case model::JobStatus::failed:
      return WatchStatus::failed;
    case model::JobStatus::successful:
      return WatchStatus::succeeded;
    case model::JobStatus::handling:
      return WatchStatus::handling;
    case model::JobStatus::initializing:
      return WatchStatus::initializing;
  }
  return WatchStatus::pending;
}

json::value status_or_null(const std::optional<model::JobStatus>& status) {
  if (!status) return nullptr;
  return json::string(model::status_word(*status));
}

json::object labels_json(const Labels& labels) {
  json::object obj;
  obj.reserve(labels.size());
  for (const auto& [key, value] : labels) obj[key] = value;
  return obj;
}

void put_if(json::object& data, std::string_view key, const std::optional<std::string>& value) {
  if (value) data[key] = *value;
}

Event make_event(EventType type, const JobRef& job, std::string_view subjob_id, model::WallTime at,
                 json::object data) {
  Event event;
  event.id = event_id(job.project_id, job.job_id, subjob_id, type);
  event.type = type;
  event.project_id = job.project_id;
  event.job_id = job.job_id;
  event.subjob_id = std::string(subjob_id);
  json::object document;
  document["id"] = event.id;
  document["type"] = type_name(type);
  document["timestamp"] = model::format_rfc3339(at);
  document["data"] = std::move(data);
  event.document = json::serialize(document);
  return event;
}

// The fields that job and subjob events share, in SPEC §5's order.
json::object transition_data(const EventSubject& subject, std::string_view subjob_id,
                             const model::StatusSnapshot& info,
                             std::optional<model::JobStatus> previous,
                             model::WallTime observed_at) {
  json::object data;
  data["project_id"] = subject.job.project_id;
  data["job_id"] = subject.job.job_id;
  if (!subjob_id.empty()) data["subjob_id"] = subjob_id;
  data["api"] = model::api_name(subject.api);
  if (!info.job_type.is_null()) data["job_type"] = info.job_type;
  data["status"] = model::status_word(info.status);
  data["status_code"] = static_cast<std::int64_t>(info.status);
  data["upstream_status"] = info.upstream_status;
  data["previous_status"] = status_or_null(previous);
  data["labels"] = labels_json(subject.labels);
  data["observed_at"] = model::format_rfc3339(observed_at);
  put_if(data, "begin_time", info.begin_time);
  put_if(data, "end_time", info.end_time);
  put_if(data, "execute_code", info.execute_code);
  put_if(data, "execute_message", info.execute_message);
  data["detail"] = info.raw;
  return data;
}

// How late a transition was noticed; nullopt when the API gave no end_time.
std::optional<std::chrono::milliseconds> delay_since(const std::optional<std::string>& end_time,
                                                     model::WallTime observed_at) {
  if (!end_time) return std::nullopt;
  const auto ended = model::parse_rfc3339(*end_time);
  if (!ended) return std::nullopt;
  return observed_at - *ended;
}

SubjobSeen& seen_entry(std::vector<SubjobSeen>& seen, const std::string& id) {
  auto it = std::lower_bound(
      seen.begin(), seen.end(), id,
      [](const SubjobSeen& s, const std::string& key) { return s.subjob_id < key; });
  if (it == seen.end() || it->subjob_id != id)
    it = seen.insert(it, SubjobSeen{id, std::nullopt, false});
  return *it;
}

}  // namespace

WatchStatus watch_status(const TrackState& state) {
  if (state.abandoned) return WatchStatus::abandoned;
  if (!state.job_status) return WatchStatus::pending;
  return state_of_status(*state.job_status);
}

Observation observe(TrackState& state, const EventSubject& subject,
                    const model::JobSnapshot& snapshot, model::WallTime observed_at) {
  Observation out;
  const auto done = std::count_if(
      snapshot.subjobs.begin(), snapshot.subjobs.end(),
      [](const model::SubjobSnapshot& sub) { return model::is_terminal(sub.status); });
  out.subjobs_total = static_cast<std::uint32_t>(snapshot.subjobs.size());
  out.subjobs_done = static_cast<std::uint32_t>(done);
  if (state.finished) {
    out.new_status = watch_status(state);
    return out;
  }

  for (const model::SubjobSnapshot& sub : snapshot.subjobs) {
    SubjobSeen& seen = seen_entry(state.subjobs, sub.id);
    if (seen.reported) continue;  // flips after the first terminal status are not news
    if (!model::is_terminal(sub.status)) {
      seen.last_nonterminal = sub.status;
      continue;
    }
    const EventType type = sub.status == model::JobStatus::successful ? EventType::subjob_succeeded
                                                                      : EventType::subjob_failed;
    out.events.push_back(
        make_event(type, subject.job, sub.id, observed_at,
                   transition_data(subject, sub.id, sub, seen.last_nonterminal, observed_at)));
    out.events.back().detection_delay = delay_since(sub.end_time, observed_at);
    seen.reported = true;
  }

  state.job_status = snapshot.status;
  if (model::is_terminal(snapshot.status)) {
    const EventType type = snapshot.status == model::JobStatus::successful
                               ? EventType::job_succeeded
                               : EventType::job_failed;
    out.events.push_back(make_event(
        type, subject.job, {}, observed_at,
        transition_data(subject, {}, snapshot, state.last_nonterminal_job_status, observed_at)));
    out.events.back().detection_delay = delay_since(snapshot.end_time, observed_at);
    state.finished = true;
  } else {
    state.last_nonterminal_job_status = snapshot.status;
  }
  out.new_status = watch_status(state);
  return out;
}

std::optional<Event> abandon_event(TrackState& state, const EventSubject& subject,
                                   AbandonReason reason, std::string_view error_code,
                                   std::string_view error_msg, model::WallTime now,
                                   std::string_view last_job_json) {
  if (state.finished) return std::nullopt;
  json::object data;
  data["project_id"] = subject.job.project_id;
  data["job_id"] = subject.job.job_id;
  data["api"] = model::api_name(subject.api);
  data["reason"] = reason_name(reason);
  data["labels"] = labels_json(subject.labels);
  data["observed_at"] = model::format_rfc3339(now);
  if (!error_code.empty()) data["error_code"] = error_code;
  if (!error_msg.empty()) data["error_msg"] = error_msg;
  data["previous_status"] = status_or_null(state.last_nonterminal_job_status);
  if (!last_job_json.empty()) {
    boost::system::error_code ec;
    json::value last = json::parse(last_job_json, ec);
    // The engine only keeps bodies that parsed; anything else is left out
    // rather than failing the event.
    if (!ec && last.is_object()) {
      // The job_type of an abandoned watch is whatever the last answer said.
      if (const json::value* job_type = last.get_object().if_contains("job_type");
          job_type && !job_type->is_null())
        data["job_type"] = *job_type;
      data["detail"] = std::move(last);
    }
  }
  state.finished = true;
  state.abandoned = true;
  return make_event(EventType::watch_abandoned, subject.job, {}, now, std::move(data));
}

json::object to_json(const TrackState& state) {
  json::object obj;
  if (state.job_status) obj["job_status"] = static_cast<std::int64_t>(*state.job_status);
  if (state.last_nonterminal_job_status) {
    obj["last_nonterminal"] = static_cast<std::int64_t>(*state.last_nonterminal_job_status);
  }
  json::array subjobs;
  subjobs.reserve(state.subjobs.size());
  for (const SubjobSeen& seen : state.subjobs) {
    json::object entry;
    entry["id"] = seen.subjob_id;
    if (seen.last_nonterminal)
      entry["last_nonterminal"] = static_cast<std::int64_t>(*seen.last_nonterminal);
    entry["reported"] = seen.reported;
    subjobs.emplace_back(std::move(entry));
  }
  obj["subjobs"] = std::move(subjobs);
  obj["finished"] = state.finished;
  obj["abandoned"] = state.abandoned;
  return obj;
}

namespace {

// Absent is fine; present must be a valid status code.
bool read_status(const json::object& obj, std::string_view key,
                 std::optional<model::JobStatus>& out) {
  const json::value* v = obj.if_contains(key);
  if (!v) return true;
  const auto* code = v->if_int64();
  if (!code) return false;
  out = model::status_from_code(*code);
  return out.has_value();
}

bool read_bool(const json::object& obj, std::string_view key, bool& out) {
  const json::value* v = obj.if_contains(key);
  if (!v) return true;
  if (!v->is_bool()) return false;
  out = v->get_bool();
  return true;
}

}  // namespace

std::optional<TrackState> track_state_from_json(const json::object& obj) {
  TrackState state;
  if (!read_status(obj, "job_status", state.job_status) ||
      !read_status(obj, "last_nonterminal", state.last_nonterminal_job_status) ||
      !read_bool(obj, "finished", state.finished) ||
      !read_bool(obj, "abandoned", state.abandoned)) {
    return std::nullopt;
  }
  if (const json::value* subjobs = obj.if_contains("subjobs")) {
    const auto* arr = subjobs->if_array();
    if (!arr) return std::nullopt;
    for (const json::value& item : *arr) {
      const auto* entry = item.if_object();
      if (!entry) return std::nullopt;
      const json::value* id = entry->if_contains("id");
      if (!id || !id->is_string()) return std::nullopt;
      SubjobSeen seen{std::string(id->get_string()), std::nullopt, false};
      if (!read_status(*entry, "last_nonterminal", seen.last_nonterminal) ||
          !read_bool(*entry, "reported", seen.reported)) {
        return std::nullopt;
      }
      state.subjobs.push_back(std::move(seen));
    }
  }
  // Keep the lookup invariant even if the stored order was disturbed.
  std::sort(state.subjobs.begin(), state.subjobs.end(),
            [](const SubjobSeen& a, const SubjobSeen& b) { return a.subjob_id < b.subjob_id; });
  const auto dup = std::unique(
      state.subjobs.begin(), state.subjobs.end(),
      [](const SubjobSeen& a, const SubjobSeen& b) { return a.subjob_id == b.subjob_id; });
  state.subjobs.erase(dup, state.subjobs.end());
  return state;
}

}  // namespace jobwatch::watch
