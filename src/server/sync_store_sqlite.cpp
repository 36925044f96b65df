#include "server/sync_store_sqlite.hpp"

#include <sqlite3.h>

namespace tidewire::server {

using nlohmann::json;

namespace {

void read_item(const SqliteStatement& st, SyncItem& out) {
  out.id = st.int64(0);
  out.version = st.int64(1);
  // The stored text was written by dump(): it parses; a damaged row degrades to {} rather than throwing.
  out.data = json::parse(st.text(2), nullptr, /*allow_exceptions=*/false);
  if (!out.data.is_object()) out.data = json::object();
  out.updated_at = st.int64(3);
  out.updated_by = st.text(4);
}

constexpr const char* kColumns = "id, version, data, updated_at, updated_by";

}  // namespace

std::string_view SqliteSyncStore::schema_v1() {
  return R"sql(
CREATE TABLE sync_items (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  channel TEXT NOT NULL, resource TEXT NOT NULL,
  version INTEGER NOT NULL, data TEXT NOT NULL,
  updated_at INTEGER NOT NULL, updated_by TEXT NOT NULL);
CREATE INDEX sync_items_by_resource ON sync_items(channel, resource, id);
)sql";
}

bool SqliteSyncStore::snapshot(std::string_view channel, std::string_view resource, std::vector<SyncItem>& out) {
  out.clear();
  SqliteStatement st = db_.prepare(std::string("SELECT ") + kColumns +
                                   " FROM sync_items WHERE channel = ?1 AND resource = ?2 ORDER BY id LIMIT ?3");
  st.bind(1, channel).bind(2, resource).bind(3, static_cast<std::int64_t>(kMaxSnapshotItems));
  int rc;
  while ((rc = st.step()) == SQLITE_ROW) {
    SyncItem item;
    read_item(st, item);
    out.push_back(std::move(item));
  }
  return rc == SQLITE_DONE;
}

bool SqliteSyncStore::insert(std::string_view channel, std::string_view resource, const json& data, std::string_view user,
                       std::int64_t now, SyncItem& out) {
  SqliteStatement st = db_.prepare(
      "INSERT INTO sync_items (channel, resource, version, data, updated_at, updated_by) "
      "VALUES (?1, ?2, 1, ?3, ?4, ?5)");
  st.bind(1, channel).bind(2, resource).bind(3, dump_sync_data(data)).bind(4, now).bind(5, user);
  if (!st.run()) return false;
  out.id = db_.last_insert_rowid();
  out.version = 1;
  out.data = data;
  out.updated_at = now;
  out.updated_by = std::string(user);
  return true;
}

SyncResult SqliteSyncStore::load(std::string_view channel, std::string_view resource, std::int64_t id, SyncItem& out) {
  SqliteStatement st = db_.prepare(std::string("SELECT ") + kColumns +
                                   " FROM sync_items WHERE id = ?1 AND channel = ?2 AND resource = ?3");
  st.bind(1, id).bind(2, channel).bind(3, resource);
  const int rc = st.step();
  if (rc == SQLITE_DONE) return SyncResult::kNotFound;
  if (rc != SQLITE_ROW) return SyncResult::kError;
  read_item(st, out);
  return SyncResult::kOk;
}

SyncResult SqliteSyncStore::update(std::string_view channel, std::string_view resource, std::int64_t id,
                             std::int64_t expected_version, const json& patch, std::string_view user,
                             std::int64_t now, SyncItem& out) {
  SqliteTransaction tx(db_);
  if (!tx.ok()) return SyncResult::kError;
  if (const SyncResult r = load(channel, resource, id, out); r != SyncResult::kOk) return r;
  if (out.version != expected_version) return SyncResult::kConflict;
  merge_sync_patch(out.data, patch);
  const std::string text = dump_sync_data(out.data);
  if (text.size() > kMaxItemBytes) return SyncResult::kTooLarge;
  out.version += 1;
  out.updated_at = now;
  out.updated_by = std::string(user);
  SqliteStatement st =
      db_.prepare("UPDATE sync_items SET version = ?2, data = ?3, updated_at = ?4, updated_by = ?5 WHERE id = ?1");
  st.bind(1, id).bind(2, out.version).bind(3, text).bind(4, now).bind(5, user);
  if (!st.run() || !tx.commit()) return SyncResult::kError;
  return SyncResult::kOk;
}

SyncResult SqliteSyncStore::remove(std::string_view channel, std::string_view resource, std::int64_t id,
                             std::optional<std::int64_t> expected_version, SyncItem& current) {
  SqliteTransaction tx(db_);
  if (!tx.ok()) return SyncResult::kError;
  if (const SyncResult r = load(channel, resource, id, current); r != SyncResult::kOk) return r;
  if (expected_version && current.version != *expected_version) return SyncResult::kConflict;
  SqliteStatement st = db_.prepare("DELETE FROM sync_items WHERE id = ?1");
  st.bind(1, id);
  if (!st.run() || !tx.commit()) return SyncResult::kError;
  return SyncResult::kOk;
}

}  // namespace tidewire::server
