// An owed event back from the bytes the store kept (SPEC §5), so that a
// restart delivers exactly what was committed.
#pragma once

#include <optional>
#include <string_view>

#include "jobwatch/watch/event.hpp"

namespace jobwatch::sinks {

// Rebuilds an event (id, type, project_id, job_id, subjob_id, document)
// from its stored JSON document; nullopt when it is not one.
std::optional<watch::Event> event_from_document(std::string_view document);

}  // namespace jobwatch::sinks
