#include "server/presence_registry.hpp"

#include "protocol/wire.hpp"

namespace tidewire::server {

using nlohmann::json;

json PresenceMember::to_json() const {
  return json{{"userId", user_id},
              {"status", status},
              {"info", info},
              {"joinedAt", joined_at},
              {"connections", connections.size()}};
}

json PresenceDiff::to_message() const {
  json leave_list = json::array();
  for (const std::string& user : leaves) leave_list.push_back(json{{"userId", user}});
  return json{{"type", wire::type::kPresenceDiff},
              {"channel", channel},
              {"joins", joins},
              {"leaves", std::move(leave_list)},
              {"updates", updates}};
}

PresenceMember* PresenceRegistry::find_member_of(std::string_view channel, std::string_view connection) {
  const auto conn = joined_.find(connection);
  if (conn == joined_.end()) return nullptr;
  const auto user = conn->second.find(channel);
  if (user == conn->second.end()) return nullptr;
  const auto ch = channels_.find(channel);
  if (ch == channels_.end()) return nullptr;
  const auto member = ch->second.find(user->second);
  return member == ch->second.end() ? nullptr : &member->second;
}

PresenceDiff PresenceRegistry::join(std::string_view channel, std::string_view user, std::string_view connection,
                                    const std::string* status, const json* info, std::uint64_t now) {
  PresenceDiff diff;
  diff.channel = std::string(channel);

  // The same connection joining under another user cannot happen (one user per connection), but a connection
  // that joined before is simply an update of its member.
  if (has_joined(channel, connection)) {
    update(channel, connection, status, info, diff);
    return diff;
  }

  Members& members = channels_[std::string(channel)];
  auto it = members.find(user);
  if (it == members.end()) {
    PresenceMember m;
    m.user_id = std::string(user);
    if (status) m.status = *status;
    if (info) m.info = *info;
    m.joined_at = now;
    m.connections.insert(std::string(connection));
    diff.joins.push_back(m.to_json());
    members.emplace(m.user_id, std::move(m));
  } else {
    PresenceMember& m = it->second;
    if (m.leave_at != 0) {  // back inside the grace: cancel the pending leave, no flicker
      pending_.erase({m.leave_at, std::string(channel), m.user_id});
      m.leave_at = 0;
    }
    m.connections.insert(std::string(connection));
    bool changed = false;
    if (status && *status != m.status) m.status = *status, changed = true;
    if (info && *info != m.info) m.info = *info, changed = true;
    if (changed) diff.updates.push_back(m.to_json());
  }
  joined_[std::string(connection)][std::string(channel)] = std::string(user);
  return diff;
}

bool PresenceRegistry::update(std::string_view channel, std::string_view connection, const std::string* status,
                              const json* info, PresenceDiff& diff) {
  diff.channel = std::string(channel);
  PresenceMember* m = find_member_of(channel, connection);
  if (!m) return false;
  bool changed = false;
  if (status && *status != m->status) m->status = *status, changed = true;
  if (info && *info != m->info) m->info = *info, changed = true;
  if (changed) diff.updates.push_back(m->to_json());
  return true;
}

PresenceDiff PresenceRegistry::leave(std::string_view channel, std::string_view connection, std::uint64_t now) {
  PresenceDiff diff;
  diff.channel = std::string(channel);
  PresenceMember* m = find_member_of(channel, connection);
  if (!m) return diff;

  const auto conn = joined_.find(connection);
  conn->second.erase(conn->second.find(channel));
  if (conn->second.empty()) joined_.erase(conn);

  m->connections.erase(m->connections.find(connection));
  if (!m->connections.empty()) return diff;  // the user is still here through another connection
  if (grace_ms_ == 0) {
    diff.leaves.push_back(m->user_id);
    auto ch = channels_.find(channel);
    ch->second.erase(m->user_id);
    if (ch->second.empty()) channels_.erase(ch);
    return diff;
  }
  m->leave_at = now + grace_ms_;
  pending_.emplace(m->leave_at, std::string(channel), m->user_id);
  return diff;
}

std::vector<PresenceDiff> PresenceRegistry::leave_all(std::string_view connection, std::uint64_t now) {
  std::vector<PresenceDiff> diffs;
  const auto conn = joined_.find(connection);
  if (conn == joined_.end()) return diffs;
  std::vector<std::string> channels;
  for (const auto& [channel, user] : conn->second) channels.push_back(channel);
  for (const std::string& channel : channels) {
    PresenceDiff d = leave(channel, connection, now);
    if (!d.empty()) diffs.push_back(std::move(d));
  }
  return diffs;
}

std::vector<PresenceDiff> PresenceRegistry::expire(std::uint64_t now) {
  std::map<std::string, PresenceDiff> by_channel;
  while (!pending_.empty() && std::get<0>(*pending_.begin()) <= now) {
    const auto [deadline, channel, user] = *pending_.begin();
    pending_.erase(pending_.begin());
    auto ch = channels_.find(channel);
    if (ch == channels_.end()) continue;
    auto m = ch->second.find(user);
    if (m == ch->second.end() || m->second.leave_at != deadline || !m->second.connections.empty()) continue;
    ch->second.erase(m);
    if (ch->second.empty()) channels_.erase(ch);
    PresenceDiff& d = by_channel[channel];
    d.channel = channel;
    d.leaves.push_back(user);
  }
  std::vector<PresenceDiff> diffs;
  for (auto& [channel, diff] : by_channel) diffs.push_back(std::move(diff));
  return diffs;
}

std::uint64_t PresenceRegistry::next_deadline() const {
  return pending_.empty() ? 0 : std::get<0>(*pending_.begin());
}

json PresenceRegistry::members(std::string_view channel) const {
  json out = json::array();
  const auto ch = channels_.find(channel);
  if (ch == channels_.end()) return out;
  for (const auto& [user, member] : ch->second) out.push_back(member.to_json());
  return out;
}

bool PresenceRegistry::has_joined(std::string_view channel, std::string_view connection) const {
  const auto conn = joined_.find(connection);
  return conn != joined_.end() && conn->second.find(channel) != conn->second.end();
}

std::string PresenceRegistry::user_of(std::string_view channel, std::string_view connection) const {
  const auto conn = joined_.find(connection);
  if (conn == joined_.end()) return {};
  const auto user = conn->second.find(channel);
  return user == conn->second.end() ? std::string() : user->second;
}

std::size_t PresenceRegistry::connection_count(std::string_view channel, std::string_view user) const {
  const auto ch = channels_.find(channel);
  if (ch == channels_.end()) return 0;
  const auto m = ch->second.find(user);
  return m == ch->second.end() ? 0 : m->second.connections.size();
}

std::vector<std::string> PresenceRegistry::channels_of(std::string_view connection) const {
  std::vector<std::string> out;
  const auto conn = joined_.find(connection);
  if (conn != joined_.end())
    for (const auto& [channel, user] : conn->second) out.push_back(channel);
  return out;
}

std::vector<std::string> PresenceRegistry::channels() const {
  std::vector<std::string> out;
  for (const auto& [channel, members] : channels_) out.push_back(channel);
  return out;
}

}  // namespace tidewire::server
