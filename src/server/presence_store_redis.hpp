// --broker redis://…: presence and the per-user connection cap shared by every node (issue #15; README "Running
// several nodes"). One io_context thread of its own runs one hiredis connection (redis_connection.hpp).
//
// Presence, keys hash-tagged by channel like the broker's:
//   tw:{C}:p    hash: user id -> {"s": status, "i": info (JSON text), "j": joinedAt, "n": {node tag: connections}}
//   tw:{C}:pz   sorted set of expiries: node tag -> when its entries of C die (last refresh + TTL + grace)
// One Lua script per change (join / update / count, leave, refresh + purge, resync, read + purge) decides the diff
// atomically and PUBLISHes it on the channel's PUB/SUB channel tw:{C} as "p|" + len:bytes pieces (kind: join,
// update, leave, or count, a connection count that changed, which only the nodes' copies take; user, status,
// info, joinedAt, connections). The broker's PUB/SUB connection, subscribed there while the node has
// local subscribers, hands it back (RedisBrokerOptions::on_presence) and the node sends it to them with
// Hub::send_raw, so every node's subscribers get each diff once (this node's included), in the channel's order.
// A user on two nodes is one member (the "n" map counts each node's connections); the join is published when the
// first node adds the user, the leave when the last node removes it.
//
// Grace: this node keeps its own connections in a PresenceRegistry (`local_`): when a user's last connection here
// leaves, the node keeps its entry for the grace and removes it after (PresenceRegistry::expire), so a leave is
// published only after the grace and only if no other node holds the user.
//
// Liveness: a node tag is --node-id plus a random suffix per process (a restarted node never refreshes its
// predecessor's ghosts). Every TTL / 4 the node refreshes: SET tw:node:{tag} PX TTL (the live nodes, for
// operators), ZADD its tag in tw:{C}:pz of every channel where it has members, and its connection entries. Any
// script touching a channel first purges the tags whose expiry passed (TTL + grace after their last refresh):
// their users leave exactly once (atomic), unless another node still holds them. Every node also runs the purge,
// each refresh, on the channels where it has subscribers and has seen presence, so a dead node's users leave
// even where no live node has members. A refresh is one pipelined script per such channel and per user with
// connections here.
//
// Connection cap: tw:u:{user}:c, a sorted set of "<tag>|<connection id>" scored by expiry (now + TTL), refreshed
// by the owning node; the acquire script drops expired entries and refuses at --max-connections-per-user. A dead
// node's connections stop counting after the TTL.
//
// Nothing waits on the caller's thread. Writes (join, update, leave, release, refreshes) are posted in order to
// the store thread. Reads answer from it when Redis does, posted after this node's earlier commands (so a reply
// includes the request's own write), or after kReadTimeout when a connected Redis does not answer:
// - the presence_join / presence_update / presence_get replies (members_async());
// - the connection cap at auth (try_acquire(): the handler holds the connection's messages until it answers);
// - the first presence_state of a channel on a node (subscriber_state(); later ones come at once from the node's
//   copy of the channel's members, Copy below).
// members() still waits (ask()): it is the interface's blocking read, which the server does not call.
// They fail open when Redis is unreachable (members: this node's own; the cap: this node's count), counted in
// tidewire_presence_errors_total. After a reconnection or a failed write, the next refresh makes this node's
// entries exactly its members again (the sync script: missing ones join, stale ones leave).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "server/hub.hpp"
#include "server/metrics.hpp"
#include "server/presence_registry.hpp"
#include "server/presence_store.hpp"
#include "server/redis_connection.hpp"
#include "server/user_connections.hpp"

namespace tidewire::server {

struct RedisPresenceOptions {
  RedisAddress address;
  std::string node_id;
  std::uint64_t node_ttl_ms = 10000;
  std::uint64_t grace_ms = 3000;
  std::uint32_t max_connections_per_user = 5;  // 0: no limit (nothing is recorded)
};

class RedisPresenceStore final : public PresenceStore, public SharedConnectionCap {
 public:
  static constexpr std::chrono::seconds kReadTimeout{2};

  RedisPresenceStore(Hub& hub, RedisPresenceOptions options, Metrics& metrics);
  ~RedisPresenceStore() override;
  RedisPresenceStore(const RedisPresenceStore&) = delete;
  RedisPresenceStore& operator=(const RedisPresenceStore&) = delete;

  // PresenceStore: the diffs returned are empty (they come back through PUB/SUB).
  PresenceDiff join(std::string_view channel, std::string_view user, std::string_view connection,
                    const std::string* status, const nlohmann::json* info, std::uint64_t now) override;
  bool update(std::string_view channel, std::string_view connection, const std::string* status,
              const nlohmann::json* info, PresenceDiff& diff) override;
  PresenceDiff leave(std::string_view channel, std::string_view connection, std::uint64_t now) override;
  std::vector<PresenceDiff> leave_all(std::string_view connection, std::uint64_t now) override;
  std::vector<PresenceDiff> expire(std::uint64_t now) override;
  std::uint64_t next_deadline() const override;
  nlohmann::json members(std::string_view channel) const override;
  // The same read, without waiting: `done` runs on the store's thread (at once with this node's own members
  // when Redis is down, or after a failed read, counted in presence_errors).
  void members_async(std::string_view channel, std::function<void(nlohmann::json)> done) const override;
  bool has_joined(std::string_view channel, std::string_view connection) const override;
  void subscriber_state(std::string_view channel, std::function<void(nlohmann::json)> done) const override;

  // SharedConnectionCap: the acquire script's answer comes from the store's thread (at once when Redis is down:
  // admitted, the node's own count applies; after kReadTimeout when Redis does not answer: the same).
  void try_acquire(std::string_view user, std::string_view connection, std::function<void(bool)> done) override;
  void release(std::string_view user, std::string_view connection) override;

  // A presence message of `channel`'s PUB/SUB channel (what follows "p|"): applied to the node's copy of the
  // channel's members, and returned as the presence_diff message for the channel's subscribers ("" when it is
  // malformed). The channel is watched (purged at each refresh) from then on. Broker thread.
  std::string on_message(const std::string& channel, std::string_view message);
  // The node starts or stops listening to `channel` ("": every channel): its copy may have missed diffs.
  void drop_copy(const std::string& channel);
  // The diff of one presence message, or false when it is malformed. `silent`: a connection count changed only
  // (kind "count": it updates the copies, clients are not sent it, as on one node).
  static bool parse_message(const std::string& channel, std::string_view message, PresenceDiff& diff, bool& silent);
  const std::string& tag() const { return tag_; }

 private:
  // Under mutex_: posts the script that writes `user`'s entry of this node on `channel` (count, status, info).
  void write_member(std::string_view channel, const std::string& user, const std::string* status,
                    const nlohmann::json* info);
  void remove_member(std::string_view channel, const std::string& user);
  void leave_locked(std::string_view channel, std::string_view connection, std::uint64_t now);
  std::optional<nlohmann::json> read_members(std::string_view channel) const;  // one round trip, with purge
  // A read of the members for the channel's copy (generation: the copy it was asked for) made into the copy, or
  // standing alone when the copy was dropped or loaded meanwhile; nullopt: this node's own members.
  nlohmann::json settle_copy(const std::string& channel, std::uint64_t generation,
                             std::optional<nlohmann::json> read) const;
  // A members read as the callers take it: the array (the channel then watched), or nullopt (counted in
  // presence_errors) when Redis did not give one.
  std::optional<nlohmann::json> accept_members(std::string_view channel, std::optional<nlohmann::json> read) const;
  nlohmann::json own_members(std::string_view channel) const;  // this node's, when Redis cannot answer
  // Posts a command to the store thread; its failure counts in presence_errors.
  void send(std::vector<std::string> args);
  // A command whose reply `parse` reads: `done` gets it on the store's thread (nullopt when Redis is down or
  // failed, or did not answer within kReadTimeout; at once, on the caller's thread, when the store is not
  // connected). ask() waits for it.
  template <typename T>
  void ask_async(std::vector<std::string> args, T (*parse)(const redisReply* reply),
                 std::function<void(std::optional<T>)> done) const;
  template <typename T>
  std::optional<T> ask(std::vector<std::string> args, T (*parse)(const redisReply* reply)) const;
  // Store thread.
  void load_scripts() const;
  void on_failure(const redisReply* r) const;  // counts it, reloads the scripts on NOSCRIPT, asks for a resync
  void on_up();
  void schedule_refresh();
  void refresh();

  Hub& hub_;
  RedisPresenceOptions options_;
  Metrics& metrics_;
  std::string tag_;
  std::string expiry_ms_;  // TTL + grace, as the scripts' argument

  mutable std::mutex mutex_;
  PresenceRegistry local_;                                         // this node's connections
  // Channels with subscribers here and presence (a member read or a diff seen): purged at each refresh, so a dead
  // node's users leave even where no live node has members. Channels without presence cost nothing.
  mutable std::set<std::string, std::less<>> watched_;
  std::map<std::string, std::set<std::string>, std::less<>> caps_;  // user -> "<tag>|<connection>" entries
  // Entries whose acquire script has not answered yet (not refreshed); a release() meanwhile removes it here.
  std::map<std::string, std::set<std::string>, std::less<>> pending_caps_;
  // The node's copy of the members of channels with subscribers here (presence_state): read once from Redis, then
  // kept current by the diffs of the channel's PUB/SUB channel (in Redis's order). Diffs arriving while the read
  // is on its way are kept and applied after it (a diff is a set or an erase: applying one twice is harmless).
  // Dropped when the node stops or (re)starts listening, and when the channel has no subscriber here.
  struct Copy {
    std::uint64_t generation = 0;
    bool ready = false;
    std::map<std::string, nlohmann::json, std::less<>> members;
    std::vector<PresenceDiff> pending;
  };
  mutable std::map<std::string, Copy, std::less<>> copies_;
  mutable std::uint64_t generations_ = 0;
  mutable bool resync_ = false;  // make this node's entries its members again at the next refresh (under mutex_)

  mutable boost::asio::io_context ioc_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  mutable RedisConnection redis_;
  boost::asio::steady_timer refresh_timer_;
  std::atomic<bool> up_{false};
  mutable bool reloading_ = false;  // store thread: a script reload is on its way
  std::thread thread_;  // last: started once everything above exists
};

}  // namespace tidewire::server
