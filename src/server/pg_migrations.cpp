#include "server/pg_migrations.hpp"

namespace tidewire::server {

bool pg_migrate(PgConnection& c, const std::vector<std::string_view>& migrations, std::string& error) {
  PgTransaction tx(c);
  if (!tx.ok()) {
    error = c.last_error();
    return false;
  }
  auto failed = [&](const std::string& what) {
    error = what + ": " + c.last_error();
    return false;
  };
  if (!c.exec(std::string("SELECT pg_advisory_xact_lock(") + kMigrationLock + ")").ok())
    return failed("cannot take the migration lock");
  if (!c.exec_script("CREATE SCHEMA IF NOT EXISTS tidewire;"
                     "CREATE TABLE IF NOT EXISTS tidewire.schema_migrations ("
                     "  version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"))
    return failed("cannot create tidewire.schema_migrations");
  const PgResult current = c.exec("SELECT COALESCE(MAX(version), 0) FROM tidewire.schema_migrations");
  if (!current.ok()) return failed("cannot read tidewire.schema_migrations");
  const std::int64_t version = current.int64(0, 0);
  if (version > static_cast<std::int64_t>(migrations.size())) {
    error = "the database's tidewire schema is at version " + std::to_string(version) + ", newer than this server's " +
            std::to_string(migrations.size()) + ": run a newer tidewire-server";
    return false;
  }
  for (std::size_t i = static_cast<std::size_t>(version); i < migrations.size(); ++i) {
    if (!c.exec_script(migrations[i])) return failed("migration " + std::to_string(i + 1) + " failed");
    if (!c.exec("INSERT INTO tidewire.schema_migrations (version) VALUES ($1)", {std::to_string(i + 1)}).ok())
      return failed("cannot record migration " + std::to_string(i + 1));
  }
  if (!tx.commit()) return failed("cannot commit the migrations");
  return true;
}

}  // namespace tidewire::server
