// Chat rooms, participants, messages, reactions and read markers in SQLite (docs/PROTOCOL.md section 11).
//
// Persistence only: the caller (service_chat.cpp) validates input and decides who may do what, using
// membership(). Ids are SQLite rowids (monotonic, never reused thanks to AUTOINCREMENT) and go on the wire as
// decimal strings: compare message ids as integers. Every function returns a status; nothing throws.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "server/sqlite_db.hpp"

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

  // {id, roomId, senderId, text, createdAt, editedAt, reactions, reactedBy}
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
  explicit ChatStore(SqliteDb& db) : db_(db) {}

  // The schema this store needs (one migration step; see Services for the ordered list).
  static std::string_view schema_v1();

  // Creates a room with `creator` and `participants` as active participants (deduplicated). nullopt: db error.
  std::optional<ChatRoom> create_room(std::string_view name, std::string_view visibility, std::string_view creator,
                                      const std::vector<std::string>& participants, std::int64_t now);
  // The DM room of the pair {a, b}, created on first use; both become active participants again if they left.
  std::optional<ChatRoom> open_dm(std::string_view a, std::string_view b, std::int64_t now);
  // false with found=false when the room does not exist; false with found=true on a db error.
  bool load_room(std::int64_t room_id, ChatRoom& out, bool& found);

  Membership membership(std::int64_t room_id, std::string_view user);
  // Makes `user` an active participant (true also when already active). `changed`: it was not active before.
  bool join(std::int64_t room_id, std::string_view user, std::int64_t now, bool& changed);
  // Makes `user` inactive (kept as invited so a private room can be rejoined). `changed`: it was active.
  bool leave(std::int64_t room_id, std::string_view user, bool& changed);

  bool list_rooms(std::string_view user, std::vector<ChatRoomSummary>& out);
  // One room as list_rooms() shows it to `user` (last message, unread count). false with found=false when the
  // room does not exist; false with found=true on a db error.
  bool room_summary(std::int64_t room_id, std::string_view user, ChatRoomSummary& out, bool& found);
  // The id of the room's newest message (nullopt when it has none). false on a db error.
  bool last_message_id(std::int64_t room_id, std::optional<std::int64_t>& out);
  // Messages with id < before (all when nullopt), the newest `limit`, returned oldest first. has_more: older
  // ones remain.
  bool history(std::int64_t room_id, std::optional<std::int64_t> before, int limit, std::vector<ChatMessage>& out,
               bool& has_more);
  // Messages with id > after, the oldest `limit`, oldest first. has_more: newer ones remain.
  bool history_after(std::int64_t room_id, std::int64_t after, int limit, std::vector<ChatMessage>& out,
                     bool& has_more);
  // Removes the room with its participants, messages, reactions and read markers.
  bool delete_room(std::int64_t room_id);

  // Stores a message; with a client id already used by this sender in this room, returns that message with
  // duplicate=true instead.
  bool send(std::int64_t room_id, std::string_view sender, std::string_view text,
            std::optional<std::string_view> client_id, std::int64_t now, ChatMessage& out, bool& duplicate);
  // false with found=false when the message is not in that room.
  bool load_message(std::int64_t room_id, std::int64_t message_id, ChatMessage& out, bool& found);
  bool edit(std::int64_t message_id, std::string_view text, std::int64_t now);
  // Adds or removes `user`'s `emoji` on a message (idempotent: `changed` says whether it did anything); `count`
  // is that emoji's count afterwards.
  bool react(std::int64_t message_id, std::string_view user, std::string_view emoji, bool add, std::int64_t& count,
             bool& changed);

  // Moves the user's read marker forward to `message_id` (never back) and returns the unread count. `moved`:
  // the marker changed.
  bool mark_read(std::int64_t room_id, std::string_view user, std::int64_t message_id, std::int64_t& unread,
                 bool& moved);
  // Messages from others after the user's read marker.
  bool unread_count(std::int64_t room_id, std::string_view user, std::int64_t& unread);

 private:
  bool load_participants(ChatRoom& room);
  bool load_reactions(ChatMessage& message);
  // Steps a message query that asked for `limit` + 1 rows: the first `limit` (with their reactions) into `out`,
  // and `has_more` when the extra row came.
  bool read_page(SqliteStatement& st, int limit, std::vector<ChatMessage>& out, bool& has_more);
  bool add_member(std::int64_t room_id, std::string_view user, std::int64_t now);

  SqliteDb& db_;
};

}  // namespace tidewire::server
