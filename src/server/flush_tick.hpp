// One flush tick per I/O thread, shared by every connection on it (--write-delay-us).
//
// A connection with messages queued and no write in flight lists itself once (add()); one tick per io_context
// runs `period` later and calls flush() on every listed connection, then re-arms while the list is non-empty.
// Compared with a timer (or a post) per connection per batch, one tick flushes all of them: one timer wait
// instead of a hundred, and no post per batch (the tick runs on the connections' own thread). The next tick is
// armed `period` after a tick's flushes finish, so under load the cycle, and with it every batch, grows by the
// time the flushes took, while a lone message at low load waits at most `period`.
//
// A zero period (the server's default) means the end of the I/O thread's burst of reading, not a timer: the tick
// is posted, and when it runs it posts itself again until kQuietTurns of its runs in a row found no message read
// on the thread since the previous one (note_read()), at most kMaxTurns times and for kMaxWait after it was armed.
// Beast completes each buffered WebSocket message in a handler of its own, posted behind whatever is already
// queued, so a publisher's burst arrives as one handler per message: a tick that ran right away would flush after
// the first of them, one message per frame. The second quiet run comes after one more non-blocking look at the
// sockets (Asio polls epoll between handlers when any are queued), which catches what arrived meanwhile. A lone
// message at low load waits three posted handlers and one epoll poll; under load, batches grow with the burst,
// as they do at the end of Node's event-loop turn, where one read() hands over every buffered frame.
//
// Threading: the io_context must be run by exactly one thread (each I/O thread runs its own); flush() runs on it,
// which is the connection's own executor. add() may be called from any thread; note_read() on the io_context's
// thread only. A listed connection that closes or is destroyed is safe: the list holds weak references, and
// flush() of a closed connection finds nothing to do.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
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
  using Clock = std::chrono::steady_clock;
  // With a zero period: how often a tick may put itself behind more reading, and for how long in all.
  static constexpr unsigned kMaxTurns = 64;
  static constexpr std::chrono::microseconds kMaxWait{500};
  static constexpr unsigned kQuietTurns = 2;

  // `now`: the clock for kMaxWait (tests pass a virtual one).
  FlushTick(boost::asio::io_context& ioc, std::chrono::microseconds period, std::function<Clock::time_point()> now = Clock::now);
  FlushTick(const FlushTick&) = delete;
  FlushTick& operator=(const FlushTick&) = delete;

  // Lists `target` for the next tick. Any thread. The caller lists a target once per batch (its queue says when:
  // OutboundQueue::Push::kStartWrite, or more queued when a write completes); a target listed twice is flushed
  // twice, which a write loop must tolerate (do_write is idempotent).
  void add(std::weak_ptr<Flushable> target);
  // A message was read on this I/O thread (its io_context's thread only): with a zero period, a due tick waits
  // one more turn for what else the thread is reading.
  void note_read() { ++reads_; }
  // Stops ticking (server shutdown); listed targets are dropped. Any thread.
  void stop();
  // A zero period: a tick runs at the end of the thread's burst of reading, not on a timer.
  bool at_end_of_burst() const { return period_.count() == 0; }

  // Listed, not yet flushed (tests).
  std::size_t listed() const;
  // Ticks that fired so far (tests).
  std::size_t ticks() const;

 private:
  void arm();  // on the io_context thread
  void on_tick();
  bool wait_another_turn();  // zero period: posts the tick again and returns true while the thread keeps reading
  void post_tick();          // zero period: behind every handler already queued

  boost::asio::io_context& ioc_;
  boost::asio::steady_timer timer_;  // io_context thread only
  const std::chrono::microseconds period_;
  const std::function<Clock::time_point()> now_;
  mutable std::mutex mutex_;
  std::vector<std::weak_ptr<Flushable>> listed_;  // guarded by mutex_
  bool armed_ = false;                            // guarded by mutex_: a tick is due (or its arm is posted)
  bool stopped_ = false;                          // guarded by mutex_
  std::size_t ticks_ = 0;                         // guarded by mutex_
  std::vector<std::weak_ptr<Flushable>> firing_;  // io_context thread only: swapped with listed_ each tick
  // Zero period, io_context thread only.
  std::uint64_t reads_ = 0;       // note_read() calls
  std::uint64_t reads_seen_ = 0;  // reads_ when the tick last posted itself
  unsigned turns_ = 0;            // posts of the due tick so far
  unsigned quiet_ = 0;            // turns in a row without a read
  Clock::time_point armed_at_{};
};

}  // namespace tidewire::server
