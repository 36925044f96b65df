// Who is present on which channel (docs/PROTOCOL.md section 10), as plain data: no I/O, time passed in.
//
// Members are keyed by user id; each member counts the connections that joined for it. When the last one leaves
// the member is not removed at once but after `grace_ms`: a rejoin inside the grace cancels the leave, so a quick
// reconnect shows neither a leave nor a join. Operations return the diff to broadcast (possibly empty).
// It is the memory PresenceStore (presence_store.hpp), and RedisPresenceStore's record of its own node's
// connections.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

#include "server/presence_store.hpp"

namespace tidewire::server {

struct PresenceMember {
  std::string user_id;
  std::string status = "online";   // online, away or busy
  nlohmann::json info = nlohmann::json::object();
  std::uint64_t joined_at = 0;      // ms since the epoch
  std::set<std::string, std::less<>> connections;
  std::uint64_t leave_at = 0;       // the pending leave's deadline while connections is empty, else 0

  // {userId, status, info, joinedAt, connections}
  nlohmann::json to_json() const;
};

struct PresenceDiff {
  std::string channel;
  std::vector<nlohmann::json> joins;    // members
  std::vector<std::string> leaves;      // user ids
  std::vector<nlohmann::json> updates;  // members
  bool empty() const { return joins.empty() && leaves.empty() && updates.empty(); }
  // The presence_diff message (always with all three arrays).
  nlohmann::json to_message() const;
};

class PresenceRegistry final : public PresenceStore {
 public:
  explicit PresenceRegistry(std::uint64_t grace_ms) : grace_ms_(grace_ms) {}

  // Joins `connection` for `user` (again: then it is an update). `status`/`info` null: keep the member's (or the
  // defaults for a new member). A change of status or info is an update; a new member is a join; a rejoin
  // inside the grace, or another connection of a present member, changes nothing visible.
  PresenceDiff join(std::string_view channel, std::string_view user, std::string_view connection,
                    const std::string* status, const nlohmann::json* info, std::uint64_t now) override;
  // Changes a joined connection's member. False when `connection` has not joined `channel`.
  bool update(std::string_view channel, std::string_view connection, const std::string* status,
              const nlohmann::json* info, PresenceDiff& diff) override;
  // `connection` leaves `channel` (no-op when it had not joined). The member's last connection schedules the
  // leave at now + grace (or leaves at once when the grace is 0: then the diff holds the leave).
  PresenceDiff leave(std::string_view channel, std::string_view connection, std::uint64_t now) override;
  // leave() on every channel `connection` joined.
  std::vector<PresenceDiff> leave_all(std::string_view connection, std::uint64_t now) override;

  // Removes every member whose grace ended by `now`; one diff per channel touched.
  std::vector<PresenceDiff> expire(std::uint64_t now) override;
  std::uint64_t next_deadline() const override;  // 0: none pending

  // The channel's members (an array, ordered by user id), including those inside their grace.
  nlohmann::json members(std::string_view channel) const override;
  bool has_joined(std::string_view channel, std::string_view connection) const override;
  // The user `connection` joined `channel` as ("" when it has not).
  std::string user_of(std::string_view channel, std::string_view connection) const;
  // The connections `user` has joined `channel` with (0 inside the grace, or when not a member).
  std::size_t connection_count(std::string_view channel, std::string_view user) const;
  std::vector<std::string> channels_of(std::string_view connection) const;  // the channels it joined
  std::vector<std::string> channels() const;                               // with members (grace included)
  std::size_t channel_count() const { return channels_.size(); }

 private:
  using Members = std::map<std::string, PresenceMember, std::less<>>;
  PresenceMember* find_member_of(std::string_view channel, std::string_view connection);

  std::uint64_t grace_ms_;
  std::map<std::string, Members, std::less<>> channels_;
  // connection -> (channel -> user): what leave_all and update need to find.
  std::map<std::string, std::map<std::string, std::string, std::less<>>, std::less<>> joined_;
  std::set<std::tuple<std::uint64_t, std::string, std::string>> pending_;  // (deadline, channel, user)
};

}  // namespace tidewire::server
