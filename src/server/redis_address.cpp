#include "server/redis_address.hpp"

namespace tidewire::server {

bool parse_redis_url(std::string_view url, RedisAddress& out) {
  constexpr std::string_view kScheme = "redis://";
  if (url.substr(0, kScheme.size()) != kScheme) return false;
  url.remove_prefix(kScheme.size());
  RedisAddress a;
  if (const auto slash = url.find('/'); slash != std::string_view::npos) {
    const std::string_view db = url.substr(slash + 1);
    if (db.empty() || db.size() > 2 || db.find_first_not_of("0123456789") != std::string_view::npos) return false;
    a.db = static_cast<unsigned>(std::stoul(std::string(db)));
    url = url.substr(0, slash);
  }
  if (const auto colon = url.rfind(':'); colon != std::string_view::npos) {
    const std::string_view port = url.substr(colon + 1);
    if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string_view::npos) return false;
    const unsigned long p = std::stoul(std::string(port));
    if (p == 0 || p > 65535) return false;
    a.port = static_cast<std::uint16_t>(p);
    url = url.substr(0, colon);
  }
  if (url.empty()) return false;
  a.host = std::string(url);
  out = a;
  return true;
}

}  // namespace tidewire::server
