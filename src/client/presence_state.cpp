#include "client/presence_state.hpp"

#include <algorithm>
#include <cstdint>

#include "client/sorted_vector.hpp"

namespace tidewire::client {

namespace {
constexpr std::size_t kMaxPendingDiffs = 1000;

bool valid_status(const std::string& s) { return s == "online" || s == "away" || s == "busy"; }
}  // namespace

bool PresenceState::upsert(const protocol::JsonValue& m) {
  const protocol::JsonValue* uid = m.find("userId");
  if (uid == nullptr || !uid->is_string() || uid->as_string().empty()) return false;
  PresenceMember member;
  member.user_id = uid->as_string();
  const std::string status = m.string_or("status", "");
  member.status = valid_status(status) ? status : "online";
  const protocol::JsonValue* info = m.find("info");
  if (info != nullptr && info->is_object()) member.info = *info;
  member.joined_at = m.number_or("joinedAt", 0);
  const protocol::JsonValue* conns = m.find("connections");
  if (conns != nullptr && conns->is_integer()) {
    member.connections = static_cast<int>(std::clamp<std::int64_t>(conns->as_int(), 1, 1 << 30));
  }
  // An update may carry only what changed: keep the rest.
  const std::size_t i = index_of(member.user_id);
  if (i == members_.size() || members_[i].user_id != member.user_id) {
    insert_at(members_, i, std::move(member));
    return true;
  }
  PresenceMember& existing = members_[i];
  if (member.joined_at == 0) member.joined_at = existing.joined_at;
  if (info == nullptr) member.info = std::move(existing.info);
  if (conns == nullptr) member.connections = existing.connections;
  existing = std::move(member);
  return true;
}

bool PresenceState::apply_state(const protocol::JsonValue& members) {
  if (!members.is_array()) return false;
  members_.clear();
  for (const auto& m : members.elements()) upsert(m);
  has_state_ = true;
  std::vector<protocol::JsonValue> pending;
  pending.swap(pending_diffs_);
  for (const auto& d : pending) apply_diff_now(d);
  return true;
}

bool PresenceState::apply_diff(const protocol::JsonValue& diff) {
  if (!diff.is_object()) return false;
  if (!has_state_) {
    if (pending_diffs_.size() < kMaxPendingDiffs) pending_diffs_.push_back(diff);
    return true;
  }
  return apply_diff_now(diff);
}

bool PresenceState::apply_diff_now(const protocol::JsonValue& diff) {
  for (const char* key : {"joins", "updates"}) {
    if (const protocol::JsonValue* list = diff.find(key)) {
      for (const auto& m : list->elements()) upsert(m);
    }
  }
  if (const protocol::JsonValue* leaves = diff.find("leaves")) {
    for (const auto& l : leaves->elements()) {
      const protocol::JsonValue* uid = l.is_string() ? &l : l.find("userId");
      if (uid == nullptr || !uid->is_string()) continue;
      const std::size_t i = index_of(uid->as_string());
      if (i < members_.size() && members_[i].user_id == uid->as_string()) {
        members_.erase(members_.begin() + static_cast<std::ptrdiff_t>(i));
      }
    }
  }
  return true;
}

void PresenceState::clear() {
  members_.clear();
  pending_diffs_.clear();
  has_state_ = false;
}

std::size_t PresenceState::index_of(const std::string& user_id) const {
  return lower_index(members_, [&user_id](const PresenceMember& m) { return m.user_id < user_id; });
}

const PresenceMember* PresenceState::find(const std::string& user_id) const {
  const std::size_t i = index_of(user_id);
  return i < members_.size() && members_[i].user_id == user_id ? &members_[i] : nullptr;
}

protocol::JsonValue PresenceState::members() const {
  std::vector<const PresenceMember*> sorted;
  sorted.reserve(members_.size());
  for (const auto& m : members_) sorted.push_back(&m);
  // (joinedAt, userId) is a total order (ids are unique), so an unstable sort gives the one stable order.
  // A heap sort: O(n log n) in little code.
  const auto before = [](const PresenceMember* a, const PresenceMember* b) {
    return a->joined_at < b->joined_at || (!(b->joined_at < a->joined_at) && a->user_id < b->user_id);
  };
  std::make_heap(sorted.begin(), sorted.end(), before);
  std::sort_heap(sorted.begin(), sorted.end(), before);
  protocol::JsonValue out = protocol::JsonValue::array();
  for (const PresenceMember* m : sorted) {
    // Keys in alphabetical order, as the nlohmann objects this replaced wrote them.
    protocol::JsonValue member = protocol::JsonValue::object();
    member.set("connections", protocol::JsonValue::integer(m->connections));
    member.set("info", m->info);
    member.set("joinedAt", protocol::JsonValue::number(m->joined_at));
    member.set("status", protocol::JsonValue::string(m->status));
    member.set("userId", protocol::JsonValue::string(m->user_id));
    out.push_back(std::move(member));
  }
  return out;
}

}  // namespace tidewire::client
