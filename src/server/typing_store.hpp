// Who is typing in which chat room, and until when (docs/PROTOCOL.md section 11): plain data, time passed in.
// A `typing: true` lasts `ttl_ms` unless renewed; expire() hands back the indicators whose time is up so the
// server can broadcast `typing: false` for them by itself.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

namespace tidewire::server {

class TypingStore {
 public:
  explicit TypingStore(std::uint64_t ttl_ms) : ttl_ms_(ttl_ms) {}

  // `user` is typing in `room` (again): returns the new expiry.
  std::uint64_t start(std::string_view room, std::string_view user, std::uint64_t now);
  // `user` stopped typing in `room`; false when no indicator was live.
  bool stop(std::string_view room, std::string_view user);
  // Removes and returns the (room, user) pairs whose expiry is <= now.
  std::vector<std::pair<std::string, std::string>> expire(std::uint64_t now);
  std::uint64_t next_deadline() const;  // 0: none

 private:
  std::uint64_t ttl_ms_;
  std::map<std::pair<std::string, std::string>, std::uint64_t> live_;  // (room, user) -> expiry
  std::set<std::tuple<std::uint64_t, std::string, std::string>> by_deadline_;
};

}  // namespace tidewire::server
