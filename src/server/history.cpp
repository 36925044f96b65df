#include "server/history.hpp"

namespace tidewire::server {

std::uint64_t ChannelHistory::prune(std::uint64_t now_ms, const HistoryLimits& limits) {
  while (entries_.size() > limits.max_count) entries_.pop_front();
  const std::uint64_t cutoff = now_ms > limits.ttl_ms ? now_ms - limits.ttl_ms : 0;
  while (!entries_.empty() && entries_.front().ts_ms < cutoff) entries_.pop_front();
  return oldest_offset();
}

const HistoryEntry* ChannelHistory::find_client_id(std::string_view from, std::string_view client_id) const {
  if (client_id.empty()) return nullptr;
  for (auto it = entries_.rbegin(); it != entries_.rend(); ++it)
    if (it->client_id == client_id && it->from == from) return &*it;
  return nullptr;
}

}  // namespace tidewire::server
