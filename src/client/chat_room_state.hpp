// One chat room as the client sees it (docs/PROTOCOL.md section 11): messages in order with paging backwards,
// edits, reaction counts, and typing users that expire by themselves (the clock is passed in, so tests use a
// virtual one).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "protocol/json_value.hpp"

namespace tidewire::client {

class ChatRoomState {
 public:
  explicit ChatRoomState(double typing_ttl_ms = 6000) : typing_ttl_ms_(typing_ttl_ms) {}

  // A chat_history reply's data ({messages, hasMore}): older messages join the front.
  bool apply_history(const protocol::JsonValue& data);
  // A new or edited message (events `message`, `message_edited`, or a chat_send reply's message).
  bool apply_message(const protocol::JsonValue& message);
  // A `reaction` event: {messageId, emoji, count}.
  bool apply_reaction(const protocol::JsonValue& event);
  // A `typing` event: {userId, typing, expiresAt?}. Typing ends by itself after the TTL without a refresh.
  bool apply_typing(const protocol::JsonValue& event, double now_ms);

  // Messages, oldest first.
  protocol::JsonValue messages() const;
  std::size_t message_count() const { return messages_.size(); }
  bool has_more() const { return has_more_; }
  // The id to page back from (the oldest message), or "" when empty.
  std::string oldest_id() const;
  // Users typing now (expired ones are dropped).
  std::vector<std::string> typing_users(double now_ms);
  // When the next typing entry expires (infinity if none).
  double next_typing_expiry() const;

 private:
  struct Message {
    double at;  // createdAt: (at, id) is a stable total order
    std::string id;
    protocol::JsonValue value;
  };
  using ByName = std::vector<std::pair<std::string, double>>;  // sorted by name
  static std::size_t index_of(const ByName& v, const std::string& name);
  protocol::JsonValue* find(const std::string& id);

  std::vector<Message> messages_;  // sorted by (at, id)
  ByName created_at_;              // id -> createdAt, the key of its message
  ByName typing_until_;            // userId -> monotonic expiry
  bool has_more_ = true;
  double typing_ttl_ms_;
};

}  // namespace tidewire::client
