// ChatStore in Postgres (chat_store.hpp; --database): shared by every node. Ids come from identity columns.
// What two nodes may do at the same moment is settled by the database: the client-id dedupe of chat_send by a
// unique index (INSERT ... ON CONFLICT DO NOTHING, then the stored message with duplicate=true), the DM of a pair
// by a unique dm_key, membership changes by upserts, deletion by cascading foreign keys. Thread-safe: each call
// leases a connection from the pool.
#pragma once

#include "server/chat_store.hpp"
#include "server/pg_pool.hpp"

namespace tidewire::server {

class PgChatStore final : public ChatStore {
 public:
  explicit PgChatStore(PgPool& pool) : pool_(pool) {}

  static std::string_view schema_v1();

  bool reachable() const override { return pool_.healthy(); }
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
  PgPool& pool_;
};

}  // namespace tidewire::server
