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
bool digits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}
// Ids are decimal strings compared as integers (section 11); any other id sorts after them, as text.
bool id_less(const std::string& a, const std::string& b) {
  const bool da = digits(a), db = digits(b);
  if (da != db) return da;
  if (da && a.size() != b.size()) return a.size() < b.size();
  return a < b;
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
      lower_index(messages_, [at, &id](const Message& m) { return m.at < at || (!(at < m.at) && id_less(m.id, id)); });
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
      lower_index(messages_, [at, &id](const Message& m) { return m.at < at || (!(at < m.at) && id_less(m.id, id)); });
  insert_at(created_at_, index_of(created_at_, id), std::pair<std::string, double>(id, at));
  insert_at(messages_, i, Message{at, std::move(id), message});
  return true;
}

bool ChatRoomState::merge_page(const protocol::JsonValue& data) {
  const protocol::JsonValue* messages = data.find("messages");
  if (messages == nullptr || !messages->is_array()) return false;
  for (const auto& m : messages->elements()) apply_message(m);
  return true;
}

bool ChatRoomState::apply_history(const protocol::JsonValue& data) {
  if (!merge_page(data)) return false;
  const protocol::JsonValue* more = data.find("hasMore");
  has_more_ = more != nullptr && more->as_bool();
  return true;
}

bool ChatRoomState::apply_newer(const protocol::JsonValue& data) { return merge_page(data); }

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

  // Who reacted: the event's user joins or leaves the emoji's list (idempotent, so a replay changes nothing).
  std::string user;
  const protocol::JsonValue* add = event.find("add");
  if (!string_field(event, "userId", user) || add == nullptr || !add->is_bool()) return true;
  protocol::JsonValue* by = message.find("reactedBy");
  if (by == nullptr || !by->is_object()) by = &message.set("reactedBy", protocol::JsonValue::object());
  protocol::JsonValue users = protocol::JsonValue::array();
  if (const protocol::JsonValue* old = by->find(emoji)) {
    for (const auto& u : old->elements()) {
      if (!(u.is_string() && u.as_string() == user)) users.push_back(u);
    }
  }
  if (add->as_bool() && n > 0) users.push_back(protocol::JsonValue::string(user));
  if (users.size() == 0 || n <= 0) by->erase(emoji);
  else by->set(emoji, std::move(users));
  return true;
}

std::size_t ChatRoomState::pending_index(const std::string& client_id) const {
  std::size_t i = 0;
  while (i < pending_.size() && pending_[i].id != client_id) ++i;
  return i;
}

bool ChatRoomState::add_pending(const protocol::JsonValue& message) {
  std::string client_id;
  if (!message.is_object() || !string_field(message, "clientId", client_id)) return false;
  if (pending_index(client_id) < pending_.size()) return false;
  pending_.push_back(Message{0, std::move(client_id), message});
  pending_.back().value.set("status", protocol::JsonValue::string("pending"));
  return true;
}

bool ChatRoomState::mark_pending(const std::string& client_id, const std::string& error) {
  const std::size_t i = pending_index(client_id);
  if (i == pending_.size()) return false;
  protocol::JsonValue& value = pending_[i].value;
  value.set("status", protocol::JsonValue::string(error.empty() ? "pending" : "failed"));
  if (error.empty()) value.erase("error");
  else value.set("error", protocol::JsonValue::string(error));
  return true;
}

bool ChatRoomState::settle_pending(const std::string& client_id, const protocol::JsonValue* message) {
  const std::size_t i = pending_index(client_id);
  if (i == pending_.size()) return false;
  pending_.erase(pending_.begin() + static_cast<std::ptrdiff_t>(i));
  // A copy already delivered (event or resume) keeps its reactions: only a message not yet here is added.
  std::string id;
  if (message != nullptr && string_field(*message, "id", id) && find(id) == nullptr) apply_message(*message);
  return true;
}

bool ChatRoomState::set_participants(const protocol::JsonValue& ids) {
  if (!ids.is_array()) return false;
  participants_.clear();
  for (const auto& id : ids.elements()) {
    const std::string& user = id.as_string();
    const std::size_t i = index_of(participants_, user);
    if (!user.empty() && (i == participants_.size() || participants_[i].first != user)) {
      insert_at(participants_, i, std::pair<std::string, double>(user, 0));
    }
  }
  return true;
}

bool ChatRoomState::apply_member(const protocol::JsonValue& event, bool joined, double at_ms) {
  std::string user;
  if (!string_field(event, "userId", user)) return false;
  const std::size_t i = index_of(participants_, user);
  const bool present = i < participants_.size() && participants_[i].first == user;
  if (present == joined) return true;  // already known (a replay, or the list was fetched after it)
  if (joined) insert_at(participants_, i, std::pair<std::string, double>(user, 0));
  else participants_.erase(participants_.begin() + static_cast<std::ptrdiff_t>(i));
  protocol::JsonValue line = protocol::JsonValue::object();
  line.set("userId", protocol::JsonValue::string(std::move(user)));
  line.set("joined", protocol::JsonValue::boolean(joined));
  line.set("at", protocol::JsonValue::number(at_ms));
  if (member_events_.size() >= kMaxMemberEvents) {  // drop the oldest
    protocol::JsonValue kept = protocol::JsonValue::array();
    for (std::size_t k = 1; k < member_events_.size(); ++k) kept.push_back(member_events_.elements()[k]);
    member_events_ = std::move(kept);
  }
  member_events_.push_back(std::move(line));
  return true;
}

protocol::JsonValue ChatRoomState::participants() const {
  protocol::JsonValue out = protocol::JsonValue::array();
  for (const auto& p : participants_) out.push_back(protocol::JsonValue::string(p.first));
  return out;
}

protocol::JsonValue ChatRoomState::member_events() const { return member_events_; }

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
  for (const Message& p : pending_) out.push_back(p.value);
  return out;
}

std::string ChatRoomState::oldest_id() const { return messages_.empty() ? std::string() : messages_.front().id; }
std::string ChatRoomState::newest_id() const {
  std::string newest;
  for (const Message& m : messages_) {
    if (newest.empty() || id_less(newest, m.id)) newest = m.id;
  }
  return newest;
}

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
