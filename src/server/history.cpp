#include "server/history.hpp"

namespace tidewire::server {

std::string ChannelHistory::id_key(std::string_view from, std::string_view client_id) {
  // The sender's length first, so no pair of strings can stand for another (ids may hold any character).
  std::string key = std::to_string(from.size());
  key.push_back(':');
  key.append(from).append(client_id);
  return key;
}

void ChannelHistory::push(HistoryEntry entry) {
  if (indexed_ && !entry.client_id.empty()) by_client_id_[id_key(entry.from, entry.client_id)] = entry.offset;
  entries_.push_back(std::move(entry));
}

void ChannelHistory::build_index() const {
  for (const HistoryEntry& e : entries_)  // oldest first: a repeated key ends at its newest entry
    if (!e.client_id.empty()) by_client_id_[id_key(e.from, e.client_id)] = e.offset;
  indexed_ = true;
}

void ChannelHistory::pop_front() {
  const HistoryEntry& e = entries_.front();
  if (indexed_ && !e.client_id.empty()) {
    auto it = by_client_id_.find(id_key(e.from, e.client_id));
    if (it != by_client_id_.end() && it->second == e.offset) by_client_id_.erase(it);
  }
  entries_.pop_front();
}

std::uint64_t ChannelHistory::prune(std::uint64_t now_ms, const HistoryLimits& limits) {
  while (entries_.size() > limits.max_count) pop_front();
  const std::uint64_t cutoff = now_ms > limits.ttl_ms ? now_ms - limits.ttl_ms : 0;
  while (!entries_.empty() && entries_.front().ts_ms < cutoff) pop_front();
  return oldest_offset();
}

const HistoryEntry* ChannelHistory::find_client_id(std::string_view from, std::string_view client_id) const {
  if (client_id.empty() || entries_.empty()) return nullptr;
  if (!indexed_) build_index();
  auto it = by_client_id_.find(id_key(from, client_id));
  if (it == by_client_id_.end()) return nullptr;
  // Offsets in a history are consecutive, so the entry is found by position; the scan is only a safety net.
  const std::uint64_t first = entries_.front().offset;
  if (it->second >= first && it->second - first < entries_.size()) {
    const HistoryEntry& e = entries_[static_cast<std::size_t>(it->second - first)];
    if (e.offset == it->second) return &e;
  }
  for (auto e = entries_.rbegin(); e != entries_.rend(); ++e)
    if (e->offset == it->second) return &*e;
  return nullptr;
}

}  // namespace tidewire::server
