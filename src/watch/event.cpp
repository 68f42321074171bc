// Event type names and deterministic event ids.
#include "jobwatch/watch/event.hpp"

#include <openssl/evp.h>

#include <array>
#include <cstdlib>

#include "jobwatch/model/enum_names.hpp"

namespace jobwatch::watch {

namespace {

constexpr model::EnumNames event_types{std::array{
    std::pair{EventType::job_succeeded, std::string_view("job.succeeded")},
    std::pair{EventType::job_failed, std::string_view("job.failed")},
    std::pair{EventType::subjob_succeeded, std::string_view("subjob.succeeded")},
    std::pair{EventType::subjob_failed, std::string_view("subjob.failed")},
    std::pair{EventType::watch_abandoned, std::string_view("watch.abandoned")},
}};

constexpr model::EnumNames abandon_reasons{std::array{
    std::pair{AbandonReason::not_found, std::string_view("not_found")},
    std::pair{AbandonReason::rejected, std::string_view("rejected")},
    std::pair{AbandonReason::deadline, std::string_view("deadline")},
}};

}  // namespace

std::string_view type_name(EventType type) {
  return event_types.name(type);
}

std::optional<EventType> type_from_name(std::string_view name) {
  return event_types.parse(name);
}

bool is_final(EventType type) {
  return type == EventType::job_succeeded || type == EventType::job_failed ||
         type == EventType::watch_abandoned;
}

std::string_view reason_name(AbandonReason reason) {
  return abandon_reasons.name(reason);
}

std::optional<AbandonReason> reason_from_name(std::string_view name) {
  return abandon_reasons.parse(name);
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
