// One flush timer per I/O thread, shared by every connection on it (with --write-delay-us > 0).
//
// A connection with messages queued and no write in flight lists itself once (add()); one steady_timer per
// io_context fires `period` later and calls flush() on every listed connection, then re-arms while the list is
// non-empty. Compared with a timer per connection per batch, one tick flushes all of them: one timer wait instead
// of a hundred, and no post per batch (the tick runs on the connections' own thread). The next tick is armed
// `period` after a tick's flushes finish, so under load the cycle, and with it every batch, grows by the time
// the flushes took, while a lone message at low load waits at most `period`, as before.
//
// Threading: the io_context must be run by exactly one thread (each I/O thread runs its own); flush() runs on it,
// which is the connection's own executor. add() may be called from any thread. A listed connection that closes
// or is destroyed is safe: the list holds weak references, and flush() of a closed connection finds nothing to do.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>

namespace tidewire::server {

class Flushable {
 public:
  virtual ~Flushable() = default;
  // Starts the write of what is queued. Runs on the tick's io_context thread. Must not throw.
  virtual void flush() noexcept = 0;
};

class FlushTick {
 public:
  FlushTick(boost::asio::io_context& ioc, std::chrono::microseconds period);
  FlushTick(const FlushTick&) = delete;
  FlushTick& operator=(const FlushTick&) = delete;

  // Lists `target` for the next tick. Any thread. The caller lists a target once per batch (its queue says when:
  // OutboundQueue::Push::kStartWrite, or more queued when a write completes); a target listed twice is flushed
  // twice, which a write loop must tolerate (do_write is idempotent).
  void add(std::weak_ptr<Flushable> target);
  // Stops ticking (server shutdown); listed targets are dropped. Any thread.
  void stop();

  // Listed, not yet flushed (tests).
  std::size_t listed() const;
  // Ticks that fired so far (tests).
  std::size_t ticks() const;

 private:
  void arm();  // on the io_context thread
  void on_tick();

  boost::asio::io_context& ioc_;
  boost::asio::steady_timer timer_;  // io_context thread only
  const std::chrono::microseconds period_;
  mutable std::mutex mutex_;
  std::vector<std::weak_ptr<Flushable>> listed_;  // guarded by mutex_
  bool armed_ = false;                            // guarded by mutex_: a tick is due (or its arm is posted)
  bool stopped_ = false;                          // guarded by mutex_
  std::size_t ticks_ = 0;                         // guarded by mutex_
  std::vector<std::weak_ptr<Flushable>> firing_;  // io_context thread only: swapped with listed_ each tick
};

}  // namespace tidewire::server
