#include "client/chat_room_state.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>

#include "client/sorted_vector.hpp"

namespace tidewire::client {

namespace {
bool string_field(const protocol::JsonValue& j, const char* key, std::string& out) {
  const protocol::JsonValue* v = j.find(key);
  if (v == nullptr || !v->is_string()) return false;
  out = v->as_string();
  return !out.empty();
}
}  // namespace

std::size_t ChatRoomState::index_of(const ByName& v, const std::string& name) {
  return lower_index(v, [&name](const std::pair<std::string, double>& e) { return e.first < name; });
}

protocol::JsonValue* ChatRoomState::find(const std::string& id) {
  const std::size_t k = index_of(created_at_, id);
  if (k == created_at_.size() || created_at_[k].first != id) return nullptr;
  const double at = created_at_[k].second;
  const std::size_t i =
      lower_index(messages_, [at, &id](const Message& m) { return m.at < at || (!(at < m.at) && m.id < id); });
  return &messages_[i].value;
}

bool ChatRoomState::apply_message(const protocol::JsonValue& message) {
  std::string id;
  if (!string_field(message, "id", id)) return false;
  if (protocol::JsonValue* existing = find(id)) {
    *existing = message;  // an edit keeps the message's place
    return true;
  }
  const double at = message.number_or("createdAt", 0);
  const std::size_t i =
      lower_index(messages_, [at, &id](const Message& m) { return m.at < at || (!(at < m.at) && m.id < id); });
  insert_at(created_at_, index_of(created_at_, id), std::pair<std::string, double>(id, at));
  insert_at(messages_, i, Message{at, std::move(id), message});
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
  protocol::JsonValue* found = find(message_id);
  if (found == nullptr) return false;  // not loaded: its count arrives with the message later
  protocol::JsonValue& message = *found;
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
  const std::size_t i = index_of(typing_until_, user);
  const bool known = i < typing_until_.size() && typing_until_[i].first == user;
  if (typing != nullptr && typing->as_bool()) {
    if (known) {
      typing_until_[i].second = now_ms + typing_ttl_ms_;
    } else {
      insert_at(typing_until_, i, std::pair<std::string, double>(std::move(user), now_ms + typing_ttl_ms_));
    }
  } else if (known) {
    typing_until_.erase(typing_until_.begin() + static_cast<std::ptrdiff_t>(i));
  }
  return true;
}

protocol::JsonValue ChatRoomState::messages() const {
  protocol::JsonValue out = protocol::JsonValue::array();
  for (const Message& m : messages_) out.push_back(m.value);
  return out;
}

std::string ChatRoomState::oldest_id() const { return messages_.empty() ? std::string() : messages_.front().id; }

std::vector<std::string> ChatRoomState::typing_users(double now_ms) {
  std::vector<std::string> out;
  std::size_t kept = 0;
  for (std::size_t i = 0; i < typing_until_.size(); ++i) {
    if (typing_until_[i].second <= now_ms) continue;
    out.push_back(typing_until_[i].first);
    if (kept != i) typing_until_[kept] = std::move(typing_until_[i]);
    ++kept;
  }
  typing_until_.erase(typing_until_.begin() + static_cast<std::ptrdiff_t>(kept), typing_until_.end());
  return out;
}

double ChatRoomState::next_typing_expiry() const {
  double d = std::numeric_limits<double>::infinity();
  for (const auto& kv : typing_until_) d = std::min(d, kv.second);
  return d;
}

}  // namespace tidewire::client
