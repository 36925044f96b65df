#include "client/chat_room_state.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>

namespace tidewire::client {

namespace {
bool string_field(const protocol::JsonValue& j, const char* key, std::string& out) {
  const protocol::JsonValue* v = j.find(key);
  if (v == nullptr || !v->is_string()) return false;
  out = v->as_string();
  return !out.empty();
}
}  // namespace

bool ChatRoomState::apply_message(const protocol::JsonValue& message) {
  std::string id;
  if (!string_field(message, "id", id)) return false;
  const double at = message.number_or("createdAt", 0);
  auto existing = key_of_.find(id);
  if (existing != key_of_.end()) {
    by_key_[existing->second] = message;  // an edit keeps the message's place
    return true;
  }
  const Key key{at, id};
  by_key_[key] = message;
  key_of_[id] = key;
  return true;
}

bool ChatRoomState::apply_history(const protocol::JsonValue& data) {
  const protocol::JsonValue* messages = data.find("messages");
  if (messages == nullptr || !messages->is_array()) return false;
  for (const auto& m : messages->elements()) apply_message(m);
  const protocol::JsonValue* more = data.find("hasMore");
  has_more_ = more != nullptr && more->as_bool();
  return true;
}

bool ChatRoomState::apply_reaction(const protocol::JsonValue& event) {
  std::string message_id, emoji;
  if (!string_field(event, "messageId", message_id) || !string_field(event, "emoji", emoji)) return false;
  auto key = key_of_.find(message_id);
  if (key == key_of_.end()) return false;  // not loaded: its count arrives with the message later
  protocol::JsonValue& message = by_key_[key->second];
  protocol::JsonValue* reactions = message.find("reactions");
  if (reactions == nullptr || !reactions->is_object()) {
    reactions = &message.set("reactions", protocol::JsonValue::object());
  }
  const protocol::JsonValue* count = event.find("count");
  const std::int64_t n = count != nullptr ? count->as_int() : 0;  // 0 unless an integer
  if (n > 0) reactions->set(emoji, protocol::JsonValue::integer(n));
  else reactions->erase(emoji);
  return true;
}

bool ChatRoomState::apply_typing(const protocol::JsonValue& event, double now_ms) {
  std::string user;
  if (!string_field(event, "userId", user)) return false;
  const protocol::JsonValue* typing = event.find("typing");
  if (typing != nullptr && typing->as_bool()) {
    typing_until_[user] = now_ms + typing_ttl_ms_;
  } else {
    typing_until_.erase(user);
  }
  return true;
}

protocol::JsonValue ChatRoomState::messages() const {
  protocol::JsonValue out = protocol::JsonValue::array();
  for (const auto& kv : by_key_) out.push_back(kv.second);
  return out;
}

std::string ChatRoomState::oldest_id() const { return by_key_.empty() ? std::string() : by_key_.begin()->first.second; }

std::vector<std::string> ChatRoomState::typing_users(double now_ms) {
  std::vector<std::string> out;
  for (auto it = typing_until_.begin(); it != typing_until_.end();) {
    if (it->second <= now_ms) {
      it = typing_until_.erase(it);
    } else {
      out.push_back(it->first);
      ++it;
    }
  }
  return out;
}

double ChatRoomState::next_typing_expiry() const {
  double d = std::numeric_limits<double>::infinity();
  for (const auto& kv : typing_until_) d = std::min(d, kv.second);
  return d;
}

}  // namespace tidewire::client
