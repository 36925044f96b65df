#include "server/server_state.hpp"

#include <chrono>

#include "server/broker_redis.hpp"

namespace tidewire::server {

namespace {

HandlerLimits handler_limits(const Config& c) {
  HandlerLimits l;
  l.max_message_bytes = c.max_message_bytes;
  l.max_channels = c.max_channels;
  l.heartbeat_interval_ms = c.heartbeat_ms;
  l.rate_per_second = c.rate_limit;
  l.rate_burst = c.rate_burst;
  l.max_connections_per_user = c.max_connections_per_user;
  return l;
}

HubOptions hub_options(const Config& c, HistoryStore* store) {
  HubOptions o;
  o.history.max_count = c.history_size;
  o.history.ttl_ms = c.history_ttl_ms;
  o.store = store;
  return o;
}

}  // namespace

std::uint64_t wall_clock_ms() {
  using namespace std::chrono;
  return static_cast<std::uint64_t>(duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
}

ServerState::ServerState(const Config& c, std::optional<StaticFiles> files, std::unique_ptr<HistoryStore> store,
                         ServicesConfig services_config)
    : config(c),
      history_store(std::move(store)),
      hub(hub_options(c, history_store.get())),
      verifier(c.secret),
      static_files(std::move(files)),
      router(config, verifier, static_files ? &*static_files : nullptr, wall_clock_ms),
      handler(hub, verifier, handler_limits(c), wall_clock_ms),
      bridge(hub, handler, std::move(services_config), wall_clock_ms),
      http_transport(config, handler, verifier, registry, wall_clock_ms) {
  router.set_metrics(&handler.metrics(), [this] { return static_cast<std::uint64_t>(hub.channel_count()); });
  if (c.broker == "memory") return;
  RedisBrokerOptions options;
  parse_redis_url(c.broker, options.address);  // validated by parse_config
  options.node_id = c.node_id;
  options.history = hub_options(c, nullptr).history;
  broker = std::make_unique<RedisBroker>(hub, std::move(options), handler.metrics());
  handler.set_broker(broker.get());
  router.set_health([this] { return broker->healthy(); });
}

}  // namespace tidewire::server
