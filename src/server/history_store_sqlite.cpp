#include "server/history_store_sqlite.hpp"

#include <sqlite3.h>

#include <chrono>

#include "server/log.hpp"

namespace tidewire::server {

namespace {

// A prepared statement that finalizes itself.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) {
    if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK) {
      log(LogLevel::kError, "msg=\"history store: prepare failed\" error=", log_quoted(sqlite3_errmsg(db)));
      stmt_ = nullptr;
    }
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  explicit operator bool() const { return stmt_ != nullptr; }
  Statement& text(int i, std::string_view v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Statement& blob(int i, std::string_view v) {
    sqlite3_bind_blob(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Statement& integer(int i, std::uint64_t v) {
    sqlite3_bind_int64(stmt_, i, static_cast<sqlite3_int64>(v));
    return *this;
  }
  int step() { return sqlite3_step(stmt_); }
  std::string column_text(int i) {
    const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt_, i));
    return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, i))) : std::string();
  }
  std::uint64_t column_uint(int i) { return static_cast<std::uint64_t>(sqlite3_column_int64(stmt_, i)); }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

}  // namespace

std::unique_ptr<SqliteHistoryStore> SqliteHistoryStore::open(const std::string& path, std::string& error) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK) {
    error = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return nullptr;
  }
  std::unique_ptr<SqliteHistoryStore> store(new SqliteHistoryStore(db));
  sqlite3_busy_timeout(db, 2000);
  // WAL + synchronous=NORMAL: every commit survives a crash of the process (not of the OS) without an fsync.
  if (!store->exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                   "CREATE TABLE IF NOT EXISTS streams (channel TEXT PRIMARY KEY, epoch TEXT NOT NULL,"
                   " last_offset INTEGER NOT NULL);"
                   "CREATE TABLE IF NOT EXISTS entries (channel TEXT NOT NULL, offset INTEGER NOT NULL,"
                   " ts INTEGER NOT NULL, sender TEXT NOT NULL, client_id TEXT NOT NULL, event TEXT NOT NULL,"
                   " payload BLOB NOT NULL, binary INTEGER NOT NULL, PRIMARY KEY (channel, offset))"
                   " WITHOUT ROWID;")) {
    error = sqlite3_errmsg(db);
    return nullptr;
  }
  if (sqlite3_prepare_v2(db,
                         "INSERT OR REPLACE INTO entries (channel, offset, ts, sender, client_id, event, payload, binary)"
                         " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                         -1, &store->insert_entry_, nullptr) != SQLITE_OK ||
      sqlite3_prepare_v2(db, "UPDATE streams SET last_offset = MAX(last_offset, ?) WHERE channel = ?", -1,
                         &store->update_stream_, nullptr) != SQLITE_OK ||
      sqlite3_prepare_v2(db, "DELETE FROM entries WHERE channel = ? AND offset < ?", -1, &store->trim_entries_,
                         nullptr) != SQLITE_OK) {
    error = sqlite3_errmsg(db);
    return nullptr;
  }
  if (path != ":memory:" && !path.empty()) store->start_checkpointer(path);
  return store;
}

// SQLite's automatic checkpoint runs inside the commit that fills the WAL past 1,000 pages: it copies the pages into
// the database file and fsyncs both, on the committing thread, which is an I/O thread here (a probe measured sync()
// at 80 us p50 and 5-8 ms p99, up to 145 ms, every few hundred commits). Instead, the commit hook only wakes this
// thread, which checkpoints through a connection of its own, once kCheckpointPages were written since its last
// checkpoint, or once a second. PASSIVE never blocks the writer; while the writer keeps writing, the log cannot
// start over, so past kRestartPages a RESTART checkpoint makes it (new writes wait for that one, which has little
// left to copy).
void SqliteHistoryStore::start_checkpointer(const std::string& path) {
  if (sqlite3_open_v2(path.c_str(), &checkpoint_db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX, nullptr) !=
      SQLITE_OK) {
    log(LogLevel::kWarn, "msg=\"history store: no checkpoint thread; checkpoints stay on the writing thread\" error=",
        log_quoted(checkpoint_db_ ? sqlite3_errmsg(checkpoint_db_) : "out of memory"));
    sqlite3_close(checkpoint_db_);
    checkpoint_db_ = nullptr;
    return;
  }
  sqlite3_exec(checkpoint_db_, "PRAGMA synchronous=NORMAL;", nullptr, nullptr, nullptr);
  sqlite3_busy_timeout(checkpoint_db_, 2000);  // RESTART waits for the open batch's commit
  // Replaces the automatic checkpoint (itself a WAL hook) on the writing connection.
  sqlite3_wal_hook(
      db_,
      [](void* self, sqlite3*, const char*, int pages) {
        auto* store = static_cast<SqliteHistoryStore*>(self);
        const int done = store->checkpointed_pages_.load(std::memory_order_relaxed);
        const int behind = pages > done ? pages - done : pages;  // fewer than done: the log started over
        if (behind >= kCheckpointPages) store->wake_checkpointer();
        return SQLITE_OK;
      },
      this);
  checkpointer_ = std::thread([this] { run_checkpointer(); });
}

void SqliteHistoryStore::wake_checkpointer() {
  {
    std::lock_guard<std::mutex> lock(checkpoint_mutex_);
    checkpoint_due_ = true;
  }
  checkpoint_cv_.notify_one();
}

void SqliteHistoryStore::run_checkpointer() {
  std::unique_lock<std::mutex> lock(checkpoint_mutex_);
  while (!stopping_) {
    checkpoint_cv_.wait_for(lock, std::chrono::seconds(1), [this] { return stopping_ || checkpoint_due_; });
    if (stopping_) break;
    checkpoint_due_ = false;
    lock.unlock();
    int wal_pages = 0;
    int copied = 0;
    int rc = sqlite3_wal_checkpoint_v2(checkpoint_db_, nullptr, SQLITE_CHECKPOINT_PASSIVE, &wal_pages, &copied);
    if (rc == SQLITE_OK && wal_pages >= kRestartPages)
      rc = sqlite3_wal_checkpoint_v2(checkpoint_db_, nullptr, SQLITE_CHECKPOINT_RESTART, &wal_pages, &copied);
    if (rc != SQLITE_OK && rc != SQLITE_BUSY)
      log(LogLevel::kWarn, "msg=\"history store: checkpoint failed\" error=", log_quoted(sqlite3_errmsg(checkpoint_db_)));
    // All of the log copied: the writer starts the log over at its next commit, so the hook's page counts start
    // from 0 again (0 here; were the log not restarted, the next wake-up only comes early). Else the log goes on.
    checkpointed_pages_.store(rc == SQLITE_OK && copied == wal_pages ? 0 : copied, std::memory_order_relaxed);
    checkpoints_.fetch_add(1, std::memory_order_relaxed);
    lock.lock();
  }
}

SqliteHistoryStore::~SqliteHistoryStore() {
  if (checkpointer_.joinable()) {
    {
      std::lock_guard<std::mutex> lock(checkpoint_mutex_);
      stopping_ = true;
    }
    checkpoint_cv_.notify_one();
    checkpointer_.join();
  }
  sqlite3_close(checkpoint_db_);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    commit_locked();
  }
  sqlite3_finalize(insert_entry_);
  sqlite3_finalize(update_stream_);
  sqlite3_finalize(trim_entries_);
  sqlite3_close(db_);
}

void SqliteHistoryStore::begin_locked() {
  if (in_transaction_) return;
  if (!exec("BEGIN")) return;  // logged; the write below then commits on its own (autocommit)
  in_transaction_ = true;
  dirty_.store(true, std::memory_order_release);
}

void SqliteHistoryStore::wrote_locked() {
  if (++pending_ >= kMaxBatch) commit_locked();
}

void SqliteHistoryStore::apply_trim_locked(const std::string& channel, std::uint64_t min_offset) {
  // The stream's last offset is the highest entry's; once every entry is trimmed it must be kept in streams.
  sqlite3_stmt* st = update_stream_;
  sqlite3_bind_int64(st, 1, static_cast<sqlite3_int64>(min_offset - 1));
  sqlite3_bind_text(st, 2, channel.data(), static_cast<int>(channel.size()), SQLITE_TRANSIENT);
  sqlite3_step(st);
  sqlite3_reset(st);
  st = trim_entries_;
  sqlite3_bind_text(st, 1, channel.data(), static_cast<int>(channel.size()), SQLITE_TRANSIENT);
  sqlite3_bind_int64(st, 2, static_cast<sqlite3_int64>(min_offset));
  if (sqlite3_step(st) != SQLITE_DONE)
    log(LogLevel::kError, "msg=\"history store: trim failed\" error=", log_quoted(sqlite3_errmsg(db_)));
  sqlite3_reset(st);
}

void SqliteHistoryStore::commit_locked() {
  if (!in_transaction_) return;
  for (const auto& [channel, min_offset] : pending_trims_) apply_trim_locked(channel, min_offset);
  pending_trims_.clear();
  if (!exec("COMMIT")) {
    // The batch is lost to the store (the hub's memory still has it); start afresh.
    if (!sqlite3_get_autocommit(db_)) exec("ROLLBACK");
  }
  in_transaction_ = false;
  pending_ = 0;
  dirty_.store(false, std::memory_order_release);
  commits_.fetch_add(1, std::memory_order_relaxed);
}

void SqliteHistoryStore::sync() {
  if (!dirty_.load(std::memory_order_acquire)) return;
  std::lock_guard<std::mutex> lock(mutex_);
  commit_locked();
}

bool SqliteHistoryStore::exec(const char* sql) {
  char* message = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &message) == SQLITE_OK) return true;
  log(LogLevel::kError, "msg=\"history store: exec failed\" error=", log_quoted(message ? message : "?"));
  sqlite3_free(message);
  return false;
}

bool SqliteHistoryStore::load(std::string_view channel, StoredStream& out) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (const auto trim = pending_trims_.find(channel); trim != pending_trims_.end()) {
    apply_trim_locked(trim->first, trim->second);
    pending_trims_.erase(trim);
  }
  {
    Statement s(db_, "SELECT epoch, last_offset FROM streams WHERE channel = ?");
    if (!s || s.text(1, channel).step() != SQLITE_ROW) return false;
    out.epoch = s.column_text(0);
    out.last_offset = s.column_uint(1);
  }
  Statement s(db_,
              "SELECT offset, ts, sender, client_id, event, payload, binary FROM entries WHERE channel = ?"
              " ORDER BY offset");
  if (!s) return true;
  s.text(1, channel);
  while (s.step() == SQLITE_ROW) {
    HistoryEntry e;
    e.offset = s.column_uint(0);
    e.ts_ms = s.column_uint(1);
    e.from = s.column_text(2);
    e.client_id = s.column_text(3);
    e.event = s.column_text(4);
    e.payload = s.column_text(5);
    e.binary = s.column_uint(6) != 0;
    if (e.offset > out.last_offset) out.last_offset = e.offset;  // appends do not update streams (see trim)
    out.entries.push_back(std::move(e));
  }
  return true;
}

void SqliteHistoryStore::create(std::string_view channel, std::string_view epoch, std::uint64_t last_offset) {
  std::lock_guard<std::mutex> lock(mutex_);
  begin_locked();
  if (const auto trim = pending_trims_.find(channel); trim != pending_trims_.end()) pending_trims_.erase(trim);
  Statement d(db_, "DELETE FROM entries WHERE channel = ?");
  if (d) d.text(1, channel).step();
  Statement s(db_, "INSERT OR REPLACE INTO streams (channel, epoch, last_offset) VALUES (?, ?, ?)");
  if (s) s.text(1, channel).text(2, epoch).integer(3, last_offset).step();
  wrote_locked();
}

void SqliteHistoryStore::append(std::string_view channel, const HistoryEntry& e) {
  auto text = [](sqlite3_stmt* st, int i, std::string_view v) {
    sqlite3_bind_text(st, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  };
  std::lock_guard<std::mutex> lock(mutex_);
  begin_locked();
  sqlite3_stmt* st = insert_entry_;
  text(st, 1, channel);
  sqlite3_bind_int64(st, 2, static_cast<sqlite3_int64>(e.offset));
  sqlite3_bind_int64(st, 3, static_cast<sqlite3_int64>(e.ts_ms));
  text(st, 4, e.from);
  text(st, 5, e.client_id);
  text(st, 6, e.event);
  sqlite3_bind_blob(st, 7, e.payload.data(), static_cast<int>(e.payload.size()), SQLITE_TRANSIENT);
  sqlite3_bind_int(st, 8, e.binary ? 1 : 0);
  if (sqlite3_step(st) != SQLITE_DONE)
    log(LogLevel::kError, "msg=\"history store: append failed\" error=", log_quoted(sqlite3_errmsg(db_)));
  sqlite3_reset(st);
  wrote_locked();
}

void SqliteHistoryStore::trim(std::string_view channel, std::uint64_t min_offset) {
  if (min_offset == 0) return;
  std::lock_guard<std::mutex> lock(mutex_);
  begin_locked();
  // Coalesced: a full window trims one entry per publish; the batch's commit deletes them in one statement.
  auto [it, added] = pending_trims_.try_emplace(std::string(channel), min_offset);
  if (!added && min_offset > it->second) it->second = min_offset;
  wrote_locked();
}

}  // namespace tidewire::server
