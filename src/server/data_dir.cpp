#include "server/data_dir.hpp"

#include <filesystem>

#include "server/history_store_sqlite.hpp"

namespace tidewire::server {

bool open_data_stores(const Config& config, DataStores& out, std::string& error) {
  const bool in_memory = config.data_dir == ":memory:";
  if (!in_memory) {
    std::error_code ec;
    std::filesystem::create_directories(config.data_dir, ec);
    if (ec) {
      error = "--data-dir " + config.data_dir + ": " + ec.message();
      return false;
    }
  }
  auto path = [&](const char* file) {
    return in_memory ? std::string(":memory:") : (std::filesystem::path(config.data_dir) / file).string();
  };
  out.services_db_path = path("tidewire.sqlite3");
  if (config.history_store == "sqlite") {
    const std::string history_path = path("history.sqlite3");
    std::string why;
    out.history = SqliteHistoryStore::open(history_path, why);
    if (!out.history) {
      error = "cannot open the history store " + history_path + ": " + why;
      return false;
    }
  }
  return true;
}

}  // namespace tidewire::server
