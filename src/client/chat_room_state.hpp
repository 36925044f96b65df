// One chat room as the client sees it (docs/PROTOCOL.md section 11): messages in order with paging backwards,
// edits, reaction counts, and typing users that expire by themselves (the clock is passed in, so tests use a
// virtual one).
#pragma once

#include <map>
#include <string>
#include <unordered_map>
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
  std::size_t message_count() const { return by_key_.size(); }
  bool has_more() const { return has_more_; }
  // The id to page back from (the oldest message), or "" when empty.
  std::string oldest_id() const;
  // Users typing now (expired ones are dropped).
  std::vector<std::string> typing_users(double now_ms);
  // When the next typing entry expires (infinity if none).
  double next_typing_expiry() const;

 private:
  using Key = std::pair<double, std::string>;  // (createdAt, id): a stable total order
  std::map<Key, protocol::JsonValue> by_key_;
  std::unordered_map<std::string, Key> key_of_;
  std::map<std::string, double> typing_until_;  // userId -> monotonic expiry
  bool has_more_ = true;
  double typing_ttl_ms_;
};

}  // namespace tidewire::client
