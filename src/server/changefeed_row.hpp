// One change of the database feed as the hub's per-subscriber filters see it (issue #16): the parsed
// `postgres_changes` payload ({schema, table, commit_timestamp, eventType, new, old, errors}). The hub parses it
// once per publication on a db: channel and keeps it beside the history entry, so live fan-out and recovery
// replay filter from the same parse.
#pragma once

#include <memory>
#include <string_view>

#include <nlohmann/json.hpp>

namespace tidewire::server {

struct ChangeRow {
  enum class Kind { kInsert, kUpdate, kDelete };
  Kind kind = Kind::kInsert;
  nlohmann::json new_record = nlohmann::json::object();  // {} on DELETE
  nlohmann::json old_record = nlohmann::json::object();  // {} on INSERT; replica-identity columns otherwise
};

// Null when `payload_json` is not a postgres_changes payload.
std::shared_ptr<const ChangeRow> parse_change_row(std::string_view payload_json);

}  // namespace tidewire::server
