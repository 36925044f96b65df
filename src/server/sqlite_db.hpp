// A small RAII wrapper over sqlite3 for the chat and sync stores: a connection, prepared statements, a
// transaction guard and schema migrations by `PRAGMA user_version`. No exceptions cross it: every operation
// returns a status (SQLite result code or bool) and the connection keeps the last error message.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace tidewire::server {

// One prepared statement, finalized on destruction. Placeholders are numbered from 1.
class SqliteStatement {
 public:
  SqliteStatement() = default;
  explicit SqliteStatement(sqlite3_stmt* stmt) : stmt_(stmt) {}
  ~SqliteStatement();
  SqliteStatement(SqliteStatement&& other) noexcept;
  SqliteStatement& operator=(SqliteStatement&& other) noexcept;
  SqliteStatement(const SqliteStatement&) = delete;
  SqliteStatement& operator=(const SqliteStatement&) = delete;

  bool valid() const { return stmt_ != nullptr; }

  // Bind failures are remembered: the next step() then returns that error instead of running.
  SqliteStatement& bind(int index, std::int64_t value);
  SqliteStatement& bind(int index, std::string_view text);  // copied (SQLITE_TRANSIENT)
  SqliteStatement& bind_null(int index);
  SqliteStatement& bind_optional(int index, const std::optional<std::int64_t>& value);

  // SQLITE_ROW (a row is ready), SQLITE_DONE, or an error code.
  int step();
  // step() until done; true when it ended with SQLITE_DONE.
  bool run();
  void reset();  // rerun with new bindings

  std::int64_t int64(int column) const;
  std::string text(int column) const;
  bool is_null(int column) const;

 private:
  sqlite3_stmt* stmt_ = nullptr;
  int bind_error_ = 0;  // SQLITE_OK
};

class SqliteDb {
 public:
  SqliteDb() = default;
  ~SqliteDb();
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;

  // Opens (creating) `path` or ":memory:" with foreign keys on, a 5 s busy timeout, and for files WAL with
  // synchronous=NORMAL (durable at checkpoints, fast commits). False on failure (see last_error()).
  bool open(const std::string& path);
  bool is_open() const { return db_ != nullptr; }
  void close();

  // Runs one or more statements without results. False on failure.
  bool exec(std::string_view sql);
  // An invalid statement when preparation failed (see last_error()); stepping it returns SQLITE_MISUSE.
  SqliteStatement prepare(std::string_view sql);

  std::int64_t last_insert_rowid() const;
  int changes() const;
  std::string last_error() const;

  // Brings the schema to version migrations.size(): migration i (0-based) runs, in its own transaction
  // together with `PRAGMA user_version = i+1`, when the stored user_version is <= i. False on failure (the
  // failing migration is rolled back). A database newer than the code is refused.
  bool migrate(const std::vector<std::string_view>& migrations);
  std::optional<int> user_version();

  sqlite3* handle() const { return db_; }

 private:
  sqlite3* db_ = nullptr;
  std::string error_;  // set when open() itself failed
};

// BEGIN IMMEDIATE on construction; ROLLBACK on destruction unless commit() succeeded. Check ok() first.
class SqliteTransaction {
 public:
  explicit SqliteTransaction(SqliteDb& db);
  ~SqliteTransaction();
  SqliteTransaction(const SqliteTransaction&) = delete;
  SqliteTransaction& operator=(const SqliteTransaction&) = delete;

  bool ok() const { return active_; }
  bool commit();

 private:
  SqliteDb& db_;
  bool active_ = false;
};

}  // namespace tidewire::server
