// Where channel streams outlive the process (--history-store sqlite): epochs, last offsets and history entries.
// The hub writes through it while holding the channel's lock and reads a stream back when a channel is created.
// Implementations must be thread-safe. Failures are logged by the implementation and never thrown.
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
};

}  // namespace tidewire::server
