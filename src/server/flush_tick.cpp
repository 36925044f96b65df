#include "server/flush_tick.hpp"

#include <boost/asio/post.hpp>

#include <exception>
#include <utility>

#include "server/log.hpp"

namespace tidewire::server {

namespace {

// An exception in a tick is logged; the tick goes on (the next add() re-arms it if this one could not).
template <typename Fn>
void guarded(const char* where, Fn&& fn) noexcept {
  try {
    fn();
  } catch (const std::exception& e) {
    log(LogLevel::kError, "msg=\"unexpected exception\" where=", where, " error=", log_quoted(e.what()));
  } catch (...) {
    log(LogLevel::kError, "msg=\"unexpected non-standard exception\" where=", where);
  }
}

}  // namespace

FlushTick::FlushTick(boost::asio::io_context& ioc, std::chrono::microseconds period,
                     std::function<Clock::time_point()> now)
    : ioc_(ioc), timer_(ioc), period_(period), now_(std::move(now)) {}

void FlushTick::add(std::weak_ptr<Flushable> target) {
  bool arm_now = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopped_) return;
    listed_.push_back(std::move(target));
    if (armed_) return;
    armed_ = true;
    arm_now = true;
  }
  if (!arm_now) return;
  // The timer is touched on its own thread only: most adds come from a connection on this same thread (the
  // publisher's), which arms it in place; an add from another I/O thread posts the arming.
  if (ioc_.get_executor().running_in_this_thread()) return arm();
  boost::asio::post(ioc_, [this] { guarded("flush_tick arm", [&] { arm(); }); });
}

void FlushTick::stop() {
  boost::asio::post(ioc_, [this] {
    guarded("flush_tick stop", [&] {
      {
        std::lock_guard<std::mutex> lock(mutex_);
        stopped_ = true;
        listed_.clear();
      }
      timer_.cancel();
    });
  });
}

void FlushTick::arm() {
  try {
    if (period_.count() == 0) {
      turns_ = 0;
      quiet_ = 0;
      armed_at_ = now_();
      return post_tick();
    }
    timer_.expires_after(period_);
    timer_.async_wait([this](const boost::system::error_code& ec) {
      if (ec) return;  // cancelled: stop()
      guarded("flush_tick", [&] { on_tick(); });
    });
  } catch (...) {
    // Not armed after all: let the next add() try again rather than leave the listed ones waiting forever.
    std::lock_guard<std::mutex> lock(mutex_);
    armed_ = false;
    throw;
  }
}

bool FlushTick::wait_another_turn() {
  // The first run always waits once: the handler that armed the tick (a read) posted the completion of the next
  // buffered message after it, so nothing has told yet whether the thread is in a burst.
  const bool reading = turns_ == 0 || reads_ != reads_seen_;
  quiet_ = reading ? 0 : quiet_ + 1;
  if (quiet_ >= kQuietTurns || turns_ >= kMaxTurns || now_() - armed_at_ >= kMaxWait) return false;
  try {
    post_tick();
  } catch (...) {
    return false;  // could not wait: flush now rather than leave the listed ones behind an armed tick forever
  }
  ++turns_;
  reads_seen_ = reads_;
  return true;
}

void FlushTick::post_tick() {
  boost::asio::post(ioc_, [this] { guarded("flush_tick", [&] { on_tick(); }); });
}

void FlushTick::on_tick() {
  if (period_.count() == 0 && wait_another_turn()) return;
  firing_.clear();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ++ticks_;
    if (stopped_) return;
    firing_.swap(listed_);
  }
  // A flush may list its target again (a write that completes at once with more queued): that goes to
  // listed_, for the next tick.
  for (const auto& weak : firing_) {
    if (auto target = weak.lock()) target->flush();
  }
  firing_.clear();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (listed_.empty() || stopped_) {
      armed_ = false;
      return;
    }
  }
  arm();  // `period` from now (or the end of the next burst): after the flushes, so a busy tick stretches the next batch
}

std::size_t FlushTick::listed() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return listed_.size();
}

std::size_t FlushTick::ticks() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return ticks_;
}

}  // namespace tidewire::server
