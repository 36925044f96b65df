#include "server/changefeed_catalog.hpp"

#include "server/log.hpp"

namespace tidewire::server {

namespace {
constexpr std::chrono::seconds kRefreshInterval{1};  // per table, for on-demand refreshes
}

std::string with_connect_timeout(const std::string& url) {
  if (url.find("connect_timeout=") != std::string::npos) return url;
  return url + (url.find('?') == std::string::npos ? "?" : "&") + "connect_timeout=5";
}

ChangefeedCatalog::ChangefeedCatalog(std::string conninfo, std::vector<ChangefeedTable> tables)
    : conninfo_(with_connect_timeout(conninfo)), tables_(std::move(tables)) {}

const ChangefeedTable* ChangefeedCatalog::table(const std::string& schema, const std::string& name) const {
  for (const ChangefeedTable& t : tables_)
    if (t.schema == schema && t.table == name) return &t;
  return nullptr;
}

bool ChangefeedCatalog::is_numeric_type(const std::string& t) {
  return t == "smallint" || t == "integer" || t == "bigint" || t == "numeric" || t == "real" ||
         t == "double precision";
}

bool ChangefeedCatalog::load_locked(const ChangefeedTable& table) {
  refreshed_[table.qualified()] = std::chrono::steady_clock::now();
  const PgResult r = conn_.exec(
      "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2",
      {table.schema, table.table});
  if (!r.ok()) {
    log(LogLevel::kWarn, "msg=\"changefeed catalog query failed\" table=", table.qualified(),
        " error=", log_quoted(r.error()));
    return false;
  }
  auto columns = std::make_shared<TableColumns>();
  for (int i = 0; i < r.rows(); ++i) (*columns)[std::string(r.text(i, 0))] = std::string(r.text(i, 1));
  std::lock_guard<std::mutex> lock(cache_mutex_);
  if (columns->empty()) cache_.erase(table.qualified());
  else cache_[table.qualified()] = std::move(columns);
  return true;
}

std::shared_ptr<const TableColumns> ChangefeedCatalog::columns(const ChangefeedTable& table, bool refresh) {
  if (refresh) {
    // Busy (the feed's thread refreshing, or another I/O thread): answer from the cache rather than wait.
    std::unique_lock<std::mutex> lock(mutex_, std::try_to_lock);
    if (lock.owns_lock() && conn_.connected()) {
      const auto last = refreshed_.find(table.qualified());
      if (last == refreshed_.end() || std::chrono::steady_clock::now() - last->second >= kRefreshInterval)
        load_locked(table);
    }
  }
  std::lock_guard<std::mutex> lock(cache_mutex_);
  const auto it = cache_.find(table.qualified());
  return it == cache_.end() ? nullptr : it->second;
}

bool ChangefeedCatalog::refresh_all() {
  std::unique_lock<std::mutex> lock(mutex_);
  if (!conn_.connected()) {
    lock.unlock();  // a connect may take seconds: never hold up a subscribe for it
    PgConnection fresh;
    if (!fresh.connect(conninfo_)) {
      if (!connect_failed_.exchange(true))  // once until it connects again (the feed retries every 5 s)
        log(LogLevel::kWarn, "msg=\"changefeed catalog: cannot connect\" error=", log_quoted(fresh.last_error()));
      return false;
    }
    connect_failed_.store(false);
    fresh.exec("SET statement_timeout = 250");
    lock.lock();
    conn_ = std::move(fresh);
  }
  bool ok = true;
  for (const ChangefeedTable& t : tables_) {
    ok = load_locked(t) && ok;
    if (!ok) break;
  }
  if (reported_ || !ok) return ok;
  reported_ = true;  // once: the periodic refreshes stay quiet
  std::lock_guard<std::mutex> cache_lock(cache_mutex_);
  for (const ChangefeedTable& t : tables_) {
    if (cache_.find(t.qualified()) == cache_.end())
      log(LogLevel::kWarn, "msg=\"changefeed table not in the database\" table=", t.qualified());
    else if (!t.owner_column.empty() && cache_[t.qualified()]->count(t.owner_column) == 0)
      log(LogLevel::kWarn, "msg=\"changefeed owner column not in the table\" table=", t.qualified(),
          " column=", t.owner_column);
  }
  return ok;
}

}  // namespace tidewire::server
