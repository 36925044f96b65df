// Chat rooms, participants, messages, reactions and read markers (docs/PROTOCOL.md section 11): the types and the
// ChatStore interface. Implementations: SqliteChatStore (chat_store_sqlite.*, one node's file, the default) and
// PgChatStore (chat_store_postgres.*, --database: shared by every node).
//
// Persistence only: the caller (service_chat.cpp) validates input and decides who may do what, using
// membership(). Ids are int64, monotonic and never reused (SQLite AUTOINCREMENT rowids, Postgres identity
// columns), and go on the wire as decimal strings: compare message ids as integers. Every function returns a
// status; nothing throws. Thread safety: SqliteChatStore is used by one thread at a time (the services' single
// SQLite worker); PgChatStore may be called from several worker threads at once (each call leases a connection).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace tidewire::server {

struct ChatRoom {
  std::int64_t id = 0;
  std::string name;
  std::string kind = "room";  // "room" or "dm"
  std::string visibility = "public";
  std::string created_by;
  std::int64_t created_at = 0;
  std::vector<std::string> participants;  // current participants, sorted

  nlohmann::json to_json() const;  // {id, name, kind, visibility, participants, createdBy, createdAt}
};

struct ChatMessage {
  std::int64_t id = 0;
  std::int64_t room_id = 0;
  std::string sender_id;
  std::string text;
  std::int64_t created_at = 0;
  std::optional<std::int64_t> edited_at;
  std::map<std::string, std::int64_t> reactions;               // emoji -> count
  std::map<std::string, std::vector<std::string>> reacted_by;  // emoji -> user ids (sorted)
  std::string client_id;  // the sender's client message id (chat_send's `id`), "" when it sent none

  // {id, roomId, senderId, text, createdAt, editedAt, reactions, reactedBy, clientId?}
  nlohmann::json to_json() const;
};

struct ChatRoomSummary {
  ChatRoom room;
  std::optional<ChatMessage> last_message;
  std::int64_t unread_count = 0;
};

enum class Membership {
  kNoRoom,    // the room does not exist
  kNone,      // never a participant nor invited
  kInvited,   // listed at creation (private rooms) or left: may (re)join
  kActive,    // a participant
  kError,     // the database failed
};


class ChatStore {
 public:
  virtual ~ChatStore() = default;

  // False while the store's database cannot be reached (Postgres down): a failed call is then answered with
  // `unavailable` (retry later) instead of `internal`. SQLite: always true.
  virtual bool reachable() const { return true; }

  // Creates a room with `creator` and `participants` as active participants (deduplicated). nullopt: db error.
  virtual std::optional<ChatRoom> create_room(std::string_view name, std::string_view visibility,
                                              std::string_view creator, const std::vector<std::string>& participants,
                                              std::int64_t now) = 0;
  // The DM room of the pair {a, b}, created on first use; both become active participants again if they left.
  virtual std::optional<ChatRoom> open_dm(std::string_view a, std::string_view b, std::int64_t now) = 0;
  // false with found=false when the room does not exist; false with found=true on a db error.
  virtual bool load_room(std::int64_t room_id, ChatRoom& out, bool& found) = 0;

  virtual Membership membership(std::int64_t room_id, std::string_view user) = 0;
  // Makes `user` an active participant (true also when already active). `changed`: it was not active before.
  virtual bool join(std::int64_t room_id, std::string_view user, std::int64_t now, bool& changed) = 0;
  // Makes `user` inactive (kept as invited so a private room can be rejoined). `changed`: it was active.
  virtual bool leave(std::int64_t room_id, std::string_view user, bool& changed) = 0;

  virtual bool list_rooms(std::string_view user, std::vector<ChatRoomSummary>& out) = 0;
  // One room as list_rooms() shows it to `user` (last message, unread count). false with found=false when the
  // room does not exist; false with found=true on a db error.
  virtual bool room_summary(std::int64_t room_id, std::string_view user, ChatRoomSummary& out, bool& found) = 0;
  // The id of the room's newest message (nullopt when it has none). false on a db error.
  virtual bool last_message_id(std::int64_t room_id, std::optional<std::int64_t>& out) = 0;
  // Messages with id < before (all when nullopt), the newest `limit`, returned oldest first. has_more: older
  // ones remain.
  virtual bool history(std::int64_t room_id, std::optional<std::int64_t> before, int limit,
                       std::vector<ChatMessage>& out, bool& has_more) = 0;
  // Messages with id > after, the oldest `limit`, oldest first. has_more: newer ones remain.
  virtual bool history_after(std::int64_t room_id, std::int64_t after, int limit, std::vector<ChatMessage>& out,
                             bool& has_more) = 0;
  // Removes the room with its participants, messages, reactions and read markers.
  virtual bool delete_room(std::int64_t room_id) = 0;

  // Stores a message; with a client id already used by this sender in this room, returns that message with
  // duplicate=true instead (also when another node stored it at the same moment).
  virtual bool send(std::int64_t room_id, std::string_view sender, std::string_view text,
                    std::optional<std::string_view> client_id, std::int64_t now, ChatMessage& out,
                    bool& duplicate) = 0;
  // false with found=false when the message is not in that room.
  virtual bool load_message(std::int64_t room_id, std::int64_t message_id, ChatMessage& out, bool& found) = 0;
  virtual bool edit(std::int64_t message_id, std::string_view text, std::int64_t now) = 0;
  // Adds or removes `user`'s `emoji` on a message (idempotent: `changed` says whether it did anything); `count`
  // is that emoji's count afterwards.
  virtual bool react(std::int64_t message_id, std::string_view user, std::string_view emoji, bool add,
                     std::int64_t& count, bool& changed) = 0;

  // Moves the user's read marker forward to `message_id` (never back) and returns the unread count. `moved`:
  // the marker changed.
  virtual bool mark_read(std::int64_t room_id, std::string_view user, std::int64_t message_id, std::int64_t& unread,
                         bool& moved) = 0;
  // Messages from others after the user's read marker.
  virtual bool unread_count(std::int64_t room_id, std::string_view user, std::int64_t& unread) = 0;
};

}  // namespace tidewire::server
