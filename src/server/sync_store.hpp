// Data sync items (docs/PROTOCOL.md section 12): per (channel, resource), items with a server-assigned int64 id
// (on the wire as a decimal string) and a version that starts at 1 and grows by one per change. The types and
// the SyncStore interface; implementations: SqliteSyncStore (sync_store_sqlite.*, the default) and PgSyncStore
// (sync_store_postgres.*, --database: shared by every node, versions checked by `UPDATE ... WHERE version = $n`
// so concurrent nodes never lose an update). Persistence and version checks only; the caller validates input
// and broadcasts. Nothing throws.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace tidewire::server {

struct SyncItem {
  std::int64_t id = 0;
  std::int64_t version = 0;
  nlohmann::json data = nlohmann::json::object();
  std::int64_t updated_at = 0;
  std::string updated_by;

  nlohmann::json to_json() const;  // {id, version, data, updatedAt, updatedBy}
};

enum class SyncResult { kOk, kNotFound, kConflict, kTooLarge, kError };

class SyncStore {
 public:
  // A snapshot holds at most this many items (the oldest first); larger resources need paging (not in v1).
  static constexpr int kMaxSnapshotItems = 10000;
  // An item's data, as JSON text, may not grow past this by merging (one request is bounded by the frame limit,
  // but repeated merges are not).
  static constexpr std::size_t kMaxItemBytes = 64 * 1024;

  virtual ~SyncStore() = default;

  // False while the store's database cannot be reached (see ChatStore::reachable()).
  virtual bool reachable() const { return true; }

  virtual bool snapshot(std::string_view channel, std::string_view resource, std::vector<SyncItem>& out) = 0;
  virtual bool insert(std::string_view channel, std::string_view resource, const nlohmann::json& data,
                      std::string_view user, std::int64_t now, SyncItem& out) = 0;
  // Shallow merge of `patch` into the item's data (a null value removes that field) when its version is
  // `expected_version`. kConflict: `out` holds the item as stored. kNotFound: no such item in that resource.
  // kTooLarge: the merged data would exceed kMaxItemBytes (nothing changed).
  virtual SyncResult update(std::string_view channel, std::string_view resource, std::int64_t id,
                            std::int64_t expected_version, const nlohmann::json& patch, std::string_view user,
                            std::int64_t now, SyncItem& out) = 0;
  // Deletes the item, checking its version when `expected_version` is given (kConflict: `current` holds it).
  virtual SyncResult remove(std::string_view channel, std::string_view resource, std::int64_t id,
                            std::optional<std::int64_t> expected_version, SyncItem& current) = 0;
};

// The merge of sync_update: `patch`'s fields replace `data`'s, a null removes the field.
void merge_sync_patch(nlohmann::json& data, const nlohmann::json& patch);
// An item's data as stored (JSON text; invalid UTF-8 replaced).
std::string dump_sync_data(const nlohmann::json& data);

}  // namespace tidewire::server
