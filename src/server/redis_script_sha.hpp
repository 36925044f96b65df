// The SHA-1 of a Lua script, in lower-case hex: the name EVALSHA calls it by (the Redis broker's and the Redis
// presence store's scripts).
#pragma once

#include <openssl/sha.h>

#include <cstdio>
#include <string>
#include <string_view>

namespace tidewire::server {

inline std::string redis_script_sha(std::string_view script) {
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(script.data()), script.size(), digest);
  char hex[2 * SHA_DIGEST_LENGTH + 1];
  for (int i = 0; i < SHA_DIGEST_LENGTH; ++i) std::snprintf(hex + 2 * i, 3, "%02x", digest[i]);
  return std::string(hex, 2 * SHA_DIGEST_LENGTH);
}

}  // namespace tidewire::server
