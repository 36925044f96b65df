// A small pool of Postgres connections (--database-pool N, default 4) for the chat and sync stores (#16).
//
// acquire() hands out one connection for the caller's exclusive use (a Lease, returned on destruction), waiting
// while all are leased. A connection is (re)connected when it is leased: at first use, and after it broke (a
// Postgres restart, a network cut, pg_terminate_backend), which PgConnection::usable() notices without a round
// trip, so the first request after an outage already gets a fresh connection. While the database cannot be
// reached, connecting is tried at most once per `retry_ms`: other requests fail at once (an empty Lease) instead
// of each waiting for a connect timeout, and healthy() is false (the stores answer `unavailable` then).
//
// `setup` (the schema migrations) runs on the first connection that works, once; until it has succeeded every
// acquire() tries it again, so a server started before its database catches up by itself.
//
// Thread-safe; blocking (libpq): workers only, never an I/O thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "server/pg_connection.hpp"

namespace tidewire::server {

class PgPool {
 public:
  using Setup = std::function<bool(PgConnection&, std::string& error)>;

  struct Options {
    std::string conninfo;           // postgres://...
    unsigned size = 4;              // connections
    std::uint32_t retry_ms = 500;   // after a failed connect, further attempts wait this long
    int connect_timeout_s = 5;
  };

  PgPool(Options options, Setup setup);
  PgPool(const PgPool&) = delete;
  PgPool& operator=(const PgPool&) = delete;

  class Lease {
   public:
    Lease() = default;
    Lease(Lease&& other) noexcept : pool_(std::exchange(other.pool_, nullptr)), slot_(other.slot_) {}
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    explicit operator bool() const { return pool_ != nullptr; }
    PgConnection& operator*() const;
    PgConnection* operator->() const { return &**this; }

   private:
    friend class PgPool;
    Lease(PgPool* pool, std::size_t slot) : pool_(pool), slot_(slot) {}
    PgPool* pool_ = nullptr;
    std::size_t slot_ = 0;
  };

  // A connection ready for statements, or an empty Lease when the database cannot be reached now (see
  // last_error()).
  Lease acquire();

  // False after a failed connect or a connection lost in use, until a connect succeeds.
  bool healthy() const { return healthy_.load(std::memory_order_relaxed); }
  std::string last_error() const;
  unsigned size() const { return static_cast<unsigned>(slots_.size()); }

 private:
  void release(std::size_t slot);
  bool prepare(PgConnection& c);  // connect when needed, run setup once; false (error recorded) on failure
  void fail(std::string error);

  const Options options_;
  const Setup setup_;
  std::vector<PgConnection> slots_;
  std::vector<std::size_t> free_;  // indices of slots_ not leased
  mutable std::mutex mutex_;       // free_, last_error_, next_connect_
  std::condition_variable released_;
  std::mutex setup_mutex_;
  std::atomic<bool> setup_done_{false};
  std::atomic<bool> healthy_{true};
  std::string last_error_;
  std::chrono::steady_clock::time_point next_connect_{};
};

}  // namespace tidewire::server
