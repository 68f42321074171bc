// Event type names and deterministic event ids.
#include "jobwatch/watch/event.hpp"

#include <openssl/evp.h>

#include <array>
#include <cstdlib>

namespace jobwatch::watch {

std::string_view type_name(EventType type) {
  switch (type) {
    case EventType::job_succeeded:
      return "job.succeeded";
    case EventType::job_failed:
      return "job.failed";
    case EventType::subjob_succeeded:
      return "subjob.succeeded";
    case EventType::subjob_failed:
      return "subjob.failed";
    case EventType::watch_abandoned:
      return "watch.abandoned";
  }
  return "unknown";
}

std::optional<EventType> type_from_name(std::string_view name) {
  for (auto type : {EventType::job_succeeded, EventType::job_failed, EventType::subjob_succeeded,
                    EventType::subjob_failed, EventType::watch_abandoned}) {
    if (type_name(type) == name) return type;
  }
  return std::nullopt;
}

bool is_final(EventType type) {
  return type == EventType::job_succeeded || type == EventType::job_failed ||
         type == EventType::watch_abandoned;
}

std::string_view reason_name(AbandonReason reason) {
  switch (reason) {
    case AbandonReason::not_found:
      return "not_found";
    case AbandonReason::rejected:
      return "rejected";
    case AbandonReason::deadline:
      return "deadline";
  }
  return "unknown";
}

std::string event_id(std::string_view project_id, std::string_view job_id,
                     std::string_view subjob_id, EventType type) {
  // Newline-separated: IDs cannot contain one (SPEC §3), so the fields
  // cannot run into each other.
  std::string input;
  const std::string_view name = type_name(type);
  input.reserve(project_id.size() + job_id.size() + subjob_id.size() + name.size() + 3);
  input.append(project_id)
      .append("\n")
      .append(job_id)
      .append("\n")
      .append(subjob_id)
      .append("\n")
      .append(name);

  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  if (EVP_Digest(input.data(), input.size(), digest.data(), &length, EVP_sha256(), nullptr) != 1 ||
      length < 16) {
    // SHA-256 is always available in OpenSSL 3's default provider; failing
    // here means the process is unusable anyway.
    std::abort();
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id = "evt_";
  id.reserve(4 + 32);
  for (unsigned i = 0; i < 16; ++i) {
    id.push_back(kHex[digest[i] >> 4]);
    id.push_back(kHex[digest[i] & 0x0f]);
  }
  return id;
}

}  // namespace jobwatch::watch
