// Sends made while not connected wait here, in order, bounded by count and bytes. A full outbox refuses the
// new send (never drops silently).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>

namespace tidewire::client {

struct OutboxItem {
  std::uint32_t ref = 0;  // the publish's ref (its ack is reported under it)
  std::string frame;      // the encoded message
  std::string channel;
  std::string event;
  bool binary = false;    // send as a binary frame
  bool request = false;   // an RPC (answered by `reply`), not a publish (answered by `ack`)
  double queued_at_ms = 0;
  double expires_at_ms = 0;  // monotonic; infinity = no TTL
  double sent_at_ms = 0;     // monotonic, while in flight
};

class Outbox {
 public:
  Outbox(std::size_t max_messages, std::size_t max_bytes) : max_messages_(max_messages), max_bytes_(max_bytes) {}

  bool can_accept(std::size_t frame_bytes) const {
    return items_.size() < max_messages_ && bytes_ + frame_bytes <= max_bytes_;
  }
  // Caller checks can_accept() first.
  void push_back(OutboxItem item) {
    bytes_ += item.frame.size();
    items_.push_back(std::move(item));
  }
  // Used to put unacknowledged in-flight messages back ahead of newer ones after a reconnect. Not bounded:
  // they were accepted before.
  void push_front(OutboxItem item) {
    bytes_ += item.frame.size();
    items_.push_front(std::move(item));
  }
  OutboxItem pop_front() {
    OutboxItem item = std::move(items_.front());
    items_.pop_front();
    bytes_ -= item.frame.size();
    return item;
  }
  // Removes the items for which `pred` holds, in order, handing each to `removed`.
  template <typename Pred, typename Fn>
  void remove_if(Pred pred, Fn removed) {
    for (auto it = items_.begin(); it != items_.end();) {
      if (pred(*it)) {
        bytes_ -= it->frame.size();
        OutboxItem item = std::move(*it);
        it = items_.erase(it);
        removed(item);
      } else {
        ++it;
      }
    }
  }
  template <typename Fn>
  void for_each(Fn fn) const {
    for (const auto& item : items_) fn(item);
  }
  bool empty() const { return items_.empty(); }
  std::size_t size() const { return items_.size(); }
  std::size_t bytes() const { return bytes_; }

 private:
  std::deque<OutboxItem> items_;
  std::size_t bytes_ = 0;
  std::size_t max_messages_;
  std::size_t max_bytes_;
};

}  // namespace tidewire::client
