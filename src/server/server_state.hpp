// What every session of the server shares (Beast's chat-multi calls it shared_state): the configuration, the hub,
// the history store, the JWT verifier, the HTTP router, the message handler with the presence/chat/sync services
// wired in, and the registry of live sessions. Built once by run_server (server.cpp); each session holds a
// shared_ptr to it, so it lives as long as the longest session. Beast- and Asio-free.
//
// Threading: the members are thread-safe where the sessions of several I/O threads use them (Hub, MessageHandler,
// Services, SessionRegistry, HistoryStore::sync); the rest is read-only once serving.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

#include "server/broker.hpp"
#include "server/changefeed.hpp"
#include "server/changefeed_catalog.hpp"
#include "server/config.hpp"
#include "server/history_store.hpp"
#include "server/http_router.hpp"
#include "server/http_transport.hpp"
#include "server/hub.hpp"
#include "server/jwt_verifier.hpp"
#include "server/message_handler.hpp"
#include "server/presence_store_redis.hpp"
#include "server/service_bridge.hpp"
#include "server/session_registry.hpp"
#include "server/static_files.hpp"

namespace boost::asio {
class io_context;
}

namespace tidewire::server {

class FlushTick;

// Where the Redis broker runs its connections (broker_redis.hpp): an I/O thread's io_context and that thread's
// FlushTick (--threads 1), or nothing (a thread of the broker's own).
struct BrokerLoop {
  boost::asio::io_context* ioc = nullptr;
  FlushTick* tick = nullptr;
};

// Milliseconds since the epoch: the server's clock for the handler, the hub, the services and token expiry.
std::uint64_t wall_clock_ms();

struct ServerState {
  // `store`: the history store (null: in memory); `services_config`: where the services keep their database;
  // `broker_loop`: where a Redis broker runs (--broker redis).
  ServerState(const Config& c, std::optional<StaticFiles> files, std::unique_ptr<HistoryStore> store,
              ServicesConfig services_config, BrokerLoop broker_loop = {});
  ServerState(const ServerState&) = delete;
  ServerState& operator=(const ServerState&) = delete;

  const Config config;
  std::unique_ptr<HistoryStore> history_store;
  Hub hub;
  JwtVerifier verifier;
  std::optional<StaticFiles> static_files;
  HttpRouter router;
  MessageHandler handler;
  // --broker redis: presence and the per-user connection cap across nodes (null: in process)
  std::shared_ptr<RedisPresenceStore> redis_presence;
  ServiceBridge bridge;  // presence, chat, sync
  SessionRegistry registry;
  HttpTransport http_transport;  // SSE and long-polling sessions (after the registry: it registers them)
  std::unique_ptr<Broker> broker;  // --broker redis (null: the hub is the broker); last, so it stops first
  // --changefeed-tables (changefeed.hpp): after the broker, so the feed stops before it. Null without a feed.
  std::unique_ptr<ChangefeedCatalog> changefeed_catalog;
  std::unique_ptr<Changefeed> changefeed;
};

}  // namespace tidewire::server
