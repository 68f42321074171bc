// A terminal transition as every sink receives it (SPEC §5). The document is
// rendered once, when the transition is detected; sinks and the store move
// the same bytes around and never re-render.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace jobwatch::watch {

enum class EventType {
  job_succeeded,
  job_failed,
  subjob_succeeded,
  subjob_failed,
  watch_abandoned
};

std::string_view type_name(EventType type);  // "job.succeeded", …
std::optional<EventType> type_from_name(std::string_view name);
bool is_final(EventType type);  // job.* and watch.abandoned end a watch

enum class AbandonReason { not_found, rejected, deadline };
std::string_view reason_name(AbandonReason reason);  // "not_found", …
std::optional<AbandonReason> reason_from_name(std::string_view name);

struct Event {
  std::string id;  // "evt_" + 32 hex digits of SHA-256(project, job, subjob, type)
  EventType type = EventType::job_succeeded;
  std::string project_id;
  std::string job_id;
  std::string subjob_id;  // empty for job.* and watch.abandoned
  std::string document;   // the JSON every sink receives, one line, no newline
  // observed_at minus the end_time the API reported, for the detection-delay
  // metric; set only when the transition is detected (not when an event is
  // rebuilt from a stored document) and the API gave an end_time.
  std::optional<std::chrono::milliseconds> detection_delay;
};

// Deterministic event id: the same transition always gets the same id, also
// when re-detected after a restart.
std::string event_id(std::string_view project_id, std::string_view job_id,
                     std::string_view subjob_id, EventType type);

}  // namespace jobwatch::watch
