#include "state/presence_state.hpp"

#include <algorithm>
#include <cstdint>

#include "state/json_fields.hpp"
#include "state/sorted_vector.hpp"

namespace tidewire::state {

namespace {
// Diffs kept to apply again on top of a full state (apply_state). A full state that is older than this many
// later diffs would have to wait behind them on one socket: not something a live channel does.
constexpr std::size_t kMaxRecentDiffs = 256;

bool valid_status(const std::string& s) { return s == "online" || s == "away" || s == "busy"; }
}  // namespace

bool PresenceState::upsert(const Json& m) {
  PresenceMember member;
  if (!string_field(m, "userId", member.user_id)) return false;
  const std::string status = string_or(m, "status", "");
  member.status = valid_status(status) ? status : "online";
  const Json* info = field(m, "info");
  if (info != nullptr && info->is_object()) member.info = *info;
  member.joined_at = number_or(m, "joinedAt", 0);
  const Json* conns = field(m, "connections");
  if (conns != nullptr && conns->is_number_integer()) {
    member.connections = static_cast<int>(std::clamp<std::int64_t>(int_of(conns), 1, 1 << 30));
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

bool PresenceState::apply_state(const Json& members) {
  if (!members.is_array()) return false;
  members_.clear();
  for (const auto& m : members) upsert(m);
  has_state_ = true;
  // The diffs received since the subscribe, again, in order: a full state may have been read before a diff that
  // reached this client first (the server reads a reply's members on one thread while another connection's diff
  // is queued from another). Each member ends as its last diff left it, and one no diff touched as the state has
  // it, which is the current state whatever the order was.
  for (const auto& d : recent_diffs_) apply_diff_now(d);
  return true;
}

bool PresenceState::apply_diff(const Json& diff) {
  if (!diff.is_object()) return false;
  if (recent_diffs_.size() == kMaxRecentDiffs) recent_diffs_.erase(recent_diffs_.begin());
  recent_diffs_.push_back(diff);
  return has_state_ ? apply_diff_now(diff) : true;  // before the first state: applied with it
}

bool PresenceState::apply_message(const Json& message) {
  if (string_or(message, "type", "") != "presence_state") return apply_diff(message);
  const Json* members = field(message, "members");
  return members != nullptr && apply_state(*members);
}

bool PresenceState::apply_diff_now(const Json& diff) {
  for (const char* key : {"joins", "updates"}) {
    for (const auto& m : elements(field(diff, key))) upsert(m);
  }
  for (const auto& l : elements(field(diff, "leaves"))) {
    const Json* uid = l.is_string() ? &l : field(l, "userId");
    if (uid == nullptr || !uid->is_string()) continue;
    const std::string& user = uid->get_ref<const std::string&>();
    const std::size_t i = index_of(user);
    if (i < members_.size() && members_[i].user_id == user) {
      members_.erase(members_.begin() + static_cast<std::ptrdiff_t>(i));
    }
  }
  return true;
}

void PresenceState::resubscribed() {
  recent_diffs_.clear();
  has_state_ = false;
}

void PresenceState::clear() {
  members_.clear();
  recent_diffs_.clear();
  has_state_ = false;
}

std::size_t PresenceState::index_of(const std::string& user_id) const {
  return lower_index(members_, [&user_id](const PresenceMember& m) { return m.user_id < user_id; });
}

const PresenceMember* PresenceState::find(const std::string& user_id) const {
  const std::size_t i = index_of(user_id);
  return i < members_.size() && members_[i].user_id == user_id ? &members_[i] : nullptr;
}

Json PresenceState::members() const {
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
  Json out = Json::array();
  for (const PresenceMember* m : sorted) {
    Json member = Json::object();  // nlohmann keeps object keys sorted: the output order is alphabetical
    member["connections"] = m->connections;
    member["info"] = m->info;
    member["joinedAt"] = number(m->joined_at);
    member["status"] = m->status;
    member["userId"] = m->user_id;
    out.push_back(std::move(member));
  }
  return out;
}

}  // namespace tidewire::state
