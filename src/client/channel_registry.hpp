// Ref-counted channel subscriptions: name <-> id, with the subscribe state per channel.
// Ids are never reused, so a stale id held by JS can never reach another channel.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

namespace tidewire::client {

struct ChannelEntry {
  std::uint32_t id = 0;
  std::string name;
  std::uint32_t refs = 0;
  bool subscribe_sent = false;  // on the current socket
  bool subscribed = false;      // the server confirmed, on the current socket
  // Recovery position: the last offset seen in `epoch` (docs/PROTOCOL.md section 9).
  bool has_position = false;
  std::uint64_t last_offset = 0;
  std::string epoch;
  bool since_sent = false;      // the current subscribe asked for recovery
  // The server ended this subscription on its own (an `unsubscribed` push: access revoked, room left or
  // deleted). Not subscribed again on reconnect until the application subscribes again (Engine::resubscribe).
  bool revoked = false;
  // Changefeed channels: what the subscribe asks for (`changes`: event and filter; empty event = none), and a
  // spec changed while a recovering subscribe was in flight (sent again once it is confirmed).
  std::string changes_event;
  std::string changes_filter;
  bool changes_pending = false;
};

class ChannelRegistry {
 public:
  // Adds a reference to `name`, creating the channel when new (`created` tells which).
  ChannelEntry& acquire(std::string_view name, bool& created);
  // Drops one reference. Returns true when that was the last one (the channel is then removed).
  bool release(std::uint32_t id);
  ChannelEntry* find(std::uint32_t id);
  const ChannelEntry* find(std::uint32_t id) const;
  // Hot path: no allocation; the last channel found is checked first (a batch is mostly one channel's).
  ChannelEntry* find(std::string_view name);
  // Forget per-socket state (a new socket needs every subscribe sent again).
  void reset_socket_state();

  std::size_t channel_count() const { return by_id_.size(); }
  std::uint32_t total_refs() const { return total_refs_; }

  template <typename Fn>
  void for_each(Fn&& fn) {
    for (auto& kv : by_id_) fn(*kv.second);
  }

 private:
  std::unordered_map<std::uint32_t, std::unique_ptr<ChannelEntry>> by_id_;
  std::unordered_map<std::string_view, ChannelEntry*> by_name_;  // views into the entries' names
  ChannelEntry* last_found_ = nullptr;                            // by find(name); cleared when removed
  std::uint32_t next_id_ = 1;
  std::uint32_t total_refs_ = 0;
};

}  // namespace tidewire::client
