// A HistoryStore in SQLite (--history-store sqlite): DIR/history.sqlite3 keeps every channel's epoch, last
// offset and history entries, so a restarted server keeps its epochs and can still recover clients.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "server/history_store.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace tidewire::server {

class SqliteHistoryStore : public HistoryStore {
 public:
  // Opens (creating) the database at `path` (":memory:" for tests). Null and `error` set on failure.
  static std::unique_ptr<SqliteHistoryStore> open(const std::string& path, std::string& error);
  ~SqliteHistoryStore() override;

  bool load(std::string_view channel, StoredStream& out) override;
  void create(std::string_view channel, std::string_view epoch, std::uint64_t last_offset) override;
  void append(std::string_view channel, const HistoryEntry& entry) override;
  void trim(std::string_view channel, std::uint64_t min_offset) override;

 private:
  explicit SqliteHistoryStore(sqlite3* db) : db_(db) {}
  bool exec(const char* sql);

  std::mutex mutex_;
  sqlite3* db_;
  // The two statements of every publish, prepared once (append() is on the publish path).
  sqlite3_stmt* insert_entry_ = nullptr;
  sqlite3_stmt* update_stream_ = nullptr;
};

}  // namespace tidewire::server
