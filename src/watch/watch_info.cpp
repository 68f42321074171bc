// WatchInfo as the control protocol shows it (SPEC §3).
#include "jobwatch/watch/watch_info.hpp"

namespace jobwatch::watch {

std::string_view state_name(WatchState state) {
  switch (state) {
    case WatchState::pending:
      return "pending";
    case WatchState::initializing:
      return "initializing";
    case WatchState::handling:
      return "handling";
    case WatchState::succeeded:
      return "succeeded";
    case WatchState::failed:
      return "failed";
    case WatchState::abandoned:
      return "abandoned";
  }
  return "unknown";
}

bool is_finished(WatchState state) {
  return state == WatchState::succeeded || state == WatchState::failed ||
         state == WatchState::abandoned;
}

boost::json::object to_json(const WatchInfo& info) {
  boost::json::object obj;
  obj["job_id"] = info.job.job_id;
  obj["project_id"] = info.job.project_id;
  obj["api"] = model::api_name(info.api);
  if (!info.job_type.empty()) obj["job_type"] = info.job_type;
  boost::json::object labels;
  for (const auto& [key, value] : info.labels) labels[key] = value;
  obj["labels"] = std::move(labels);
  obj["status"] = state_name(info.status);
  obj["subjobs_total"] = info.subjobs_total;
  obj["subjobs_done"] = info.subjobs_done;
  obj["polls"] = info.polls;
  if (info.progress) obj["progress"] = *info.progress;
  // Milliseconds (when not zero) so a poll due within the second does not
  // look overdue.
  if (info.last_poll_at) obj["last_poll_at"] = model::format_rfc3339(*info.last_poll_at, true);
  if (info.next_poll_at) obj["next_poll_at"] = model::format_rfc3339(*info.next_poll_at, true);
  if (info.expected_end_time) {
    obj["expected_end_time"] = model::format_rfc3339(*info.expected_end_time, true);
  }
  if (info.predicted_end) {
    obj["predicted_end"] =
        boost::json::object{{"p10", model::format_rfc3339(info.predicted_end->p10)},
                            {"p50", model::format_rfc3339(info.predicted_end->p50)},
                            {"p90", model::format_rfc3339(info.predicted_end->p90)}};
  }
  if (!info.last_error.empty()) obj["last_error"] = info.last_error;
  if (info.abandon_reason) obj["reason"] = reason_name(*info.abandon_reason);
  // `created` belongs to Watch replies only; the control service adds it there.
  return obj;
}

}  // namespace jobwatch::watch
