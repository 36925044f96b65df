// The change feed's column cache (issue #16): the columns and types of each --changefeed-tables table, from
// information_schema.columns, so a subscribe's filter column (and the owner column) can be checked without a
// query on the I/O thread in the common case.
//
// Loaded at start (before serving) and refreshed by the feed's thread every few seconds (refresh_all, which also
// reconnects). A subscribe naming a column (or table) the cache does not know refreshes that one table at once,
// on the I/O thread, but bounded: at most once per second per table, with statement_timeout 250 ms, never a
// (re)connect there (a broken connection answers from the cache until the feed's thread reconnects) and never
// waiting for another refresh (try_lock: busy answers from the cache). So a
// column added by DDL a moment ago is found, and a client sending unknown names cannot make the server query the
// database more than once a second per table.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "server/changefeed_tables.hpp"
#include "server/pg_connection.hpp"

namespace tidewire::server {

// The postgres:// URL with connect_timeout=5 (unless it has one), so no connect holds the feed's thread, the
// start or the shutdown for long.
std::string with_connect_timeout(const std::string& url);

// column name -> information_schema data_type ("integer", "text", "jsonb", ...)
using TableColumns = std::map<std::string, std::string>;

class ChangefeedCatalog {
 public:
  ChangefeedCatalog(std::string conninfo, std::vector<ChangefeedTable> tables);

  const std::vector<ChangefeedTable>& tables() const { return tables_; }
  // The configured table, or null.
  const ChangefeedTable* table(const std::string& schema, const std::string& name) const;
  // The cached columns (null: not known to exist). With `refresh`, re-reads this table first (bounded, see above).
  std::shared_ptr<const TableColumns> columns(const ChangefeedTable& table, bool refresh);
  // Re-reads every table, (re)connecting when needed. Blocking: not on an I/O thread. False when the database
  // could not be reached.
  bool refresh_all();

  // True for the numeric information_schema data types (filters compare those as numbers).
  static bool is_numeric_type(const std::string& data_type);

 private:
  bool load_locked(const ChangefeedTable& table);  // with mutex_ held and connected

  const std::string conninfo_;
  const std::vector<ChangefeedTable> tables_;
  std::mutex mutex_;  // the connection and refreshed_ (a refresh); an I/O thread only ever try_locks it
  PgConnection conn_;
  std::mutex cache_mutex_;  // cache_ (short sections)
  std::map<std::string, std::shared_ptr<const TableColumns>> cache_;  // qualified name -> columns
  std::map<std::string, std::chrono::steady_clock::time_point> refreshed_;
  bool reported_ = false;  // missing tables/columns were logged
  std::atomic<bool> connect_failed_{false};  // the last connect failed (and was logged)
};

}  // namespace tidewire::server
