// wal2json's output (format-version 2, one JSON object per change, with include-transaction, include-timestamp
// and include-lsn) decoded into what the change feed publishes: the `postgres_changes` payload as Supabase
// delivers it, {schema, table, commit_timestamp (ISO 8601 UTC), eventType, new, old, errors: null}.
//
// Column values keep wal2json's JSON types (numbers, booleans, null, strings); json/jsonb columns, which wal2json
// prints as strings, are parsed into JSON. NaN/Infinity (not JSON) arrive as null.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tidewire::server {

struct Wal2jsonMessage {
  char action = 0;             // 'B' begin, 'C' commit, 'I' / 'U' / 'D' a row, 'T' truncate, 'M' message
  std::uint64_t lsn = 0;       // B/C: the commit record's LSN; I/U/D: the change's
  std::uint64_t next_lsn = 0;  // B/C: the end of the commit record (what a consumer confirms)
  std::string schema, table;   // I/U/D/T
  std::string payload;         // I/U/D: the postgres_changes payload JSON
};

// False (with `error`) when `line` is not a wal2json v2 object.
bool decode_wal2json(std::string_view line, Wal2jsonMessage& out, std::string& error);

// "0/1507DB8" -> 0x1507DB8; 0 when malformed.
std::uint64_t parse_lsn(std::string_view text);
std::string format_lsn(std::uint64_t lsn);

// Postgres's timestamptz text ("2026-12-04 23:22:32.618343+00", any offset) as ISO 8601 UTC with milliseconds
// ("2026-12-04T23:22:32.618Z"); the input unchanged when it cannot be parsed.
std::string iso_utc_timestamp(std::string_view pg_timestamp);

}  // namespace tidewire::server
