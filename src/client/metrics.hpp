// Counters the engine keeps for getMetrics(), and the gauges Engine::metrics_snapshot() fills in. Registered
// as one embind value_object (bindings/tidewire_module.cpp): JS receives exactly these fields.
#pragma once

#include <cstdint>

namespace tidewire::client {

struct Metrics {
  std::uint32_t connection_attempts = 0;
  std::uint32_t connection_successes = 0;
  std::uint32_t connection_failures = 0;
  std::uint32_t reconnects = 0;
  double messages_received = 0;  // doubles: exact to 2^53 and cheap to hand to JS
  double messages_sent = 0;
  double bytes_received = 0;
  double bytes_sent = 0;
  double last_latency_ms = -1;  // -1 until the first pong
  double avg_latency_ms = -1;   // exponential moving average (alpha 0.2)
  double connected_since_ms = -1;  // monotonic; -1 while not connected
  double total_uptime_ms = 0;      // completed connected periods
  std::uint32_t frame_errors = 0;
  std::uint32_t gaps = 0;               // resubscribes the server could not recover
  std::uint32_t duplicates_dropped = 0; // replayed messages already seen
  std::uint32_t acks_timed_out = 0;
  std::uint32_t messages_expired = 0;   // outbox TTL
  std::uint32_t probes = 0;             // probe pings sent (visibility, online, silence, time jump)
  // Gauges: set by Engine::metrics_snapshot() only (0 in the engine's own counters).
  double uptime_ms = 0;                 // connected time, the current connection included
  double queue_depth = 0;               // messages in the outbox
  double queue_bytes = 0;
  double inflight = 0;                  // sent, waiting for their ack
  double reconnect_attempts = 0;        // failed attempts in a row
  double channel_count = 0;
  double subscriber_count = 0;          // references on all channels
};

}  // namespace tidewire::client
