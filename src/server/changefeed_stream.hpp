// One logical replication stream from Postgres (issue #16): a libpq connection with replication=database,
// START_REPLICATION SLOT <slot> LOGICAL with wal2json (format-version 2), then CopyData messages: XLogData ('w')
// carries one wal2json line, a primary keepalive ('k') may ask for a reply; the standby status update ('r') tells
// the server how far the consumer has confirmed (the slot's confirmed_flush_lsn).
//
// Blocking libpq calls with a poll() timeout: used only on the change feed's own thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

struct pg_conn;

namespace tidewire::server {

class ChangefeedStream {
 public:
  enum class Open { kStreaming, kSlotBusy, kFailed };
  enum class Read { kData, kIdle, kClosed };

  // Connects and starts streaming `slot` from its confirmed position. `plugin_options`: the wal2json option list
  // as SQL text ("\"format-version\" '2', ..."). kSlotBusy: another consumer (node) holds the slot.
  Open open(const std::string& conninfo, std::string_view slot, std::string_view plugin_options);
  // Waits up to `timeout_ms` for a message. kData: `data` holds one wal2json line that starts at `wal_start`.
  // kIdle: nothing came within the timeout, or (without waiting) everything received so far was handed out.
  // Keepalives are handled inside (their server WAL end is kept in server_wal_end(); reply_requested() is set).
  Read read(std::string& data, std::uint64_t& wal_start, int timeout_ms);
  // The standby status update: everything up to `flushed` is done (write = flush = apply). False on failure.
  bool send_feedback(std::uint64_t flushed);
  void close();

  bool reply_requested() const { return reply_requested_; }
  void clear_reply_requested() { reply_requested_ = false; }
  std::uint64_t server_wal_end() const { return server_wal_end_; }
  const std::string& error() const { return error_; }

 private:
  struct Finish {
    void operator()(pg_conn* c) const;
  };
  std::unique_ptr<pg_conn, Finish> conn_;
  std::string error_;
  bool reply_requested_ = false;
  bool drained_ = true;  // no message was handed out since the last kIdle
  std::uint64_t server_wal_end_ = 0;
};

}  // namespace tidewire::server
