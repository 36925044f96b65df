// Exponential backoff with full jitter: delay = random(0, min(cap, base * 2^attempt)).
// Stateless, so it is trivially testable and shared by reconnects and first connects.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "client/random_source.hpp"

namespace tidewire::client {

struct BackoffPolicy {
  double base_ms = 1000;  // first ceiling
  double cap_ms = 30000;  // no delay exceeds this
};

// The ceiling for `attempt` (0-based): min(cap, base * 2^attempt).
inline double backoff_ceiling(const BackoffPolicy& p, std::uint32_t attempt) {
  const double exp = std::ldexp(p.base_ms, static_cast<int>(std::min<std::uint32_t>(attempt, 52)));
  return std::min(p.cap_ms, exp);
}

inline double backoff_delay(const BackoffPolicy& p, std::uint32_t attempt, RandomSource& rng) {
  return rng.next_unit() * backoff_ceiling(p, attempt);
}

}  // namespace tidewire::client
