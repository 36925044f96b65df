// The database change feed (issue #16; README "Database changes"): every row change of the --changefeed-tables
// tables, whoever wrote it, published on `db:<schema>.<table>` as a `postgres_changes` channel message.
//
// Source: Postgres logical decoding, not triggers + NOTIFY (8,000-byte payloads, nothing kept while the server is
// down). A logical replication slot (`tidewire_changefeed`, created when missing) with the wal2json output plugin
// (format-version 2: one JSON object per change, begin/commit markers with the commit LSN; Debian ships it as
// postgresql-15-wal2json), read over a streaming replication connection (changefeed_stream.hpp) on this class's
// own thread. wal2json rather than pgoutput: its JSON is what we publish (no binary relation/tuple decoding,
// typed values included), and add-tables keeps other tables' rows out of the stream.
//
// Exactly once, in commit order: logical decoding hands out whole transactions in commit order. Each change is
// published through Broker::publish, in that order, with the client id `<commit LSN>:<index in transaction>` and
// the sender `postgres` (the broker's dedupe: a replay after a restart or a takeover publishes nothing twice while
// the entry is in the channel's history). The slot's confirmed position (the standby status update) only moves
// to a transaction's commit end once `done` confirmed every change of it and the history store synced, so a
// kill -9 at any moment replays from the first unconfirmed transaction and loses nothing.
//
// Several nodes (--broker redis): every node runs the feed, but Postgres lets one walsender use a slot at a time.
// The node whose START_REPLICATION succeeds is the leader and publishes through the shared broker (so every node's
// subscribers get each change once, from Redis); the others get SQLSTATE 55006 (object_in_use) and retry every
// `retry` (1 s). When the leader dies its connection closes, Postgres releases the slot, and the next node to
// retry takes over from the slot's confirmed position (dedupe covers what the old leader had published but not
// confirmed). A leader whose broker becomes unhealthy lets go of the slot, so a healthy node can take it.
//
// Backpressure: while the broker is unavailable the feed does not read (it releases the slot); at most
// `max_in_flight` changes wait for `done`. The slot then holds WAL on the database: bound it with Postgres's
// max_slot_wal_keep_size (checked at start: a warning when unbounded). /metrics: tidewire_changefeed_slot_lag_bytes
// (pg_current_wal_lsn() - confirmed_flush_lsn, read every second by every node), a warning log above
// `lag_warning_bytes`. A publish that fails (unavailable) ends the stream: it restarts from the slot, and the
// replay dedupes what did get through. Limit: with Redis, publishes are pipelined (up to max_in_flight), so a
// change published after a failed one of the same window would precede it after the replay; a lost Redis
// connection fails every publish queued behind the failure, which is the case met in practice.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "server/broker.hpp"
#include "server/changefeed_catalog.hpp"
#include "server/changefeed_tables.hpp"
#include "server/log.hpp"
#include "server/metrics.hpp"

namespace tidewire::server {

struct ChangefeedOptions {
  std::string database;  // libpq URI
  std::string slot;      // wire::changefeed::kSlotName by default
  std::chrono::milliseconds retry{1000};
  std::uint64_t lag_warning_bytes = 64ull << 20;
  std::size_t max_in_flight = 4096;
};

class Changefeed {
 public:
  // `sync_store`: makes the hub's history durable before the slot advances (HistoryStore::sync); may be empty.
  Changefeed(ChangefeedOptions options, ChangefeedCatalog& catalog, Broker& broker, Metrics& metrics,
             std::function<void()> sync_store);
  ~Changefeed();
  Changefeed(const Changefeed&) = delete;
  Changefeed& operator=(const Changefeed&) = delete;

  void start();
  void stop();  // joins the thread; waits (bounded) for the in-flight publishes

 private:
  struct Flight;  // what publish callbacks share with the thread (they may outlive a stream)
  void run();
  bool stopping() const { return stop_.load(std::memory_order_acquire); }
  void wait_for(std::chrono::milliseconds d);
  // Logs a problem the retry loop meets, unless it is the one logged last (no line per second while it lasts).
  void report(LogLevel level, const std::string& line);
  // Housekeeping of every node: the control connection, the slot, the lag gauge, the catalog refresh.
  void housekeeping(bool force);
  bool ensure_slot();
  void stream();  // leader: reads until the stream ends, a publish fails, the broker is down or stop()

  ChangefeedOptions options_;
  ChangefeedCatalog& catalog_;
  Broker& broker_;
  Metrics& metrics_;
  std::function<void()> sync_store_;
  std::string plugin_options_;
  std::shared_ptr<Flight> flight_;
  PgConnection control_;
  std::chrono::steady_clock::time_point next_lag_check_{}, next_catalog_refresh_{}, next_lag_warning_{};
  bool warned_unbounded_ = false;
  bool slot_ready_ = false;
  bool standby_logged_ = false;
  std::string last_problem_;
  std::atomic<bool> stop_{false};
  std::mutex wait_mutex_;
  std::condition_variable wait_cv_;
  std::thread thread_;
};

}  // namespace tidewire::server
