// Live connections per user, for --max-connections-per-user (docs/PROTOCOL.md section 14). Thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

namespace tidewire::server {

// The same limit across nodes (--broker redis: RedisPresenceStore), checked after this node's own count, without
// waiting on the connection's thread (MessageHandler holds the connection's messages until the answer).
class SharedConnectionCap {
 public:
  virtual ~SharedConnectionCap() = default;
  // Counts `connection` of `user`, unless the user holds the maximum across all nodes: `done(admitted)` is called
  // once, from any thread (maybe at once, on the caller's). A release() before the answer takes the count back.
  virtual void try_acquire(std::string_view user, std::string_view connection,
                           std::function<void(bool admitted)> done) = 0;
  virtual void release(std::string_view user, std::string_view connection) = 0;
};

class UserConnections {
 public:
  explicit UserConnections(std::uint32_t max_per_user) : max_(max_per_user) {}

  // Counts one more connection for `user`; false (nothing counted) when the user is at the limit (0: none).
  bool try_acquire(std::string_view user) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = counts_.find(user);
    if (it == counts_.end()) it = counts_.emplace(std::string(user), 0).first;
    if (max_ != 0 && it->second >= max_) return false;
    ++it->second;
    return true;
  }
  void release(std::string_view user) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = counts_.find(user);
    if (it == counts_.end()) return;
    if (--it->second == 0) counts_.erase(it);
  }
  std::uint32_t count(std::string_view user) const {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = counts_.find(user);
    return it == counts_.end() ? 0 : it->second;
  }
  std::uint32_t max_per_user() const { return max_; }

 private:
  const std::uint32_t max_;
  mutable std::mutex mutex_;
  std::map<std::string, std::uint32_t, std::less<>> counts_;
};

}  // namespace tidewire::server
