// Schema migrations of the Postgres store (#16), applied at server start (and at the first request that reaches
// the database, when it was down at start). Everything tidewire owns lives in the schema `tidewire`, apart from
// the app's tables; tidewire.schema_migrations lists the versions applied.
//
// Several nodes may start at once: the whole run is one transaction that first takes
// pg_advisory_xact_lock(kMigrationLock), so the others wait, then find the work done. A database migrated by a
// newer server (a version this one does not know) is refused.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "server/pg_connection.hpp"

namespace tidewire::server {

inline constexpr const char* kMigrationLock = "8388346167912133221";  // "tidewire" as a big-endian int64

// Brings the database to version migrations.size(): step i (0-based) runs when fewer than i+1 are recorded.
// Append-only: never edit a released step, add one. False with `error` set on failure (nothing is applied then).
bool pg_migrate(PgConnection& c, const std::vector<std::string_view>& migrations, std::string& error);

}  // namespace tidewire::server
