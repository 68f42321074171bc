// Status meanings (SPEC §1.3) shared by every API's mapping.
#include "jobwatch/model/snapshot.hpp"

#include <array>
#include <utility>

namespace jobwatch::model {

bool is_terminal(JobStatus status) {
  return status == JobStatus::failed || status == JobStatus::successful;
}

std::string_view status_word(JobStatus status) {
  switch (status) {
    case JobStatus::failed:
      return "failed";
    case JobStatus::successful:
      return "succeeded";
    case JobStatus::handling:
      return "handling";
    case JobStatus::initializing:
      return "initializing";
  }
  return "unknown";
}

std::optional<JobStatus> status_from_code(std::int64_t code) {
  switch (code) {
    case 0:
      return JobStatus::failed;
    case 1:
      return JobStatus::successful;
    case 2:
      return JobStatus::handling;
    case 3:
      return JobStatus::initializing;
    default:
      return std::nullopt;
  }
}

std::optional<JobStatus> status_from_name(std::string_view name) {
  // ROLLBACK and ABORTING are still on their way somewhere: not an end.
  static constexpr std::array<std::pair<std::string_view, JobStatus>, 10> table{{
      {"WAITING", JobStatus::initializing},
      {"INIT", JobStatus::initializing},
      {"RUNNING", JobStatus::handling},
      {"ROLLBACK", JobStatus::handling},
      {"ABORTING", JobStatus::handling},
      {"SUCCESS", JobStatus::successful},
      {"COMPLETE", JobStatus::successful},
      {"FAILED", JobStatus::failed},
      {"FAIL", JobStatus::failed},
      {"ABNORMAL", JobStatus::failed},
  }};
  for (const auto& [word, meaning] : table)
    if (word == name) return meaning;
  return std::nullopt;
}

std::string job_type_text(const boost::json::value& job_type) {
  if (const auto* s = job_type.if_string()) return std::string(s->data(), s->size());
  if (const auto* i = job_type.if_int64()) return std::to_string(*i);
  if (const auto* u = job_type.if_uint64()) return std::to_string(*u);
  return {};
}

}  // namespace jobwatch::model
