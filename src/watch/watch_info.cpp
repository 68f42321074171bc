// WatchInfo as the control protocol shows it (SPEC §3).
#include "jobwatch/watch/watch_info.hpp"

#include <array>

#include "jobwatch/model/enum_names.hpp"

namespace jobwatch::watch {

namespace {

constexpr model::EnumNames watch_statuses{std::array{
    std::pair{WatchStatus::pending, std::string_view("pending")},
    std::pair{WatchStatus::initializing, std::string_view("initializing")},
    std::pair{WatchStatus::handling, std::string_view("handling")},
    std::pair{WatchStatus::succeeded, std::string_view("succeeded")},
    std::pair{WatchStatus::failed, std::string_view("failed")},
    std::pair{WatchStatus::abandoned, std::string_view("abandoned")},
}};

}  // namespace

std::string_view status_name(WatchStatus status) {
  return watch_statuses.name(status);
}

std::optional<WatchStatus> status_from_name(std::string_view name) {
  return watch_statuses.parse(name);
}

bool is_finished(WatchStatus status) {
  return status == WatchStatus::succeeded || status == WatchStatus::failed ||
         status == WatchStatus::abandoned;
}

boost::json::object to_json(const WatchInfo& info) {
  const WatchRecord& record = *info.record;
  boost::json::object obj;
  obj["job_id"] = record.job.job_id;
  obj["project_id"] = record.job.project_id;
  obj["api"] = model::api_name(record.api);
  if (!record.job_type.empty()) obj["job_type"] = record.job_type;
  boost::json::object labels;
  for (const auto& [key, value] : record.labels) labels[key] = value;
  obj["labels"] = std::move(labels);
  obj["status"] = status_name(record.status);
  obj["subjobs_total"] = record.subjobs_total;
  obj["subjobs_done"] = record.subjobs_done;
  obj["polls"] = record.polls;
  if (info.progress) obj["progress"] = *info.progress;
  // Milliseconds (when not zero) so a poll due within the second does not
  // look overdue.
  if (record.last_poll_at) obj["last_poll_at"] = model::format_rfc3339(*record.last_poll_at, true);
  if (record.next_poll_at) obj["next_poll_at"] = model::format_rfc3339(*record.next_poll_at, true);
  if (record.expected_end_time) {
    obj["expected_end_time"] = model::format_rfc3339(*record.expected_end_time, true);
  }
  if (info.predicted_end) {
    obj["predicted_end"] =
        boost::json::object{{"p10", model::format_rfc3339(info.predicted_end->p10)},
                            {"p50", model::format_rfc3339(info.predicted_end->p50)},
                            {"p90", model::format_rfc3339(info.predicted_end->p90)}};
  }
  if (!record.last_error.empty()) obj["last_error"] = record.last_error;
  if (record.reason) obj["reason"] = reason_name(*record.reason);
  // `created` belongs to Watch replies only; the control service adds it there.
  return obj;
}

}  // namespace jobwatch::watch
