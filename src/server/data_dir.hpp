// The server's data directory (--data-dir): where the SQLite databases live, and opening them.
//   DIR/tidewire.sqlite3  chat and sync (services.hpp)
//   DIR/history.sqlite3   channel streams, with --history-store sqlite
// ":memory:" keeps every database in memory (nothing survives a restart).
#pragma once

#include <memory>
#include <string>

#include "server/config.hpp"
#include "server/history_store.hpp"

namespace tidewire::server {

struct DataStores {
  std::unique_ptr<HistoryStore> history;  // null with --history-store memory
  std::string services_db_path;           // for ServicesConfig::db_path
};

// Creates the directory when missing and opens the history store. False with `error` set on failure.
bool open_data_stores(const Config& config, DataStores& out, std::string& error);

}  // namespace tidewire::server
