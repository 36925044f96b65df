#include "server/sync_store_postgres.hpp"

namespace tidewire::server {

using nlohmann::json;

namespace {

constexpr const char* kColumns = "id, version, data, updated_at, updated_by";

void read_item(const PgResult& r, int row, SyncItem& out) {
  out.id = r.int64(row, 0);
  out.version = r.int64(row, 1);
  // Written by dump_sync_data(): it parses; a damaged row degrades to {} rather than throwing.
  out.data = json::parse(r.text(row, 2), nullptr, /*allow_exceptions=*/false);
  if (!out.data.is_object()) out.data = json::object();
  out.updated_at = r.int64(row, 3);
  out.updated_by = std::string(r.text(row, 4));
}

std::string num(std::int64_t v) { return std::to_string(v); }

// The item as stored: kOk, kNotFound or kError.
SyncResult load(PgConnection& c, std::string_view channel, std::string_view resource, std::int64_t id,
                SyncItem& out) {
  const PgResult r = c.exec(std::string("SELECT ") + kColumns +
                                " FROM tidewire.sync_items WHERE id = $1 AND channel = $2 AND resource = $3",
                            {num(id), std::string(channel), std::string(resource)});
  if (!r.ok()) return SyncResult::kError;
  if (r.rows() == 0) return SyncResult::kNotFound;
  read_item(r, 0, out);
  return SyncResult::kOk;
}

}  // namespace

std::string_view PgSyncStore::schema_v1() {
  // `data` is json (kept as written; jsonb would refuse the \u0000 a client may send).
  return R"sql(
CREATE TABLE tidewire.sync_items (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  channel TEXT NOT NULL, resource TEXT NOT NULL,
  version BIGINT NOT NULL, data JSON NOT NULL,
  updated_at BIGINT NOT NULL, updated_by TEXT NOT NULL);
CREATE INDEX sync_items_by_resource ON tidewire.sync_items (channel, resource, id);
)sql";
}

bool PgSyncStore::snapshot(std::string_view channel, std::string_view resource, std::vector<SyncItem>& out) {
  out.clear();
  auto c = pool_.acquire();
  if (!c) return false;
  const PgResult r = c->exec(std::string("SELECT ") + kColumns +
                                 " FROM tidewire.sync_items WHERE channel = $1 AND resource = $2 ORDER BY id LIMIT $3",
                             {std::string(channel), std::string(resource), num(kMaxSnapshotItems)});
  if (!r.ok()) return false;
  out.resize(static_cast<std::size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) read_item(r, i, out[static_cast<std::size_t>(i)]);
  return true;
}

bool PgSyncStore::insert(std::string_view channel, std::string_view resource, const json& data, std::string_view user,
                         std::int64_t now, SyncItem& out) {
  auto c = pool_.acquire();
  if (!c) return false;
  const PgResult r = c->exec(
      "INSERT INTO tidewire.sync_items (channel, resource, version, data, updated_at, updated_by) "
      "VALUES ($1, $2, 1, $3, $4, $5) RETURNING id",
      {std::string(channel), std::string(resource), dump_sync_data(data), num(now), std::string(user)});
  if (!r.ok() || r.rows() != 1) return false;
  out.id = r.int64(0, 0);
  out.version = 1;
  out.data = data;
  out.updated_at = now;
  out.updated_by = std::string(user);
  return true;
}

SyncResult PgSyncStore::update(std::string_view channel, std::string_view resource, std::int64_t id,
                               std::int64_t expected_version, const json& patch, std::string_view user,
                               std::int64_t now, SyncItem& out) {
  auto c = pool_.acquire();
  if (!c) return SyncResult::kError;
  if (const SyncResult r = load(*c, channel, resource, id, out); r != SyncResult::kOk) return r;
  if (out.version != expected_version) return SyncResult::kConflict;
  merge_sync_patch(out.data, patch);
  const std::string text = dump_sync_data(out.data);
  if (text.size() > kMaxItemBytes) return SyncResult::kTooLarge;
  // The merge was made on version `expected_version`: it is written only if the row is still at it.
  const PgResult r = c->exec(
      "UPDATE tidewire.sync_items SET version = version + 1, data = $5, updated_at = $6, updated_by = $7 "
      "WHERE id = $1 AND channel = $2 AND resource = $3 AND version = $4 RETURNING version",
      {num(id), std::string(channel), std::string(resource), num(expected_version), text, num(now),
       std::string(user)});
  if (!r.ok()) return SyncResult::kError;
  if (r.rows() == 0) {  // another node changed (or deleted) it since the read
    const SyncResult now_stored = load(*c, channel, resource, id, out);
    return now_stored == SyncResult::kOk ? SyncResult::kConflict : now_stored;
  }
  out.version = r.int64(0, 0);
  out.updated_at = now;
  out.updated_by = std::string(user);
  return SyncResult::kOk;
}

SyncResult PgSyncStore::remove(std::string_view channel, std::string_view resource, std::int64_t id,
                               std::optional<std::int64_t> expected_version, SyncItem& current) {
  auto c = pool_.acquire();
  if (!c) return SyncResult::kError;
  const PgResult r = c->exec(
      std::string("DELETE FROM tidewire.sync_items WHERE id = $1 AND channel = $2 AND resource = $3 "
                  "AND ($4::bigint IS NULL OR version = $4) RETURNING ") + kColumns,
      {num(id), std::string(channel), std::string(resource),
       expected_version ? PgParam(num(*expected_version)) : PgParam()});
  if (!r.ok()) return SyncResult::kError;
  if (r.rows() == 1) {
    read_item(r, 0, current);
    return SyncResult::kOk;
  }
  const SyncResult stored = load(*c, channel, resource, id, current);
  return stored == SyncResult::kOk ? SyncResult::kConflict : stored;
}

}  // namespace tidewire::server
