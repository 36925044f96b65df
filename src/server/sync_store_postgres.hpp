// SyncStore in Postgres (sync_store.hpp; --database): shared by every node. Ids come from an identity column.
// update() and remove() check the version in the statement itself (`UPDATE ... WHERE version = $n`,
// `DELETE ... WHERE version = $n`): of two nodes writing one version at once, exactly one succeeds and the other
// gets kConflict with the item as the first left it. Thread-safe: each call leases a connection from the pool.
#pragma once

#include "server/pg_pool.hpp"
#include "server/sync_store.hpp"

namespace tidewire::server {

class PgSyncStore final : public SyncStore {
 public:
  explicit PgSyncStore(PgPool& pool) : pool_(pool) {}

  static std::string_view schema_v1();

  bool reachable() const override { return pool_.healthy(); }
  bool snapshot(std::string_view channel, std::string_view resource, std::vector<SyncItem>& out) override;
  bool insert(std::string_view channel, std::string_view resource, const nlohmann::json& data, std::string_view user,
              std::int64_t now, SyncItem& out) override;
  SyncResult update(std::string_view channel, std::string_view resource, std::int64_t id,
                    std::int64_t expected_version, const nlohmann::json& patch, std::string_view user,
                    std::int64_t now, SyncItem& out) override;
  SyncResult remove(std::string_view channel, std::string_view resource, std::int64_t id,
                    std::optional<std::int64_t> expected_version, SyncItem& current) override;

 private:
  PgPool& pool_;
};

}  // namespace tidewire::server
