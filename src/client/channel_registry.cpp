#include "client/channel_registry.hpp"

namespace tidewire::client {

ChannelEntry& ChannelRegistry::acquire(std::string_view name, bool& created) {
  ++total_refs_;
  if (ChannelEntry* existing = find(name)) {
    created = false;
    ++existing->refs;
    return *existing;
  }
  created = true;
  auto entry = std::make_unique<ChannelEntry>();
  entry->id = next_id_++;
  entry->name = std::string(name);
  entry->refs = 1;
  ChannelEntry& ref = *entry;
  by_name_.emplace(std::string_view(ref.name), &ref);
  by_id_.emplace(ref.id, std::move(entry));
  return ref;
}

bool ChannelRegistry::release(std::uint32_t id) {
  auto it = by_id_.find(id);
  if (it == by_id_.end() || it->second->refs == 0) return false;
  --total_refs_;
  if (--it->second->refs > 0) return false;
  if (last_found_ == it->second.get()) last_found_ = nullptr;
  by_name_.erase(std::string_view(it->second->name));
  by_id_.erase(it);
  return true;
}

ChannelEntry* ChannelRegistry::find(std::uint32_t id) {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : it->second.get();
}

const ChannelEntry* ChannelRegistry::find(std::uint32_t id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : it->second.get();
}

ChannelEntry* ChannelRegistry::find(std::string_view name) {
  if (last_found_ != nullptr && last_found_->name == name) return last_found_;
  auto it = by_name_.find(name);
  if (it == by_name_.end()) return nullptr;
  return last_found_ = it->second;
}

void ChannelRegistry::reset_socket_state() {
  for (auto& kv : by_id_) {
    kv.second->subscribe_sent = false;
    kv.second->subscribed = false;
    kv.second->changes_pending = false;
  }
}

}  // namespace tidewire::client
