// Every live HTTP and WebSocket session, so a shutdown can reach them all (close with 1001) and know when the
// last one is gone. Weak references: the registry never keeps a session alive.
#pragma once

#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace tidewire::server {

class Stoppable {
 public:
  virtual ~Stoppable() = default;
  // Begin a graceful stop (thread-safe; the session posts onto its own executor).
  virtual void stop() = 0;
};

class SessionRegistry {
 public:
  void add(const std::shared_ptr<Stoppable>& session) {
    std::lock_guard<std::mutex> lock(mutex_);
    sessions_[session.get()] = session;
  }
  // Called from the session's destructor.
  void remove(const Stoppable* session) {
    std::lock_guard<std::mutex> lock(mutex_);
    sessions_.erase(session);
  }
  // The live sessions. Destroy the result outside any lock: dropping the last reference runs a destructor,
  // which calls remove().
  std::vector<std::shared_ptr<Stoppable>> snapshot() const {
    std::vector<std::shared_ptr<Stoppable>> out;
    std::lock_guard<std::mutex> lock(mutex_);
    out.reserve(sessions_.size());
    for (const auto& entry : sessions_)
      if (auto s = entry.second.lock()) out.push_back(std::move(s));
    return out;
  }
  std::size_t size() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return sessions_.size();
  }

 private:
  mutable std::mutex mutex_;
  std::unordered_map<const Stoppable*, std::weak_ptr<Stoppable>> sessions_;
};

}  // namespace tidewire::server
