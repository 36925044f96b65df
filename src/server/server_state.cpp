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

std::shared_ptr<RedisPresenceStore> redis_presence_for(const Config& c, Hub& hub, Metrics& metrics) {
  if (c.broker == "memory") return nullptr;
  RedisPresenceOptions o;
  parse_redis_url(c.broker, o.address);  // validated by parse_config
  o.node_id = c.node_id;
  o.node_ttl_ms = c.node_ttl_ms;
  o.grace_ms = c.presence_grace_ms;
  o.max_connections_per_user = c.max_connections_per_user;
  return std::make_shared<RedisPresenceStore>(hub, std::move(o), metrics);
}

ServicesConfig with_presence(ServicesConfig s, const Config& c, std::shared_ptr<PresenceStore> store) {
  s.presence_grace_ms = c.presence_grace_ms;
  s.presence_store = std::move(store);
  return s;
}

}  // namespace

std::uint64_t wall_clock_ms() {
  using namespace std::chrono;
  return static_cast<std::uint64_t>(duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
}

ServerState::ServerState(const Config& c, std::optional<StaticFiles> files, std::unique_ptr<HistoryStore> store,
                         ServicesConfig services_config, BrokerLoop broker_loop)
    : config(c),
      history_store(std::move(store)),
      hub(hub_options(c, history_store.get())),
      verifier(c.secret),
      static_files(std::move(files)),
      router(config, verifier, static_files ? &*static_files : nullptr, wall_clock_ms),
      handler(hub, verifier, handler_limits(c), wall_clock_ms),
      redis_presence(redis_presence_for(c, hub, handler.metrics())),
      bridge(hub, handler, with_presence(std::move(services_config), c, redis_presence), wall_clock_ms),
      http_transport(config, handler, verifier, registry, wall_clock_ms) {
  router.set_metrics(&handler.metrics(), [this] { return static_cast<std::uint64_t>(hub.channel_count()); });
  if (c.broker != "memory") {
    RedisBrokerOptions options;
    parse_redis_url(c.broker, options.address);  // validated by parse_config
    options.node_id = c.node_id;
    options.history = hub_options(c, nullptr).history;
    // Presence diffs published by other nodes' (and this node's) presence scripts, to this node's subscribers.
    options.on_presence = [this](const std::string& channel, std::string_view message) {
      const std::string diff = redis_presence->on_message(channel, message);
      if (!diff.empty()) hub.send_raw(channel, std::make_shared<const std::string>(diff));
    };
    options.on_listening_changed = [this](const std::string& channel) { redis_presence->drop_copy(channel); };
    options.ioc = broker_loop.ioc;
    options.tick = broker_loop.tick;
    broker = std::make_unique<RedisBroker>(hub, std::move(options), handler.metrics());
    handler.set_broker(broker.get());
    handler.set_shared_connection_cap(redis_presence.get());
    router.set_health([this] { return broker->healthy(); });
  }
  if (c.changefeed_tables.empty()) return;
  std::string error;  // the list was validated by parse_config
  changefeed_catalog =
      std::make_unique<ChangefeedCatalog>(c.database, parse_changefeed_tables(c.changefeed_tables, error));
  changefeed_catalog->refresh_all();  // before serving; the feed's thread retries when the database is down
  handler.set_changefeed_catalog(changefeed_catalog.get());
  ChangefeedOptions feed;
  feed.database = c.database;
  feed.slot = c.changefeed_slot;
  feed.lag_warning_bytes = c.changefeed_lag_warning_bytes;
  changefeed = std::make_unique<Changefeed>(std::move(feed), *changefeed_catalog, handler.broker(), handler.metrics(),
                                            [this] {
                                              if (history_store) history_store->sync();
                                            });
}

}  // namespace tidewire::server
