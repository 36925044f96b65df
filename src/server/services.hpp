// Presence, chat and data sync (docs/PROTOCOL.md sections 10-12): the server's stateful services, with no
// sockets and no Beast in them. The message handler owns the connection; it hands every `presence_*`, `chat_*`
// and `sync_*` request to Services::handle() with a ServiceContext for that connection, and tells Services about
// subscriptions and disconnects. Broadcasts go out through a Broadcaster given at construction, because deferred
// events (a presence leave after its grace period, a typing indicator expiring) happen when no connection
// context exists.
//
// Errors never escape as exceptions: requests are checked field by field (wrong type, missing field, oversize
// value -> `error` with a stable code and the request's ref), database failures become `internal`, or
// `unavailable` with retryAfterMs while the database (Postgres) cannot be reached.
//
// Stores: chat and sync live in SQLite (ServicesConfig::db_path, the default) or in Postgres
// (ServicesConfig::database, shared by every node; chat_store_postgres.hpp, sync_store_postgres.hpp).
//
// Threading: presence (presence_* requests, presence_members, on_unsubscribe, on_disconnect, tick) takes one
// internal mutex, so it may be called from any I/O thread. chat_* and sync_* requests and may_subscribe() query
// the database, so the server calls them on its service workers (service_workers.hpp), never on an I/O thread;
// they do not take that mutex (the Postgres stores are thread-safe, the SQLite stores get one worker thread, and
// typing indicators have their own lock). ServiceContext and Broadcaster callbacks must queue and return, and must
// never call back into Services (Hub::publish and SessionSink::send satisfy this).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace tidewire::server {

class PresenceStore;  // presence_store.hpp

struct ServicesConfig {
  // SQLite database file for chat and sync (created when missing; its directory must exist), or ":memory:" (tests;
  // nothing survives a restart).
  std::string db_path = ":memory:";
  // When set (postgres://...): chat and sync live in this Postgres database instead of db_path, through a pool of
  // `database_pool` connections; the schema is migrated at construction (or at the first request that reaches
  // the database, if it is down then).
  std::string database;
  unsigned database_pool = 4;
  // Service worker threads (service_workers.hpp): -1 = automatic (1 for SQLite, database_pool for Postgres);
  // 0 = run chat/sync requests at once on the caller's thread (unit tests driving the handler step by step).
  int worker_threads = -1;
  // A member whose last connection left stays listed this long; a rejoin in time produces no leave/join.
  std::uint64_t presence_grace_ms = 3000;
  // Where presence lives (presence_store.hpp); null: in process (a PresenceRegistry with presence_grace_ms).
  std::shared_ptr<PresenceStore> presence_store;
  // The server broadcasts `typing: false` this long after a user's last `typing: true` in a room.
  std::uint64_t typing_ttl_ms = 5000;
};

// One connection, as a service sees it. The message handler implements it (a small adapter over its
// ConnectionProtocolState and SessionSink) and passes it to handle() for the duration of the call only.
class ServiceContext {
 public:
  virtual ~ServiceContext() = default;
  virtual std::string_view user_id() const = 0;        // the token's sub
  virtual std::string_view connection_id() const = 0;  // auth_success.connectionId
  // Whether this connection has subscribed to `channel` (presence and sync require it).
  virtual bool is_subscribed(std::string_view channel) const = 0;
  // Empty when the connection's token allows `channel` (section 3.1: private user: channels, the `channels`
  // claim; chat membership is not consulted), else why not. Default: allowed.
  virtual std::string channel_denied(std::string_view channel) const {
    (void)channel;
    return {};
  }
  // Sends {"type":"reply","ref":ref,"data":data}; ref omitted when empty.
  virtual void reply(std::string_view ref, const nlohmann::json& data) = 0;
  // The same reply, sent later from any thread, for an answer that waits for a store (presence members read from
  // Redis) without holding the connection's thread. The function keeps the connection alive until it is called
  // (a connection closed meanwhile drops the reply).
  virtual std::function<void(const nlohmann::json& data)> reply_later(std::string_view ref) = 0;
  // Sends {"type":"error","code":code,"message":message,"ref":ref}, plus every field of `extra` when non-null
  // (an object, e.g. {"current": item} for version_conflict).
  virtual void error(std::string_view ref, std::string_view code, std::string_view message,
                     const nlohmann::json* extra = nullptr) = 0;
};

// How services reach channel subscribers, with or without a connection at hand. Implemented by the server over
// the Hub; tests record the calls.
class Broadcaster {
 public:
  virtual ~Broadcaster() = default;
  // A `channel_message` from user `from` with `event` and `payload`, through the hub (offsets, epoch, history),
  // exactly as if that user had published it. Chat and sync events use this.
  virtual void publish(std::string_view channel, std::string_view event, std::string_view from,
                       const nlohmann::json& payload) = 0;
  // The same for events that are stale a few seconds later (chat `typing`): an implementation may keep them
  // out of the channel's history so that recovery does not replay them. The default simply publishes.
  virtual void publish_transient(std::string_view channel, std::string_view event, std::string_view from,
                                 const nlohmann::json& payload) {
    publish(channel, event, from, payload);
  }
  // One complete server message (a JSON object, no newline) to every current subscriber of `channel`, outside
  // the channel's offsets and history. presence_diff uses this.
  virtual void send_raw(std::string_view channel, std::string_view message_json) = 0;
  // Ends the subscriptions to `channel` of `user` (of everyone when `user` is empty) on all their connections,
  // at once: no later publication reaches them, each gets the `unsubscribed` push with `reason`
  // (wire::unsubscribe_reason) and `message`, and their presence there leaves as on unsubscribe.
  virtual void end_subscriptions(std::string_view channel, std::string_view user, std::string_view reason,
                                 std::string_view message) = 0;
};

class Services {
 public:
  using Clock = std::function<std::uint64_t()>;  // ms since the epoch (MessageHandler::Clock)

  // Opens (and migrates) the database. Never throws: check ok() before serving; when it is false, presence
  // still works and chat/sync requests are answered with `internal`. With Postgres, ok() is true even when the
  // database could not be reached yet (open_error() says why; requests answer `unavailable` until it can).
  Services(ServicesConfig config, Broadcaster& broadcaster, Clock clock);
  ~Services();
  Services(const Services&) = delete;
  Services& operator=(const Services&) = delete;

  bool ok() const;
  std::string open_error() const;  // why the database did not open (empty when ok)

  // True for every type Services answers: presence_join/update/leave/get, chat_*, sync_*. Unknown chat_* or
  // sync_* names are answered here with `unknown_type`.
  static bool handles(std::string_view type);
  // One authenticated request. `msg` is the whole parsed object (type, ref and the fields), `ref` its valid ref
  // (or empty). Answers through ctx (reply or error; chat_typing has no reply) and broadcasts through the
  // Broadcaster.
  void handle(ServiceContext& ctx, std::string_view type, const nlohmann::json& msg, std::string_view ref);

  // Access rule for `subscribe`: `chat:<roomId>` only for current participants of an existing room; every other
  // channel is not Services' business (true). Call before subscribing; refuse with `forbidden` when false.
  // Queries the database: call it on a service worker.
  bool may_subscribe(std::string_view user_id, std::string_view channel);
  // The same, with nullopt when the database could not answer (the subscribe then gets `unavailable`).
  std::optional<bool> may_subscribe_checked(std::string_view user_id, std::string_view channel);
  // The channel's presence members (a JSON array; empty when nobody joined), handed to `done`: sent to a new
  // subscriber as `presence_state` so it sees who is there before joining itself. At once in memory; with Redis,
  // at once from the node's copy, or from the store's thread after the copy's first read (never waiting here).
  void presence_members(std::string_view channel, std::function<void(nlohmann::json)> done);
  // After the connection unsubscribed from `channel` (explicitly): its presence there leaves (with grace).
  void on_unsubscribe(std::string_view user_id, std::string_view connection_id, std::string_view channel);
  // After the connection closed: its presence leaves every channel (with grace).
  void on_disconnect(std::string_view user_id, std::string_view connection_id);

  // Runs every deferred event due at clock(): presence leaves past their grace, typing indicators past their
  // TTL. Drive it with a repeating timer (every 250 ms is plenty), or re-arm a timer for next_deadline_ms()
  // after each call into Services.
  void tick();
  // When tick() next has work (ms since the epoch, clock()'s scale), or 0 when nothing is pending.
  std::uint64_t next_deadline_ms() const;

  struct Impl;  // defined in service_impl.hpp; public only so the service_*.cpp files can share it

 private:
  mutable std::mutex mutex_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tidewire::server
