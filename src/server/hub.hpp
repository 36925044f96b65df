// Channels and their subscribers: pub/sub with no sockets in it (docs/PROTOCOL.md section 3).
//
// A subscriber is anything that can take an encoded frame. The hub keeps weak references, so a connection
// that dies without unsubscribing is skipped (and a connection still removes itself on close). Each channel
// counts offsets from 1. A broadcast is encoded once and the same bytes are handed to every subscriber.
//
// Locking: one mutex guards the channel map (short critical sections). Each channel has its own mutex, held
// while an offset is assigned and the message handed to the subscribers, so every subscriber sees a channel's
// messages in offset order even with several I/O threads. Subscriber::deliver() must therefore be quick and
// must never call back into the hub (the sessions only append to their queue).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace tidewire::server {

using SharedFrame = std::shared_ptr<const std::string>;

class Subscriber {
 public:
  virtual ~Subscriber() = default;
  // Called with the channel's lock held: append to a queue and return. Never re-enter the hub.
  virtual void deliver(const SharedFrame& message) = 0;
};

struct PublishRequest {
  std::string_view channel;
  std::string_view event;
  std::string_view from;          // the sender's user id
  std::string_view payload_json;  // valid JSON text
  std::uint64_t ts_ms = 0;
};

class Hub {
 public:
  // Adds `subscriber` to `channel` (created on first use). Returns false when it was already there.
  bool subscribe(std::string_view channel, const std::shared_ptr<Subscriber>& subscriber);
  // Returns false when it was not subscribed. An empty channel is dropped (its offsets start again at 1).
  bool unsubscribe(std::string_view channel, const Subscriber* subscriber);

  // Assigns the next offset, encodes the broadcast once and hands it to every live subscriber. `before_fanout`
  // (optional) runs with the offset before any subscriber gets the message, so a sender's ack precedes its
  // own copy. Returns the offset, or 0 when the channel does not exist.
  std::uint64_t publish(const PublishRequest& request,
                        const std::function<void(std::uint64_t offset)>& before_fanout = nullptr);

  std::size_t channel_count() const;
  std::size_t subscriber_count(std::string_view channel) const;

 private:
  struct Channel {
    std::mutex mutex;
    std::uint64_t last_offset = 0;
    std::map<const Subscriber*, std::weak_ptr<Subscriber>> subscribers;
  };

  std::shared_ptr<Channel> find(std::string_view channel) const;

  mutable std::mutex mutex_;
  // std::less<> lets string_view look-ups avoid building a std::string.
  std::map<std::string, std::shared_ptr<Channel>, std::less<>> channels_;
};

}  // namespace tidewire::server
