// One channel's bounded history (docs/PROTOCOL.md section 9): the last publications, by count and by age.
//
// Pure data, no locking (the hub holds the channel's lock). Entries are in offset order with no gaps; each keeps
// its encoded frame so a recovery replays the exact bytes live subscribers got.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

namespace tidewire::server {

struct ChangeRow;  // changefeed_row.hpp

struct HistoryEntry {
  std::uint64_t offset = 0;
  std::uint64_t ts_ms = 0;
  std::string from;       // the sender's user id
  std::string client_id;  // the client message id ("" when none): (channel, from, client_id) dedupes publishes
  std::string event;
  std::string payload;    // JSON text, or raw bytes when `binary`
  bool binary = false;    // published as a binary frame (section 13): replayed as one
  std::shared_ptr<const std::string> frame;  // the encoded broadcast
  std::shared_ptr<const ChangeRow> row;      // db: channels: the parsed change, for per-subscriber filters
};

struct HistoryLimits {
  std::size_t max_count = 100;
  std::uint64_t ttl_ms = 300000;
};

class ChannelHistory {
 public:
  void push(HistoryEntry entry);
  // Drops entries past the count or older than the ttl. Returns the lowest offset kept (0 when empty).
  std::uint64_t prune(std::uint64_t now_ms, const HistoryLimits& limits);
  // The entry with this sender and client id, or nullptr. An empty id never matches. Indexed: a publish with an id
  // used to scan the whole history, which at the default 10,000 entries per channel doubled the server's CPU at
  // 10,000 publishes/s (bench/node/latency.mjs: p50 2 ms -> 780 ms, the server never caught up).
  // The index is built at the first call and kept from then on: a channel that only copies a stream ordered
  // elsewhere (Hub::apply_remote, the Redis broker, which dedupes in Redis) never asks, so it pays no hashing,
  // key building or map node per message.
  const HistoryEntry* find_client_id(std::string_view from, std::string_view client_id) const;

  bool empty() const { return entries_.empty(); }
  std::size_t size() const { return entries_.size(); }
  std::uint64_t oldest_offset() const { return entries_.empty() ? 0 : entries_.front().offset; }
  const std::deque<HistoryEntry>& entries() const { return entries_; }

 private:
  void pop_front();
  static std::string id_key(std::string_view from, std::string_view client_id);

  std::deque<HistoryEntry> entries_;
  void build_index() const;

  mutable bool indexed_ = false;  // by_client_id_ is kept (since the first find_client_id)
  mutable std::unordered_map<std::string, std::uint64_t> by_client_id_;  // id_key -> offset of the newest such entry
};

}  // namespace tidewire::server
