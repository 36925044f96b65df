// The state behind Services (services.hpp), shared by services.cpp (dispatch, lifecycle, timers) and the
// service_presence.cpp, service_chat.cpp and service_sync.cpp request handlers. Private to those files.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "server/chat_store.hpp"
#include "server/pg_pool.hpp"
#include "server/presence_registry.hpp"
#include "server/presence_store.hpp"
#include "server/service_fields.hpp"
#include "server/services.hpp"
#include "server/sqlite_db.hpp"
#include "server/sync_store.hpp"
#include "server/typing_store.hpp"

namespace tidewire::server {

struct Services::Impl {
  Impl(ServicesConfig cfg, Broadcaster& out, Clock now);

  // Each answers one request of its family (the type is known to belong to it); never throws on bad input.
  void handle_presence(ServiceContext& ctx, std::string_view type, const nlohmann::json& msg, std::string_view ref);
  // Replies {members} of `channel` once the presence store has read them (PresenceStore::members_async).
  void reply_members(ServiceContext& ctx, std::string_view ref, const std::string& channel);
  void handle_chat(ServiceContext& ctx, std::string_view type, const nlohmann::json& msg, std::string_view ref);
  void handle_sync(ServiceContext& ctx, std::string_view type, const nlohmann::json& msg, std::string_view ref);

  void broadcast(const PresenceDiff& diff);      // presence_diff to the channel, unless empty
  void expire_typing(std::uint64_t now);          // typing:false for every indicator past its TTL
  // TypingStore under typing_mutex (chat requests run on several workers at once).
  std::uint64_t typing_start(const std::string& room, const std::string& user, std::uint64_t now);
  bool typing_stop(const std::string& room, const std::string& user);
  // The error for a failed store call: `unavailable` (with retryAfterMs) while the database cannot be reached,
  // else `internal`; `what` names the store ("chat", "sync").
  void db_failed(ServiceContext& ctx, std::string_view ref, bool reachable, std::string_view what);
  bool may_subscribe_chat(std::string_view user, std::string_view channel);

  // The live room list (section 11, "Room list"): event `room` with the room as chat_list_rooms shows it to each
  // of `users`, on their user:<id> channels. false on a db error (nothing more is pushed then).
  // Every participant, or only `only_user`.
  bool push_room(std::int64_t room_id, std::string_view only_user = {});
  // Event `room_removed` {roomId, reason} on user:<id>.
  void push_room_removed(std::int64_t room_id, const std::string& user, std::string_view reason);

  ServicesConfig config;
  Broadcaster& out;
  Clock clock;
  SqliteDb db;                // without config.database
  std::unique_ptr<PgPool> pg;  // with config.database
  bool db_ok = false;
  std::string open_error;
  std::unique_ptr<ChatStore> chat;
  std::unique_ptr<SyncStore> sync;
  std::shared_ptr<PresenceStore> presence_owner;  // config.presence_store, or a PresenceRegistry
  PresenceStore& presence;
  std::mutex typing_mutex;
  TypingStore typing;
};

// The channel of a chat room's live traffic.
inline std::string chat_channel(std::int64_t room_id) { return "chat:" + std::to_string(room_id); }
inline bool is_chat_channel(std::string_view channel) { return channel.substr(0, 5) == "chat:"; }
// A user's private channel (section 3.1), where the server pushes that user's room list.
inline std::string user_channel(std::string_view user) { return "user:" + std::string(user); }

}  // namespace tidewire::server
