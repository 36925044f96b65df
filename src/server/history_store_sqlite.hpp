// A HistoryStore in SQLite (--history-store sqlite, the default): DIR/history.sqlite3 keeps every channel's
// epoch, last offset and history entries, so a restarted server keeps its epochs and can still recover clients.
//
// Group commit: writes go into one open transaction, committed by sync() (the transport calls it before each
// write to the network, the server once a second), or when kMaxBatch rows are pending. One commit then covers
// everything a burst of publishes wrote, instead of one commit per publication. WAL with synchronous=NORMAL: a
// commit survives a crash of the process (kill -9), not of the machine (no fsync per commit). Checkpoints (copying
// the WAL into the database file, with an fsync) run on a thread of the store's own, never on a writing thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

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
  void sync() override;

  // Rows written since the last commit beyond which a write commits by itself.
  static constexpr std::size_t kMaxBatch = 4096;
  // WAL pages written since the last checkpoint past which a commit wakes the checkpoint thread (which also runs
  // once a second), and the log size past which it restarts the log even under a steady stream of writes.
  static constexpr int kCheckpointPages = 1000;
  static constexpr int kRestartPages = 16000;  // 64 MB of 4 KiB pages
  // Commits so far (tests, benchmarks).
  std::uint64_t commits() const { return commits_.load(std::memory_order_relaxed); }
  // Checkpoint runs so far (tests); none for ":memory:".
  std::uint64_t checkpoints() const { return checkpoints_.load(std::memory_order_relaxed); }

 private:
  explicit SqliteHistoryStore(sqlite3* db) : db_(db) {}
  bool exec(const char* sql);
  void begin_locked();   // opens the batch's transaction when none is open
  void wrote_locked();   // counts a written row; commits a full batch
  void commit_locked();  // applies the pending trims, then commits
  void apply_trim_locked(const std::string& channel, std::uint64_t min_offset);
  void start_checkpointer(const std::string& path);
  void wake_checkpointer();
  void run_checkpointer();

  std::mutex mutex_;
  sqlite3* db_;
  // The statements of every publish, prepared once (append() and trim() are on the publish path). An append
  // writes its entry only: a stream's last offset is its highest entry's, or streams.last_offset once a trim
  // removed every entry (trim raises it to min_offset - 1).
  sqlite3_stmt* insert_entry_ = nullptr;
  sqlite3_stmt* update_stream_ = nullptr;
  sqlite3_stmt* trim_entries_ = nullptr;
  std::map<std::string, std::uint64_t, std::less<>> pending_trims_;  // guarded by mutex_: per channel, the
                                                                     // highest min_offset of the open batch
  bool in_transaction_ = false;           // guarded by mutex_
  std::size_t pending_ = 0;               // guarded by mutex_: rows in the open transaction
  std::atomic<bool> dirty_{false};        // a transaction is open (read without the lock by sync())
  std::atomic<std::uint64_t> commits_{0};
  // The checkpoint thread and its own connection (null for ":memory:").
  sqlite3* checkpoint_db_ = nullptr;
  std::thread checkpointer_;
  std::mutex checkpoint_mutex_;
  std::condition_variable checkpoint_cv_;
  bool checkpoint_due_ = false;  // guarded by checkpoint_mutex_
  bool stopping_ = false;        // guarded by checkpoint_mutex_
  std::atomic<std::uint64_t> checkpoints_{0};
  std::atomic<int> checkpointed_pages_{0};  // WAL pages the last checkpoint had copied
};

}  // namespace tidewire::server
