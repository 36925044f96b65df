// A connection's queue of outgoing messages, shared between the threads that publish and the one write loop.
//
// push() appends and says whether the caller must start the write loop (nothing was in flight). The write loop
// calls take_batch() to join queued messages into ONE text frame ('\n'-separated: PROTOCOL.md section 2), writes
// it, and calls take_batch() again until it returns false. Batching is the biggest throughput lever: one
// sendmsg for many messages. Binary broadcast frames are the exception: each is written as its own frame. Bounded: past max bytes or messages the queue refuses (slow consumer).
#pragma once

#include <cstdint>
#include <deque>
#include <mutex>
#include <string>

#include "server/hub.hpp"

namespace tidewire::server {

class OutboundQueue {
 public:
  enum class Push {
    kStartWrite,  // queued; no write loop was running: the caller must start one
    kQueued,      // queued; the running write loop will pick it up
    kOverflow,    // over the bound: the queue is now closed and empty (close the connection with 1013)
    kClosed,      // dropped: the queue was closed before
  };

  static constexpr std::size_t kMaxBatchBytes = 256 * 1024;
  static constexpr std::size_t kMaxBatchMessages = 256;

  OutboundQueue(std::uint64_t max_bytes, std::uint32_t max_messages)
      : max_bytes_(max_bytes), max_messages_(max_messages) {}

  Push push(SharedFrame message);
  // Replaces `out` with queued messages joined by '\n' (at least one, at most the batch caps). Returns false
  // and marks the loop stopped when the queue is empty.
  bool take_batch(std::string& out);
  // The same, aware of binary broadcast frames (first byte 0x01, PROTOCOL.md section 13): those cannot share a
  // frame, so one is taken alone (`binary` true) and a JSON batch stops before the next one.
  bool take_batch(std::string& out, bool& binary);
  // With `compact` (a protocol v2 connection, PROTOCOL.md section 13.1), a JSON batch is a compact batch instead:
  // 0x02 and one record per message (compact_frame.hpp), channel messages with the head the hub encoded.
  bool take_batch(std::string& out, bool& binary, bool compact);
  // Drops everything queued; later pushes return kClosed.
  void close();

  std::size_t size() const;

 private:
  mutable std::mutex mutex_;
  std::deque<SharedFrame> queue_;
  std::uint64_t queued_bytes_ = 0;
  std::uint64_t max_bytes_;
  std::uint32_t max_messages_;
  bool writing_ = false;
  bool closed_ = false;
};

}  // namespace tidewire::server
