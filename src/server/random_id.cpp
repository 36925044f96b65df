#include "server/random_id.hpp"

#include <openssl/rand.h>

#include <atomic>
#include <chrono>
#include <cstdint>

namespace tidewire::server {

namespace {
std::uint64_t random_u64() {
  unsigned char bytes[8];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    // RAND_bytes only fails when the OS entropy source is broken; stay unique (if predictable) rather than fail.
    static std::atomic<std::uint64_t> counter{0};
    return static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) ^ (++counter << 48);
  }
  std::uint64_t v = 0;
  for (unsigned char b : bytes) v = (v << 8) | b;
  return v;
}

std::string hex_id(const char* prefix, std::uint64_t v) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id = prefix;
  for (int shift = 60; shift >= 0; shift -= 4) id.push_back(kHex[(v >> shift) & 15]);
  return id;
}

std::string random_id(const char* prefix) { return hex_id(prefix, random_u64()); }
}  // namespace

std::string make_connection_id() { return random_id("c-"); }
std::string make_epoch() { return random_id("e-"); }

EpochSequence::EpochSequence() : next_(random_u64()) {}

std::string EpochSequence::next() { return hex_id("e-", next_.fetch_add(1, std::memory_order_relaxed)); }

}  // namespace tidewire::server
