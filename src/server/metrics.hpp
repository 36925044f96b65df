// Server-wide counters for GET /metrics (Prometheus text format). Lock-free: relaxed atomics.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

namespace tidewire::server {

struct Metrics {
  std::atomic<std::uint64_t> connections_current{0};
  std::atomic<std::uint64_t> connections_total{0};
  std::atomic<std::uint64_t> messages_in{0};     // client messages handled (after auth)
  std::atomic<std::uint64_t> messages_out{0};    // messages queued to clients (replies, errors, broadcasts)
  std::atomic<std::uint64_t> publications{0};    // channel messages accepted (not duplicates)
  std::atomic<std::uint64_t> deliveries{0};      // broadcast copies handed to subscribers
  std::atomic<std::uint64_t> drops{0};           // messages dropped by a full or closed queue
  std::atomic<std::uint64_t> rate_limited{0};
  std::atomic<std::uint64_t> auth_failures{0};
  std::atomic<std::uint64_t> slow_consumer_closes{0};
  std::atomic<std::uint64_t> too_many_connections{0};
  // --broker redis (broker_redis.hpp)
  std::atomic<std::uint64_t> broker_round_trips{0};
  std::atomic<std::uint64_t> broker_round_trip_us{0};  // their total time
  std::atomic<std::uint64_t> broker_backfills{0};      // stream re-reads after a gap or a PUB/SUB reconnect
  std::atomic<std::uint64_t> broker_gaps{0};           // backfills that found the missed entries trimmed
  std::atomic<std::uint64_t> broker_errors{0};         // failed or refused broker calls
  // the database change feed (changefeed.hpp)
  std::atomic<std::uint64_t> changefeed_changes{0};     // row changes this node published (not duplicates)
  std::atomic<std::uint64_t> changefeed_duplicates{0};  // replayed changes the broker had published already
  std::atomic<std::uint64_t> changefeed_errors{0};      // stream failures and failed publishes
  std::atomic<std::uint64_t> changefeed_leader{0};      // 1 while this node reads the slot
  std::atomic<std::uint64_t> changefeed_lag_bytes{0};   // the slot's WAL behind pg_current_wal_lsn()
  std::atomic<std::uint64_t> presence_errors{0};       // failed presence / connection-cap calls to Redis

  static void add(std::atomic<std::uint64_t>& counter, std::uint64_t n = 1) {
    counter.fetch_add(n, std::memory_order_relaxed);
  }
  // The exposition text; `channels` is the hub's current channel count.
  std::string render(std::uint64_t channels) const;
};

}  // namespace tidewire::server
