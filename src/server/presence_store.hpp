// The PresenceStore: who is present on which channel (docs/PROTOCOL.md section 10), behind Services (issue #15).
//
//   memory (PresenceRegistry, the default): one node's members, in process; each operation returns the
//          presence_diff the caller broadcasts to the channel's local subscribers.
//   redis  (RedisPresenceStore, with --broker redis://…): ONE view across nodes. Each operation returns an
//          empty diff: Redis decides the diff atomically (one Lua script) and PUBLISHes it on the channel's
//          PUB/SUB channel, so every node with subscribers of the channel fans it out, this one included
//          (design in presence_store_redis.hpp).
//
// Semantics, both: members are keyed by user id; a user counts every connection that joined (on any node); when
// the last one leaves, the member stays listed for the grace period and leaves after it, unless a connection
// rejoins in time (no leave, no join). Called under Services' mutex: an implementation must not call back into
// Services.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace tidewire::server {

struct PresenceDiff;

class PresenceStore {
 public:
  virtual ~PresenceStore() = default;
  // `connection` (of `user`) joins `channel`; status/info null: keep the member's (defaults for a new one).
  virtual PresenceDiff join(std::string_view channel, std::string_view user, std::string_view connection,
                            const std::string* status, const nlohmann::json* info, std::uint64_t now) = 0;
  // Changes a joined connection's member. False when `connection` has not joined `channel`.
  virtual bool update(std::string_view channel, std::string_view connection, const std::string* status,
                      const nlohmann::json* info, PresenceDiff& diff) = 0;
  // `connection` leaves `channel` (no-op when it had not joined); the member's last one starts the grace.
  virtual PresenceDiff leave(std::string_view channel, std::string_view connection, std::uint64_t now) = 0;
  virtual std::vector<PresenceDiff> leave_all(std::string_view connection, std::uint64_t now) = 0;
  // Removes every member whose grace ended by `now`.
  virtual std::vector<PresenceDiff> expire(std::uint64_t now) = 0;
  virtual std::uint64_t next_deadline() const = 0;  // 0: none pending
  // The channel's members (an array ordered by user id), including those inside their grace.
  virtual nlohmann::json members(std::string_view channel) const = 0;
  // members(), handed to `done` when read: at once in memory; from Redis, later on the store's thread, without
  // blocking the caller (`done` must be safe to call from there).
  virtual void members_async(std::string_view channel, std::function<void(nlohmann::json)> done) const {
    done(members(channel));
  }
  virtual bool has_joined(std::string_view channel, std::string_view connection) const = 0;
  // members() for a new subscriber's presence_state (every subscribe asks), handed to `done` as members_async()
  // does. Redis: from the node's copy of the channel's members, kept current by the diffs it receives, so a
  // subscribe costs no extra round trip (at once, on the caller's thread) once the copy was read.
  virtual void subscriber_state(std::string_view channel, std::function<void(nlohmann::json)> done) const {
    done(members(channel));
  }
};

}  // namespace tidewire::server
