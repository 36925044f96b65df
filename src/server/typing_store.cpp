#include "server/typing_store.hpp"

namespace tidewire::server {

std::uint64_t TypingStore::start(std::string_view room, std::string_view user, std::uint64_t now) {
  const std::uint64_t expiry = now + ttl_ms_;
  auto key = std::make_pair(std::string(room), std::string(user));
  if (const auto it = live_.find(key); it != live_.end()) {
    by_deadline_.erase({it->second, key.first, key.second});
    it->second = expiry;
  } else {
    live_.emplace(key, expiry);
  }
  by_deadline_.emplace(expiry, std::move(key.first), std::move(key.second));
  return expiry;
}

bool TypingStore::stop(std::string_view room, std::string_view user) {
  const auto it = live_.find(std::make_pair(std::string(room), std::string(user)));
  if (it == live_.end()) return false;
  by_deadline_.erase({it->second, it->first.first, it->first.second});
  live_.erase(it);
  return true;
}

std::vector<std::pair<std::string, std::string>> TypingStore::expire(std::uint64_t now) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!by_deadline_.empty() && std::get<0>(*by_deadline_.begin()) <= now) {
    auto [deadline, room, user] = *by_deadline_.begin();
    by_deadline_.erase(by_deadline_.begin());
    live_.erase(std::make_pair(room, user));
    out.emplace_back(std::move(room), std::move(user));
  }
  return out;
}

std::uint64_t TypingStore::next_deadline() const {
  return by_deadline_.empty() ? 0 : std::get<0>(*by_deadline_.begin());
}

}  // namespace tidewire::server
