// SyncStore in SQLite (sync_store.hpp): one node's file under --data-dir (the embedded default). Not
// thread-safe: the services run it on one worker thread.
#pragma once

#include "server/sqlite_db.hpp"
#include "server/sync_store.hpp"

namespace tidewire::server {

class SqliteSyncStore final : public SyncStore {
 public:
  explicit SqliteSyncStore(SqliteDb& db) : db_(db) {}

  static std::string_view schema_v1();

  bool snapshot(std::string_view channel, std::string_view resource, std::vector<SyncItem>& out) override;
  bool insert(std::string_view channel, std::string_view resource, const nlohmann::json& data, std::string_view user,
              std::int64_t now, SyncItem& out) override;
  SyncResult update(std::string_view channel, std::string_view resource, std::int64_t id,
                    std::int64_t expected_version, const nlohmann::json& patch, std::string_view user,
                    std::int64_t now, SyncItem& out) override;
  SyncResult remove(std::string_view channel, std::string_view resource, std::int64_t id,
                    std::optional<std::int64_t> expected_version, SyncItem& current) override;

 private:
  SyncResult load(std::string_view channel, std::string_view resource, std::int64_t id, SyncItem& out);

  SqliteDb& db_;
};

}  // namespace tidewire::server
