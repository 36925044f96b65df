#include "state/chat_room_state.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>

#include "state/json_fields.hpp"
#include "state/sorted_vector.hpp"

namespace tidewire::state {

namespace {
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

Json* ChatRoomState::find(const std::string& id) {
  const std::size_t k = index_of(created_at_, id);
  if (k == created_at_.size() || created_at_[k].first != id) return nullptr;
  const double at = created_at_[k].second;
  const std::size_t i =
      lower_index(messages_, [at, &id](const Message& m) { return m.at < at || (!(at < m.at) && id_less(m.id, id)); });
  return &messages_[i].value;
}

bool ChatRoomState::apply_message(const Json& message) {
  std::string id;
  if (!string_field(message, "id", id)) return false;
  settle_echo(message);
  if (Json* existing = find(id)) {
    *existing = message;  // an edit keeps the message's place
    return true;
  }
  const double at = number_or(message, "createdAt", 0);
  const std::size_t i =
      lower_index(messages_, [at, &id](const Message& m) { return m.at < at || (!(at < m.at) && id_less(m.id, id)); });
  insert_at(created_at_, index_of(created_at_, id), std::pair<std::string, double>(id, at));
  insert_at(messages_, i, Message{at, std::move(id), message});
  return true;
}

bool ChatRoomState::merge_page(const Json& data) {
  const Json* messages = field(data, "messages");
  if (messages == nullptr || !messages->is_array()) return false;
  for (const auto& m : *messages) apply_message(m);
  return true;
}

bool ChatRoomState::apply_history(const Json& data) {
  if (!merge_page(data)) return false;
  has_more_ = is_true(field(data, "hasMore"));
  return true;
}

bool ChatRoomState::apply_newer(const Json& data) { return merge_page(data); }

bool ChatRoomState::apply_reaction(const Json& event) {
  std::string message_id, emoji;
  if (!string_field(event, "messageId", message_id) || !string_field(event, "emoji", emoji)) return false;
  Json* found = find(message_id);
  if (found == nullptr || !found->is_object()) return false;  // not loaded: its count arrives with the message later
  Json& message = *found;
  Json& reactions = message["reactions"];
  if (!reactions.is_object()) reactions = Json::object();
  const std::int64_t n = int_of(field(event, "count"));  // 0 unless an integer
  if (n > 0) reactions[emoji] = n;
  else reactions.erase(emoji);

  // Who reacted: the event's user joins or leaves the emoji's list (idempotent, so a replay changes nothing).
  std::string user;
  const Json* add = field(event, "add");
  if (!string_field(event, "userId", user) || add == nullptr || !add->is_boolean()) return true;
  Json& by = message["reactedBy"];
  if (!by.is_object()) by = Json::object();
  Json users = Json::array();
  for (const auto& u : elements(field(by, emoji.c_str()))) {
    if (!(u.is_string() && u.get_ref<const std::string&>() == user)) users.push_back(u);
  }
  if (add->get<bool>() && n > 0) users.push_back(user);
  if (users.empty() || n <= 0) by.erase(emoji);
  else by[emoji] = std::move(users);
  return true;
}

std::size_t ChatRoomState::pending_index(const std::string& client_id) const {
  std::size_t i = 0;
  while (i < pending_.size() && pending_[i].id != client_id) ++i;
  return i;
}

bool ChatRoomState::add_pending(const Json& message) {
  std::string client_id;
  if (!message.is_object() || !string_field(message, "clientId", client_id)) return false;
  if (pending_index(client_id) < pending_.size()) return false;
  pending_.push_back(Message{0, std::move(client_id), message});
  pending_.back().value["status"] = "pending";
  return true;
}

bool ChatRoomState::mark_pending(const std::string& client_id, const std::string& error) {
  const std::size_t i = pending_index(client_id);
  if (i == pending_.size()) return false;
  Json& value = pending_[i].value;
  value["status"] = error.empty() ? "pending" : "failed";
  if (error.empty()) value.erase("error");
  else value["error"] = error;
  return true;
}

bool ChatRoomState::settle_pending(const std::string& client_id, const Json* message) {
  const std::size_t i = pending_index(client_id);
  const bool removed = i < pending_.size();
  if (removed) pending_.erase(pending_.begin() + static_cast<std::ptrdiff_t>(i));
  // A copy already delivered (event or resume) keeps its reactions: only a message not yet here is added.
  std::string id;
  const bool added = message != nullptr && string_field(*message, "id", id) && find(id) == nullptr;
  if (added) apply_message(*message);
  return removed || added;
}

void ChatRoomState::settle_echo(const Json& message) {
  std::string client_id, sender;
  if (pending_.empty() || !string_field(message, "clientId", client_id)) return;
  const std::size_t i = pending_index(client_id);
  if (i == pending_.size()) return;
  // Client ids are the sender's own: another sender's message with the same one is not this echo.
  std::string pending_sender;
  if (string_field(pending_[i].value, "senderId", pending_sender) &&
      (!string_field(message, "senderId", sender) || sender != pending_sender)) {
    return;
  }
  pending_.erase(pending_.begin() + static_cast<std::ptrdiff_t>(i));
}

bool ChatRoomState::set_participants(const Json& ids) {
  if (!ids.is_array()) return false;
  participants_.clear();
  for (const auto& id : ids) {
    const std::string user = id.is_string() ? id.get<std::string>() : std::string();
    const std::size_t i = index_of(participants_, user);
    if (!user.empty() && (i == participants_.size() || participants_[i].first != user)) {
      insert_at(participants_, i, std::pair<std::string, double>(user, 0));
    }
  }
  return true;
}

bool ChatRoomState::apply_member(const Json& event, bool joined, double at_ms) {
  std::string user;
  if (!string_field(event, "userId", user)) return false;
  const std::size_t i = index_of(participants_, user);
  const bool present = i < participants_.size() && participants_[i].first == user;
  if (present == joined) return true;  // already known (a replay, or the list was fetched after it)
  if (joined) insert_at(participants_, i, std::pair<std::string, double>(user, 0));
  else participants_.erase(participants_.begin() + static_cast<std::ptrdiff_t>(i));
  if (member_events_.size() >= kMaxMemberEvents) member_events_.erase(0);  // drop the oldest
  member_events_.push_back(Json{{"userId", std::move(user)}, {"joined", joined}, {"at", number(at_ms)}});
  return true;
}

Json ChatRoomState::participants() const {
  Json out = Json::array();
  for (const auto& p : participants_) out.push_back(p.first);
  return out;
}

Json ChatRoomState::member_events() const { return member_events_; }

bool ChatRoomState::apply_typing(const Json& event, double now_ms) {
  std::string user;
  if (!string_field(event, "userId", user)) return false;
  const bool typing = is_true(field(event, "typing"));
  const std::size_t i = index_of(typing_until_, user);
  const bool known = i < typing_until_.size() && typing_until_[i].first == user;
  if (typing) {
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

Json ChatRoomState::messages() const {
  Json out = Json::array();
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

}  // namespace tidewire::state
