// Channels and their subscribers: pub/sub with no sockets in it (docs/PROTOCOL.md sections 3 and 9).
//
// A subscriber is anything that can take an encoded frame. The hub keeps weak references, so a connection
// that dies without unsubscribing is skipped (and a connection still removes itself on close). A broadcast is
// encoded once and the same bytes are handed to every subscriber.
//
// Streams: every channel has an epoch (random, new whenever the stream's history is lost) and counts offsets
// from 1 within it. It keeps a bounded history (count and age) used for recovery (`since`) and for idempotent
// publishing (a client message id still in the history is not broadcast again). A channel outlives its last
// subscriber while it has history: offsets and epoch stay until the history expires (sweep()). With a
// HistoryStore, streams are written through and read back when a channel is first used after a restart.
//
// Filtering (db: channels only, the database change feed): a subscriber may carry a ChangeFilter. The change is
// parsed once per publication (HistoryEntry::row) and each filtered subscriber gets the shared frame only when its
// filter accepts the row; unfiltered subscribers and every other channel keep the plain encode-once fan-out.
//
// Locking: one mutex guards the channel map (short critical sections). Each channel has its own mutex, held
// while an offset is assigned and the message handed to the subscribers, so every subscriber sees a channel's
// messages in offset order even with several I/O threads. Subscriber::deliver() must therefore be quick and
// must never call back into the hub (the sessions only append to their queue).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "server/changefeed_filter.hpp"
#include "server/history.hpp"
#include "server/history_store.hpp"

namespace tidewire::server {

using SharedFrame = std::shared_ptr<const std::string>;

class Subscriber {
 public:
  virtual ~Subscriber() = default;
  // Called with the channel's lock held: append to a queue and return. Never re-enter the hub. A frame whose
  // first byte is 0x01 is a binary broadcast (section 13); every other frame is one JSON message.
  virtual void deliver(const SharedFrame& message) = 0;

  // Channels whose subscription Hub::revoke() ended, possibly from another connection's thread. The owner takes
  // them on its own thread (take_revoked) to bring its own bookkeeping in line. Thread-safe.
  void note_revoked(std::string_view channel) {
    std::lock_guard<std::mutex> lock(revoked_mutex_);
    revoked_.emplace_back(channel);
    has_revoked_.store(true, std::memory_order_release);
  }
  bool has_revoked() const { return has_revoked_.load(std::memory_order_acquire); }
  std::vector<std::string> take_revoked() {
    std::lock_guard<std::mutex> lock(revoked_mutex_);
    has_revoked_.store(false, std::memory_order_release);
    return std::exchange(revoked_, {});
  }

 private:
  std::mutex revoked_mutex_;
  std::vector<std::string> revoked_;
  std::atomic<bool> has_revoked_{false};
};

struct PublishRequest {
  std::string_view channel;
  std::string_view event;
  std::string_view from;          // the sender's user id
  std::string_view payload_json;  // valid JSON text (raw bytes when `binary`)
  std::uint64_t ts_ms = 0;
  std::string_view client_id;     // the client message id: dedupes within the history ("" = none)
  bool binary = false;            // encode as a binary broadcast frame (section 13)
  bool create = false;            // publish even when the channel does not exist yet (server-side events)
};

struct PublishResult {
  std::uint64_t offset = 0;  // 0: the channel does not exist (or the frame could not be encoded)
  bool duplicate = false;    // the client id was in the history: nothing was broadcast, offset is the original
};

struct SubscribeRequest {
  std::string_view channel;
  std::string_view user;          // the subscriber's user id: revoke() can end one user's subscriptions
  std::uint64_t now_ms = 0;
  bool has_since = false;
  std::uint64_t since_offset = 0;
  std::string_view since_epoch;
  // db: channels (the change feed): what this subscriber may and wants to see; null = everything. Live
  // messages and the recovery replay both go through it; the subscriber's offsets then skip the others.
  std::shared_ptr<const ChangeFilter> filter;
};

struct SubscribeResult {
  bool added = false;          // false: the subscriber was already there (no recovery then)
  std::uint64_t offset = 0;    // the channel's latest offset
  std::string epoch;
  bool recovered = false;      // with since: every missed publication follows
  std::string_view reason;     // with since and not recovered: wire::recovery::*
};

struct HubOptions {
  HistoryLimits history;
  HistoryStore* store = nullptr;  // not owned; may be null (memory only)
};

class Hub {
 public:
  Hub() = default;
  explicit Hub(HubOptions options) : options_(options) {}

  // Adds `subscriber` to `channel` (created on first use). Returns false when it was already there.
  bool subscribe(std::string_view channel, const std::shared_ptr<Subscriber>& subscriber);
  // The same with recovery: `on_join` runs with the channel's lock held, before any live message can reach
  // the subscriber, with the result and the missed frames (when recovered). The caller sends `subscribed`
  // and then the replayed frames from there, so nothing is lost or doubled between replay and live traffic.
  SubscribeResult subscribe(const SubscribeRequest& request, const std::shared_ptr<Subscriber>& subscriber,
                            const std::function<void(const SubscribeResult&, const std::vector<SharedFrame>&)>& on_join);
  // Returns false when it was not subscribed. A channel with neither subscribers nor history is dropped.
  bool unsubscribe(std::string_view channel, const Subscriber* subscriber);
  bool is_subscribed(std::string_view channel, const Subscriber* subscriber) const;
  // Ends the subscriptions to `channel` of `user` (every subscriber when `user` is empty), under the channel's
  // lock so no later publication reaches them: each is removed, told through Subscriber::note_revoked(), and
  // handed `notice` (the server's `unsubscribed` push). Returns how many subscriptions ended.
  std::size_t revoke(std::string_view channel, std::string_view user, const SharedFrame& notice);

  // Assigns the next offset, records the message in the history, encodes it once and hands it to every live
  // subscriber. `before_fanout` (optional) runs with the offset before any subscriber gets the message, so a
  // sender's ack precedes its own copy. Returns the offset, or 0 when the channel does not exist.
  std::uint64_t publish(const PublishRequest& request,
                        const std::function<void(std::uint64_t offset)>& before_fanout = nullptr);
  // The same, with idempotence: a request whose (from, client_id) is still in the history calls
  // `before_fanout(original offset, true)` and broadcasts nothing.
  PublishResult publish_once(const PublishRequest& request,
                             const std::function<void(std::uint64_t offset, bool duplicate)>& before_fanout);

  // Hands `message` to every current subscriber of `channel`, outside offsets and history (presence_diff).
  // Returns the number of subscribers reached.
  std::size_t send_raw(std::string_view channel, const SharedFrame& message);

  // Prunes every channel's history by age and drops channels with neither subscribers nor history.
  void sweep(std::uint64_t now_ms);

  // A broker that orders publications elsewhere (Redis, broker_redis.hpp) keeps the hub's channel a copy of its
  // stream. apply_remote() takes one publication in `epoch`: the next offset is recorded and fanned out
  // (kApplied); an offset already seen is ignored (kSeen); a jump, a new epoch not starting at 1, or a channel
  // the hub does not have is kGap (the broker re-reads the stream). reset_remote() makes `epoch` current with
  // `last_offset` when the hub has another epoch (or none) or is behind `last_offset` (what it missed is no
  // longer in the stream), dropping the history; the subscribers stay.
  enum class RemoteApply { kApplied, kSeen, kGap };
  RemoteApply apply_remote(std::string_view channel, std::string_view epoch, HistoryEntry entry);
  void reset_remote(std::string_view channel, std::string_view epoch, std::uint64_t last_offset);
  // The channel's epoch ("" when the hub does not have it) and last offset.
  std::pair<std::string, std::uint64_t> position(std::string_view channel) const;
  // Drops the channel when it has no subscribers; true when it is gone (or was never there).
  bool drop_if_idle(std::string_view channel);

  std::size_t channel_count() const;
  std::size_t subscriber_count(std::string_view channel) const;
  // The channel's epoch ("" when it does not exist).
  std::string epoch(std::string_view channel) const;

 private:
  struct Channel {
    std::mutex mutex;
    std::string name;
    std::string epoch;
    std::uint64_t last_offset = 0;
    ChannelHistory history;
    struct Entry {
      std::weak_ptr<Subscriber> ref;
      std::string user;
      std::shared_ptr<const ChangeFilter> filter;  // db: channels; null = everything
    };
    std::map<const Subscriber*, Entry> subscribers;
  };

  std::shared_ptr<Channel> find(std::string_view channel) const;
  // With the map lock held: the channel, created (and loaded from the store) when missing.
  std::shared_ptr<Channel> get_or_create(std::string_view channel);
  void prune(Channel& channel, std::uint64_t now_ms);
  // Hands `frame` to every live subscriber of `channel` and drops those whose owner died without unsubscribing.
  // The caller holds the channel's lock.
  static void fan_out(Channel& channel, const SharedFrame& frame, const ChangeRow* row);

  HubOptions options_;
  mutable std::mutex mutex_;
  // std::less<> lets string_view look-ups avoid building a std::string.
  std::map<std::string, std::shared_ptr<Channel>, std::less<>> channels_;
};

// Encodes the broadcast frame of `entry` in `epoch` (JSON, or binary when entry.binary). Null when a binary
// field is too long for its str8.
SharedFrame encode_history_entry(std::string_view channel, std::string_view epoch, const HistoryEntry& entry);

}  // namespace tidewire::server
