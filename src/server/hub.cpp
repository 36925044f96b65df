#include "server/hub.hpp"

#include "protocol/messages.hpp"

namespace tidewire::server {

std::shared_ptr<Hub::Channel> Hub::find(std::string_view channel) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = channels_.find(channel);
  return it == channels_.end() ? nullptr : it->second;
}

bool Hub::subscribe(std::string_view name, const std::shared_ptr<Subscriber>& subscriber) {
  // Both locks, map first: unsubscribe() takes them in the same order, so a channel cannot be dropped from the
  // map between being found here and gaining this subscriber.
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = channels_.find(name);
  if (it == channels_.end()) it = channels_.emplace(std::string(name), std::make_shared<Channel>()).first;
  Channel& channel = *it->second;
  std::lock_guard<std::mutex> channel_lock(channel.mutex);
  return channel.subscribers.emplace(subscriber.get(), subscriber).second;
}

bool Hub::unsubscribe(std::string_view name, const Subscriber* subscriber) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = channels_.find(name);
  if (it == channels_.end()) return false;
  Channel& channel = *it->second;
  std::unique_lock<std::mutex> channel_lock(channel.mutex);
  const bool removed = channel.subscribers.erase(subscriber) > 0;
  if (channel.subscribers.empty()) {
    channel_lock.unlock();
    channels_.erase(it);  // a publisher still holding the shared_ptr finishes on the detached channel
  }
  return removed;
}

std::uint64_t Hub::publish(const PublishRequest& request, const std::function<void(std::uint64_t)>& before_fanout) {
  const std::shared_ptr<Channel> channel = find(request.channel);
  if (!channel) return 0;

  std::lock_guard<std::mutex> channel_lock(channel->mutex);
  const std::uint64_t offset = ++channel->last_offset;

  protocol::Broadcast b;
  b.channel = request.channel;
  b.event = request.event;
  b.offset = offset;
  b.ts_ms = request.ts_ms;
  b.from = request.from;
  b.payload_json = request.payload_json;
  auto encoded = std::make_shared<std::string>();
  encoded->reserve(request.payload_json.size() + request.channel.size() + request.event.size() + 96);
  protocol::encode_broadcast(*encoded, b);
  const SharedFrame frame = std::move(encoded);

  if (before_fanout) before_fanout(offset);
  for (auto it = channel->subscribers.begin(); it != channel->subscribers.end();) {
    if (auto subscriber = it->second.lock()) {
      subscriber->deliver(frame);
      ++it;
    } else {
      it = channel->subscribers.erase(it);  // its owner died without unsubscribing
    }
  }
  return offset;
}

std::size_t Hub::channel_count() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return channels_.size();
}

std::size_t Hub::subscriber_count(std::string_view name) const {
  const std::shared_ptr<Channel> channel = find(name);
  if (!channel) return 0;
  std::lock_guard<std::mutex> lock(channel->mutex);
  return channel->subscribers.size();
}

}  // namespace tidewire::server
