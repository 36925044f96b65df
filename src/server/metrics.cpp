#include "server/metrics.hpp"

#include <sstream>

namespace tidewire::server {

namespace {
void metric(std::ostringstream& os, const char* name, const char* type, const char* help, std::uint64_t value) {
  os << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n' << name << ' ' << value << '\n';
}
std::uint64_t get(const std::atomic<std::uint64_t>& v) { return v.load(std::memory_order_relaxed); }
}  // namespace

std::string Metrics::render(std::uint64_t channels) const {
  std::ostringstream os;
  metric(os, "tidewire_connections", "gauge", "WebSocket connections open now", get(connections_current));
  metric(os, "tidewire_connections_total", "counter", "WebSocket connections accepted", get(connections_total));
  metric(os, "tidewire_messages_in_total", "counter", "client messages received after auth", get(messages_in));
  metric(os, "tidewire_messages_out_total", "counter", "messages queued to clients", get(messages_out));
  metric(os, "tidewire_publications_total", "counter", "channel messages published", get(publications));
  metric(os, "tidewire_deliveries_total", "counter", "broadcast copies handed to subscribers", get(deliveries));
  metric(os, "tidewire_drops_total", "counter", "outgoing messages dropped (closed or full queue)", get(drops));
  metric(os, "tidewire_rate_limited_total", "counter", "messages refused by the rate limit", get(rate_limited));
  metric(os, "tidewire_auth_failures_total", "counter", "refused tokens (upgrade, auth, refresh)", get(auth_failures));
  metric(os, "tidewire_slow_consumer_closes_total", "counter", "connections closed 1013 for a full queue",
         get(slow_consumer_closes));
  metric(os, "tidewire_too_many_connections_total", "counter", "connections closed 4005 (per-user limit)",
         get(too_many_connections));
  metric(os, "tidewire_broker_round_trips_total", "counter", "broker calls answered (or lost)",
         get(broker_round_trips));
  metric(os, "tidewire_broker_round_trip_microseconds_total", "counter", "time spent in broker calls",
         get(broker_round_trip_us));
  metric(os, "tidewire_broker_backfills_total", "counter", "stream re-reads after a gap or a lost PUB/SUB",
         get(broker_backfills));
  metric(os, "tidewire_broker_gaps_total", "counter",
         "backfills that found what this node missed trimmed from the stream (its subscribers got a window_exceeded gap)",
         get(broker_gaps));
  metric(os, "tidewire_broker_errors_total", "counter", "failed broker calls (publishes answered unavailable)",
         get(broker_errors));
  metric(os, "tidewire_changefeed_changes_total", "counter", "database row changes this node published",
         get(changefeed_changes));
  metric(os, "tidewire_changefeed_duplicates_total", "counter",
         "replayed changes (after a restart or takeover) the broker had already published", get(changefeed_duplicates));
  metric(os, "tidewire_changefeed_errors_total", "counter", "change feed stream failures and failed publishes",
         get(changefeed_errors));
  metric(os, "tidewire_changefeed_leader", "gauge", "1 while this node reads the replication slot",
         get(changefeed_leader));
  metric(os, "tidewire_changefeed_slot_lag_bytes", "gauge",
         "WAL bytes the replication slot holds behind pg_current_wal_lsn()", get(changefeed_lag_bytes));
  metric(os, "tidewire_presence_errors_total", "counter",
         "failed presence and connection-cap calls to Redis (several nodes; those calls fail open)",
         get(presence_errors));
  metric(os, "tidewire_channels", "gauge", "channels with subscribers or history", channels);
  return os.str();
}

}  // namespace tidewire::server
