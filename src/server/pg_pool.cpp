#include "server/pg_pool.hpp"

#include "server/log.hpp"

namespace tidewire::server {

PgPool::PgPool(Options options, Setup setup) : options_(std::move(options)), setup_(std::move(setup)) {
  slots_.resize(options_.size == 0 ? 1 : options_.size);
  for (std::size_t i = slots_.size(); i-- > 0;) free_.push_back(i);
}

PgPool::Lease::~Lease() {
  if (pool_) pool_->release(slot_);
}

PgConnection& PgPool::Lease::operator*() const { return pool_->slots_[slot_]; }

PgPool::Lease PgPool::acquire() {
  std::size_t slot = 0;
  {
    std::unique_lock lock(mutex_);
    released_.wait(lock, [&] { return !free_.empty(); });
    slot = free_.back();
    free_.pop_back();
  }
  Lease lease(this, slot);
  if (!prepare(slots_[slot])) return Lease{};  // `lease` gives the slot back
  return lease;
}

void PgPool::release(std::size_t slot) {
  PgConnection& c = slots_[slot];
  // A statement that failed on a lost connection: say so (the stores answer `unavailable`), reconnect next time.
  if (c.get() && !c.connected()) {
    fail("the connection to the database was lost: " + c.last_error());
    c.close();
  } else if (c.in_transaction()) {
    c.exec("ROLLBACK");  // a caller that returned early; never hand out a connection inside a transaction
  }
  {
    std::lock_guard lock(mutex_);
    free_.push_back(slot);
  }
  released_.notify_one();
}

bool PgPool::prepare(PgConnection& c) {
  if (!c.usable()) {
    c.close();
    {
      std::lock_guard lock(mutex_);
      if (!healthy_ && std::chrono::steady_clock::now() < next_connect_) return false;  // tried a moment ago
    }
    if (!c.connect(options_.conninfo, options_.connect_timeout_s)) {
      fail("cannot connect to the database: " + c.last_error());
      return false;
    }
  }
  if (!setup_done_.load(std::memory_order_acquire)) {
    std::lock_guard lock(setup_mutex_);
    if (!setup_done_.load(std::memory_order_relaxed)) {
      std::string error;
      if (!setup_(c, error)) {
        fail("cannot prepare the database: " + error);
        if (!c.connected()) c.close();
        return false;
      }
      setup_done_.store(true, std::memory_order_release);
    }
  }
  if (!healthy_.exchange(true)) log(LogLevel::kInfo, "msg=\"database reachable\"");
  return true;
}

void PgPool::fail(std::string error) {
  std::lock_guard lock(mutex_);
  next_connect_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.retry_ms);
  if (healthy_.exchange(false) || error != last_error_)
    log(LogLevel::kWarn, "msg=\"database unavailable\" error=", log_quoted(error));
  last_error_ = std::move(error);
}

std::string PgPool::last_error() const {
  std::lock_guard lock(mutex_);
  return last_error_;
}

}  // namespace tidewire::server
