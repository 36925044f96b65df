#include "client/chat_room_state.hpp"

#include <algorithm>
#include <limits>

namespace tidewire::client {

namespace {
bool string_field(const nlohmann::json& j, const char* key, std::string& out) {
  if (!j.is_object()) return false;
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return false;
  out = it->get<std::string>();
  return !out.empty();
}
}  // namespace

bool ChatRoomState::apply_message(const nlohmann::json& message) {
  std::string id;
  if (!string_field(message, "id", id)) return false;
  auto created = message.find("createdAt");
  const double at = created != message.end() && created->is_number() ? created->get<double>() : 0;
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

bool ChatRoomState::apply_history(const nlohmann::json& data) {
  if (!data.is_object()) return false;
  auto messages = data.find("messages");
  if (messages == data.end() || !messages->is_array()) return false;
  for (const auto& m : *messages) apply_message(m);
  auto more = data.find("hasMore");
  has_more_ = more != data.end() && more->is_boolean() && more->get<bool>();
  return true;
}

bool ChatRoomState::apply_reaction(const nlohmann::json& event) {
  std::string message_id, emoji;
  if (!string_field(event, "messageId", message_id) || !string_field(event, "emoji", emoji)) return false;
  auto key = key_of_.find(message_id);
  if (key == key_of_.end()) return false;  // not loaded: its count arrives with the message later
  auto& message = by_key_[key->second];
  auto& reactions = message["reactions"];
  if (!reactions.is_object()) reactions = nlohmann::json::object();
  auto count = event.find("count");
  const int n = count != event.end() && count->is_number_integer() ? count->get<int>() : 0;
  if (n > 0) reactions[emoji] = n;
  else reactions.erase(emoji);
  return true;
}

bool ChatRoomState::apply_typing(const nlohmann::json& event, double now_ms) {
  std::string user;
  if (!string_field(event, "userId", user)) return false;
  auto typing = event.find("typing");
  if (typing != event.end() && typing->is_boolean() && typing->get<bool>()) {
    typing_until_[user] = now_ms + typing_ttl_ms_;
  } else {
    typing_until_.erase(user);
  }
  return true;
}

nlohmann::json ChatRoomState::messages() const {
  nlohmann::json out = nlohmann::json::array();
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
