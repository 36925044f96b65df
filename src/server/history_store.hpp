// Where channel streams outlive the process (--history-store sqlite, the default): epochs, last offsets and
// history entries. The hub writes through it while holding the channel's lock and reads a stream back when a
// channel is created. Implementations must be thread-safe. Failures are logged by the implementation and never
// thrown.
//
// Durability (PROTOCOL.md section 9): writes may be batched; sync() makes every write made so far durable. The
// transport calls sync() before it hands any bytes to the network, so no ack, broadcast or `subscribed` leaves
// the server before what it reports is in the store (a group commit per write, cheap when nothing is pending).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "server/history.hpp"

namespace tidewire::server {

struct StoredStream {
  std::string epoch;
  std::uint64_t last_offset = 0;
  std::vector<HistoryEntry> entries;  // offset order; `frame` is not stored (the hub re-encodes)
};

class HistoryStore {
 public:
  virtual ~HistoryStore() = default;
  // Fills `out` and returns true when the channel has a stored stream.
  virtual bool load(std::string_view channel, StoredStream& out) = 0;
  // A new stream (new epoch) replaces whatever was stored for the channel.
  virtual void create(std::string_view channel, std::string_view epoch, std::uint64_t last_offset) = 0;
  virtual void append(std::string_view channel, const HistoryEntry& entry) = 0;
  // Forgets the entries below `min_offset` (the stream's epoch and last offset stay).
  virtual void trim(std::string_view channel, std::uint64_t min_offset) = 0;
  // Makes every create/append/trim made so far (by any thread) durable. Any thread; quick when nothing is pending.
  virtual void sync() {}
};

}  // namespace tidewire::server
