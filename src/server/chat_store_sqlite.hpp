// ChatStore in SQLite (chat_store.hpp): one node's file under --data-dir (the embedded default). Ids are rowids
// (AUTOINCREMENT: never reused). Not thread-safe: the services run it on one worker thread.
#pragma once

#include "server/chat_store.hpp"
#include "server/sqlite_db.hpp"

namespace tidewire::server {

class SqliteChatStore final : public ChatStore {
 public:
  explicit SqliteChatStore(SqliteDb& db) : db_(db) {}

  // The schema this store needs (one migration step; see Services for the ordered list).
  static std::string_view schema_v1();

  std::optional<ChatRoom> create_room(std::string_view name, std::string_view visibility, std::string_view creator,
                                      const std::vector<std::string>& participants, std::int64_t now) override;
  std::optional<ChatRoom> open_dm(std::string_view a, std::string_view b, std::int64_t now) override;
  bool load_room(std::int64_t room_id, ChatRoom& out, bool& found) override;
  Membership membership(std::int64_t room_id, std::string_view user) override;
  bool join(std::int64_t room_id, std::string_view user, std::int64_t now, bool& changed) override;
  bool leave(std::int64_t room_id, std::string_view user, bool& changed) override;
  bool list_rooms(std::string_view user, std::vector<ChatRoomSummary>& out) override;
  bool room_summary(std::int64_t room_id, std::string_view user, ChatRoomSummary& out, bool& found) override;
  bool last_message_id(std::int64_t room_id, std::optional<std::int64_t>& out) override;
  bool history(std::int64_t room_id, std::optional<std::int64_t> before, int limit, std::vector<ChatMessage>& out,
               bool& has_more) override;
  bool history_after(std::int64_t room_id, std::int64_t after, int limit, std::vector<ChatMessage>& out,
                     bool& has_more) override;
  bool delete_room(std::int64_t room_id) override;
  bool send(std::int64_t room_id, std::string_view sender, std::string_view text,
            std::optional<std::string_view> client_id, std::int64_t now, ChatMessage& out, bool& duplicate) override;
  bool load_message(std::int64_t room_id, std::int64_t message_id, ChatMessage& out, bool& found) override;
  bool edit(std::int64_t message_id, std::string_view text, std::int64_t now) override;
  bool react(std::int64_t message_id, std::string_view user, std::string_view emoji, bool add, std::int64_t& count,
             bool& changed) override;
  bool mark_read(std::int64_t room_id, std::string_view user, std::int64_t message_id, std::int64_t& unread,
                 bool& moved) override;
  bool unread_count(std::int64_t room_id, std::string_view user, std::int64_t& unread) override;

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
