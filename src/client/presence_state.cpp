#include "client/presence_state.hpp"

#include <algorithm>

namespace tidewire::client {

namespace {
constexpr std::size_t kMaxPendingDiffs = 1000;

bool valid_status(const std::string& s) { return s == "online" || s == "away" || s == "busy"; }
}  // namespace

bool PresenceState::upsert(const nlohmann::json& m) {
  if (!m.is_object()) return false;
  auto uid = m.find("userId");
  if (uid == m.end() || !uid->is_string() || uid->get_ref<const std::string&>().empty()) return false;
  PresenceMember member;
  member.user_id = uid->get<std::string>();
  auto st = m.find("status");
  member.status = st != m.end() && st->is_string() && valid_status(st->get<std::string>()) ? st->get<std::string>()
                                                                                            : "online";
  auto info = m.find("info");
  if (info != m.end() && info->is_object()) member.info = *info;
  auto joined = m.find("joinedAt");
  if (joined != m.end() && joined->is_number()) member.joined_at = joined->get<double>();
  auto conns = m.find("connections");
  if (conns != m.end() && conns->is_number_integer()) member.connections = std::max(1, conns->get<int>());
  // An update may carry only what changed: keep the rest.
  auto existing = members_.find(member.user_id);
  if (existing != members_.end()) {
    if (member.joined_at == 0) member.joined_at = existing->second.joined_at;
    if (info == m.end()) member.info = existing->second.info;
    if (conns == m.end()) member.connections = existing->second.connections;
  }
  members_[member.user_id] = std::move(member);
  return true;
}

bool PresenceState::apply_state(const nlohmann::json& members) {
  if (!members.is_array()) return false;
  members_.clear();
  for (const auto& m : members) upsert(m);
  has_state_ = true;
  std::vector<nlohmann::json> pending;
  pending.swap(pending_diffs_);
  for (const auto& d : pending) apply_diff_now(d);
  return true;
}

bool PresenceState::apply_diff(const nlohmann::json& diff) {
  if (!diff.is_object()) return false;
  if (!has_state_) {
    if (pending_diffs_.size() < kMaxPendingDiffs) pending_diffs_.push_back(diff);
    return true;
  }
  return apply_diff_now(diff);
}

bool PresenceState::apply_diff_now(const nlohmann::json& diff) {
  for (const char* key : {"joins", "updates"}) {
    auto it = diff.find(key);
    if (it != diff.end() && it->is_array()) {
      for (const auto& m : *it) upsert(m);
    }
  }
  auto leaves = diff.find("leaves");
  if (leaves != diff.end() && leaves->is_array()) {
    for (const auto& l : *leaves) {
      if (l.is_object() && l.contains("userId") && l["userId"].is_string()) {
        members_.erase(l["userId"].get<std::string>());
      } else if (l.is_string()) {
        members_.erase(l.get<std::string>());
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

const PresenceMember* PresenceState::find(const std::string& user_id) const {
  auto it = members_.find(user_id);
  return it == members_.end() ? nullptr : &it->second;
}

nlohmann::json PresenceState::members() const {
  std::vector<const PresenceMember*> sorted;
  sorted.reserve(members_.size());
  for (const auto& kv : members_) sorted.push_back(&kv.second);
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const PresenceMember* a, const PresenceMember* b) { return a->joined_at < b->joined_at; });
  nlohmann::json out = nlohmann::json::array();
  for (const PresenceMember* m : sorted) {
    out.push_back({{"userId", m->user_id},
                   {"status", m->status},
                   {"info", m->info},
                   {"joinedAt", m->joined_at},
                   {"connections", m->connections}});
  }
  return out;
}

}  // namespace tidewire::client
