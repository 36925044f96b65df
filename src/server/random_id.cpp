#include "server/random_id.hpp"

#include <openssl/rand.h>

#include <atomic>
#include <chrono>
#include <cstdint>

namespace tidewire::server {

namespace {
std::string random_id(const char* prefix) {
  unsigned char bytes[8];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    // RAND_bytes only fails when the OS entropy source is broken; stay unique (if predictable) rather than fail.
    static std::atomic<std::uint64_t> counter{0};
    const std::uint64_t v = static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) ^
                            (++counter << 48);
    for (int i = 0; i < 8; ++i) bytes[i] = static_cast<unsigned char>(v >> (8 * i));
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id = prefix;
  for (unsigned char b : bytes) {
    id.push_back(kHex[b >> 4]);
    id.push_back(kHex[b & 15]);
  }
  return id;
}
}  // namespace

std::string make_connection_id() { return random_id("c-"); }
std::string make_epoch() { return random_id("e-"); }

}  // namespace tidewire::server
