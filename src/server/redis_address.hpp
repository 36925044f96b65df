// Where the Redis broker is: --broker redis://host:port[/db].
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tidewire::server {

struct RedisAddress {
  std::string host = "127.0.0.1";
  std::uint16_t port = 6379;
  unsigned db = 0;
};

// Parses redis://host:port[/db] (port 6379 and db 0 when left out). False when malformed.
bool parse_redis_url(std::string_view url, RedisAddress& out);

}  // namespace tidewire::server
