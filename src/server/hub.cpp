#include "server/hub.hpp"

#include "protocol/binary_frame.hpp"
#include "protocol/compact_batch.hpp"
#include "protocol/messages.hpp"
#include "protocol/wire.hpp"
#include "server/changefeed_row.hpp"
#include "server/changefeed_tables.hpp"
#include "server/compact_frame.hpp"
#include "server/random_id.hpp"

namespace tidewire::server {

namespace {

// db: channels: the change parsed once, for the subscribers' filters (live and replay).
void attach_row(std::string_view channel, HistoryEntry& entry) {
  if (!entry.binary && is_db_channel(channel)) entry.row = parse_change_row(entry.payload);
}

// May a subscriber with `filter` see `row`? A row that could not be parsed reaches unfiltered subscribers only.
bool admits(const ChangeFilter* filter, const ChangeRow* row) {
  return !filter || (row && filter->accepts(*row));
}

}  // namespace

SharedFrame encode_history_entry(std::string_view channel, std::string_view epoch, const HistoryEntry& entry) {
  auto encoded = std::make_shared<std::string>();
  encoded->reserve(entry.payload.size() + channel.size() + entry.event.size() + epoch.size() + 112);
  if (entry.binary) {
    protocol::BinaryBroadcast b;
    b.channel = channel;
    b.event = entry.event;
    b.offset = entry.offset;
    b.ts_ms = entry.ts_ms;
    b.from = entry.from;
    b.epoch = epoch;
    b.payload = entry.payload;
    if (!protocol::encode_binary_broadcast(*encoded, b)) return nullptr;
  } else {
    protocol::Broadcast b;
    b.channel = channel;
    b.event = entry.event;
    b.offset = entry.offset;
    b.ts_ms = entry.ts_ms;
    b.from = entry.from;
    b.payload_json = entry.payload;
    b.epoch = epoch;
    protocol::encode_broadcast(*encoded, b);
    // Protocol v2's record head, once per channel like the line (compact_frame.hpp).
    const std::string_view payload = entry.payload.empty() ? std::string_view("null") : std::string_view(entry.payload);
    std::string head;
    if (protocol::encode_compact_head(head, {channel, entry.event, epoch, entry.offset, entry.ts_ms, entry.from, payload})) {
      return make_compact_frame(std::move(*encoded), std::move(head), payload.size());
    }
  }
  return encoded;
}

std::shared_ptr<Hub::Channel> Hub::find(std::string_view channel) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = channels_.find(channel);
  return it == channels_.end() ? nullptr : it->second;
}

std::shared_ptr<Hub::Channel> Hub::get_or_create(std::string_view name) {
  auto it = channels_.find(name);
  if (it != channels_.end()) return it->second;
  auto channel = std::make_shared<Channel>();
  channel->name = std::string(name);
  StoredStream stored;
  if (options_.store && options_.store->load(name, stored) && !stored.epoch.empty()) {
    channel->epoch = std::move(stored.epoch);
    channel->last_offset = stored.last_offset;
    for (HistoryEntry& e : stored.entries) {
      e.frame = encode_history_entry(name, channel->epoch, e);
      attach_row(name, e);
      if (e.frame) channel->history.push(std::move(e));
    }
  } else {
    channel->epoch = make_epoch();
    if (options_.store) options_.store->create(name, channel->epoch, 0);
  }
  channels_.emplace(std::string(name), channel);
  return channel;
}

void Hub::prune(Channel& channel, std::uint64_t now_ms) {
  const std::uint64_t before = channel.history.oldest_offset();
  const std::uint64_t after = channel.history.prune(now_ms, options_.history);
  if (options_.store && before != 0 && after != before)
    options_.store->trim(channel.name, after == 0 ? channel.last_offset + 1 : after);
}

bool Hub::subscribe(std::string_view name, const std::shared_ptr<Subscriber>& subscriber) {
  SubscribeRequest request;
  request.channel = name;
  return subscribe(request, subscriber, nullptr).added;
}

SubscribeResult Hub::subscribe(const SubscribeRequest& request, const std::shared_ptr<Subscriber>& subscriber,
                               const std::function<void(const SubscribeResult&, const std::vector<SharedFrame>&)>& on_join) {
  // Both locks, map first: unsubscribe() takes them in the same order, so a channel cannot be dropped from the
  // map between being found here and gaining this subscriber.
  std::lock_guard<std::mutex> lock(mutex_);
  const std::shared_ptr<Channel> channel = get_or_create(request.channel);
  std::lock_guard<std::mutex> channel_lock(channel->mutex);
  if (request.now_ms != 0) prune(*channel, request.now_ms);

  SubscribeResult result;
  result.added = channel->subscribers.find(subscriber.get()) == channel->subscribers.end();
  result.offset = channel->last_offset;
  result.epoch = channel->epoch;
  std::vector<SharedFrame> replay;
  if (request.has_since && result.added) {
    const std::uint64_t since = request.since_offset;
    if (request.since_epoch != channel->epoch || since > channel->last_offset) {
      result.reason = wire::recovery::kEpochChanged;
    } else if (since == channel->last_offset) {
      result.recovered = true;
    } else if (channel->history.empty() || channel->history.oldest_offset() > since + 1) {
      result.reason = wire::recovery::kWindowExceeded;
    } else {
      result.recovered = true;
      for (const HistoryEntry& e : channel->history.entries())
        if (e.offset > since && admits(request.filter.get(), e.row.get())) replay.push_back(e.frame);
    }
  }
  if (on_join) on_join(result, replay);
  if (result.added)
    channel->subscribers.emplace(subscriber.get(),
                                 Channel::Entry{subscriber, std::string(request.user), request.filter});
  else
    channel->subscribers[subscriber.get()].filter = request.filter;  // a re-subscribe's `changes` replace its own
  return result;
}

bool Hub::unsubscribe(std::string_view name, const Subscriber* subscriber) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = channels_.find(name);
  if (it == channels_.end()) return false;
  Channel& channel = *it->second;
  std::unique_lock<std::mutex> channel_lock(channel.mutex);
  const bool removed = channel.subscribers.erase(subscriber) > 0;
  if (channel.subscribers.empty() && channel.history.empty()) {
    channel_lock.unlock();
    channels_.erase(it);  // a publisher still holding the shared_ptr finishes on the detached channel
  }
  return removed;
}

bool Hub::is_subscribed(std::string_view name, const Subscriber* subscriber) const {
  const std::shared_ptr<Channel> channel = find(name);
  if (!channel) return false;
  std::lock_guard<std::mutex> lock(channel->mutex);
  return channel->subscribers.find(subscriber) != channel->subscribers.end();
}

std::size_t Hub::revoke(std::string_view name, std::string_view user, const SharedFrame& notice) {
  const std::shared_ptr<Channel> channel = find(name);
  if (!channel) return 0;
  std::lock_guard<std::mutex> lock(channel->mutex);
  std::size_t n = 0;
  for (auto it = channel->subscribers.begin(); it != channel->subscribers.end();) {
    if (!user.empty() && it->second.user != user) {
      ++it;
      continue;
    }
    if (auto subscriber = it->second.ref.lock()) {
      subscriber->note_revoked(name);
      if (notice) subscriber->deliver(notice);
      ++n;
    }
    it = channel->subscribers.erase(it);
  }
  // An emptied channel stays in the map until sweep() (or the next unsubscribe) drops it.
  return n;
}

std::uint64_t Hub::publish(const PublishRequest& request, const std::function<void(std::uint64_t)>& before_fanout) {
  return publish_once(request, [&](std::uint64_t offset, bool) {
           if (before_fanout) before_fanout(offset);
         }).offset;
}

PublishResult Hub::publish_once(const PublishRequest& request,
                                const std::function<void(std::uint64_t, bool)>& before_fanout) {
  std::shared_ptr<Channel> channel;
  if (request.create) {
    std::lock_guard<std::mutex> lock(mutex_);
    channel = get_or_create(request.channel);
  } else {
    channel = find(request.channel);
  }
  PublishResult result;
  if (!channel) return result;

  std::lock_guard<std::mutex> channel_lock(channel->mutex);
  prune(*channel, request.ts_ms);
  if (const HistoryEntry* seen = channel->history.find_client_id(request.from, request.client_id)) {
    result.offset = seen->offset;
    result.duplicate = true;
    if (before_fanout) before_fanout(result.offset, true);
    return result;
  }

  HistoryEntry entry;
  entry.offset = channel->last_offset + 1;
  entry.ts_ms = request.ts_ms;
  entry.from = std::string(request.from);
  entry.client_id = std::string(request.client_id);
  entry.event = std::string(request.event);
  entry.payload = std::string(request.payload_json);
  entry.binary = request.binary;
  entry.frame = encode_history_entry(request.channel, channel->epoch, entry);
  if (!entry.frame) return result;
  attach_row(request.channel, entry);
  const std::shared_ptr<const ChangeRow> row = entry.row;
  channel->last_offset = entry.offset;
  result.offset = entry.offset;
  const SharedFrame frame = entry.frame;
  if (options_.store) options_.store->append(channel->name, entry);
  if (options_.history.max_count > 0) {
    channel->history.push(std::move(entry));
    prune(*channel, request.ts_ms);
  }

  if (before_fanout) before_fanout(result.offset, false);
  fan_out(*channel, frame, row.get());
  return result;
}

void Hub::fan_out(Channel& channel, const SharedFrame& frame, const ChangeRow* row) {
  for (auto it = channel.subscribers.begin(); it != channel.subscribers.end();) {
    if (auto subscriber = it->second.ref.lock()) {
      if (admits(it->second.filter.get(), row)) subscriber->deliver(frame);
      ++it;
    } else {
      it = channel.subscribers.erase(it);  // its owner died without unsubscribing
    }
  }
}

std::size_t Hub::send_raw(std::string_view name, const SharedFrame& message) {
  const std::shared_ptr<Channel> channel = find(name);
  if (!channel) return 0;
  std::lock_guard<std::mutex> lock(channel->mutex);
  std::size_t n = 0;
  for (auto& entry : channel->subscribers)
    if (auto subscriber = entry.second.ref.lock()) {
      subscriber->deliver(message);
      ++n;
    }
  return n;
}

void Hub::sweep(std::uint64_t now_ms) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto it = channels_.begin(); it != channels_.end();) {
    Channel& channel = *it->second;
    std::unique_lock<std::mutex> channel_lock(channel.mutex);
    prune(channel, now_ms);
    for (auto s = channel.subscribers.begin(); s != channel.subscribers.end();)
      s = s->second.ref.expired() ? channel.subscribers.erase(s) : std::next(s);
    const bool drop = channel.subscribers.empty() && channel.history.empty();
    channel_lock.unlock();
    it = drop ? channels_.erase(it) : std::next(it);
  }
}

Hub::RemoteApply Hub::apply_remote(std::string_view name, std::string_view epoch, HistoryEntry entry) {
  const std::shared_ptr<Channel> channel = find(name);
  if (!channel) return RemoteApply::kGap;
  std::lock_guard<std::mutex> lock(channel->mutex);
  if (channel->epoch != epoch) {
    if (entry.offset != 1) return RemoteApply::kGap;
    channel->epoch = std::string(epoch);  // the broker lost its stream (a Redis restart): a new epoch from 1
    channel->last_offset = 0;
    channel->history = ChannelHistory();
  }
  if (entry.offset <= channel->last_offset) return RemoteApply::kSeen;
  if (entry.offset != channel->last_offset + 1) return RemoteApply::kGap;
  entry.frame = encode_history_entry(name, channel->epoch, entry);
  channel->last_offset = entry.offset;
  if (!entry.frame) return RemoteApply::kApplied;  // unencodable (cannot come from a valid publish): skipped
  attach_row(name, entry);
  const std::shared_ptr<const ChangeRow> row = entry.row;
  const SharedFrame frame = entry.frame;
  const std::uint64_t ts = entry.ts_ms;
  if (options_.history.max_count > 0) {
    channel->history.push(std::move(entry));
    prune(*channel, ts);
  }
  fan_out(*channel, frame, row.get());
  return RemoteApply::kApplied;
}

void Hub::reset_remote(std::string_view name, std::string_view epoch, std::uint64_t last_offset) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = channels_.find(name);
  if (it == channels_.end()) {
    auto channel = std::make_shared<Channel>();
    channel->name = std::string(name);
    it = channels_.emplace(std::string(name), std::move(channel)).first;
  }
  Channel& channel = *it->second;
  std::lock_guard<std::mutex> channel_lock(channel.mutex);
  if (channel.epoch == epoch && channel.last_offset >= last_offset) return;
  channel.epoch = std::string(epoch);
  channel.last_offset = last_offset;
  channel.history = ChannelHistory();
}

std::pair<std::string, std::uint64_t> Hub::position(std::string_view name) const {
  const std::shared_ptr<Channel> channel = find(name);
  if (!channel) return {};
  std::lock_guard<std::mutex> lock(channel->mutex);
  return {channel->epoch, channel->last_offset};
}

bool Hub::drop_if_idle(std::string_view name) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = channels_.find(name);
  if (it == channels_.end()) return true;
  std::unique_lock<std::mutex> channel_lock(it->second->mutex);
  for (auto s = it->second->subscribers.begin(); s != it->second->subscribers.end();)
    s = s->second.ref.expired() ? it->second->subscribers.erase(s) : std::next(s);
  if (!it->second->subscribers.empty()) return false;
  channel_lock.unlock();
  channels_.erase(it);
  return true;
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

std::string Hub::epoch(std::string_view name) const {
  const std::shared_ptr<Channel> channel = find(name);
  if (!channel) return {};
  std::lock_guard<std::mutex> lock(channel->mutex);
  return channel->epoch;
}

}  // namespace tidewire::server
