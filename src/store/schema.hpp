// Brings a freshly opened connection to the current schema: pragmas, the
// integrity and ownership checks, and the migration list.
#pragma once

#include <optional>

#include "sqlite.hpp"

namespace jobwatch::store::detail {

// `PRAGMA application_id` of every jobwatch state database ("jwdb").
inline constexpr std::int64_t application_id = 0x6A776462;

// The schema version this build writes (the number of migrations).
int latest_schema_version();

// WAL, synchronous=FULL, foreign keys, busy timeout; refuses a file that is
// damaged, not ours, or from a newer jobwatch; then migrates to the latest
// version, one transaction per step.
std::optional<StoreError> prepare_database(Database& db);

}  // namespace jobwatch::store::detail
