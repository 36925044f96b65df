// Sends made while not connected wait here, in order, bounded by count and bytes. A full outbox refuses the
// new send (never drops silently).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

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

// A FIFO of items on one vector (far less wasm code than std::deque). Taking the front only advances `head_`;
// the vacated slots are reclaimed when the queue empties or once they are half the storage, so both ends are
// O(1) amortized. Items are addressed by index from the front; indices stay valid across push_back, so a
// callback may append while the owner walks the queue by index.
class ItemQueue {
 public:
  bool empty() const { return head_ == items_.size(); }
  std::size_t size() const { return items_.size() - head_; }
  OutboxItem& operator[](std::size_t i) { return items_[head_ + i]; }
  const OutboxItem& operator[](std::size_t i) const { return items_[head_ + i]; }
  OutboxItem& front() { return items_[head_]; }
  const OutboxItem& front() const { return items_[head_]; }
  OutboxItem* begin() { return items_.data() + head_; }
  OutboxItem* end() { return items_.data() + items_.size(); }
  const OutboxItem* begin() const { return items_.data() + head_; }
  const OutboxItem* end() const { return items_.data() + items_.size(); }

  void push_back(OutboxItem&& item) { items_.push_back(std::move(item)); }
  void push_front(OutboxItem&& item) {
    if (head_ > 0) {
      items_[--head_] = std::move(item);
      return;
    }
    // Rare (a failed send right after a reclaim): rebuild with the new item first.
    std::vector<OutboxItem> v;
    v.reserve(items_.size() + 1);
    v.push_back(std::move(item));
    for (auto& i : items_) v.push_back(std::move(i));
    items_.swap(v);
  }
  // Removes the i-th item (from the front) and returns it.
  OutboxItem take(std::size_t i) {
    OutboxItem item = std::move(items_[head_ + i]);
    if (i == 0) {
      ++head_;
      if (head_ == items_.size()) {
        items_.clear();
        head_ = 0;
      } else if (head_ >= 16 && 2 * head_ >= items_.size()) {
        items_.erase(items_.begin(), items_.begin() + static_cast<std::ptrdiff_t>(head_));
        head_ = 0;
      }
    } else {
      items_.erase(items_.begin() + static_cast<std::ptrdiff_t>(head_ + i));
    }
    return item;
  }
  OutboxItem take_front() { return take(0); }
  void clear() {
    items_.clear();
    head_ = 0;
  }
  void swap(ItemQueue& other) noexcept {
    items_.swap(other.items_);
    std::swap(head_, other.head_);
  }

 private:
  std::vector<OutboxItem> items_;
  std::size_t head_ = 0;  // items_[0, head_) are moved-from slots
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
  // Puts an item back at the front (a send that failed). Not bounded: it was accepted before.
  void push_front(OutboxItem item) {
    bytes_ += item.frame.size();
    items_.push_front(std::move(item));
  }
  // Moves every item of `front` ahead of the queued ones, in their order, leaving `front` empty. Used to put
  // unacknowledged in-flight messages back ahead of newer ones after a reconnect. Not bounded either.
  void prepend(ItemQueue& front) {
    if (front.empty()) return;
    for (const OutboxItem& item : front) bytes_ += item.frame.size();
    for (OutboxItem& item : items_) front.push_back(std::move(item));
    items_.clear();
    items_.swap(front);
  }
  OutboxItem pop_front() {
    OutboxItem item = items_.take_front();
    bytes_ -= item.frame.size();
    return item;
  }
  // Removes the items for which `pred` holds, in order, handing each to `removed` (after it left the outbox;
  // `removed` may push new items, which are visited too).
  template <typename Pred, typename Fn>
  void remove_if(Pred pred, Fn removed) {
    for (std::size_t i = 0; i < items_.size();) {
      if (pred(items_[i])) {
        OutboxItem item = items_.take(i);
        bytes_ -= item.frame.size();
        removed(item);
      } else {
        ++i;
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
  ItemQueue items_;
  std::size_t bytes_ = 0;
  std::size_t max_messages_;
  std::size_t max_bytes_;
};

}  // namespace tidewire::client
