// Randomness for jitter, injectable so tests can pin it.
#pragma once

#include <cstdint>

namespace tidewire::client {

class RandomSource {
 public:
  virtual ~RandomSource() = default;
  // Uniform in [0, 1).
  virtual double next_unit() = 0;
};

// xorshift64*: small, fast and good enough for jitter (not for secrets).
class XorShiftRandom final : public RandomSource {
 public:
  explicit XorShiftRandom(std::uint64_t seed) : state_(seed ? seed : 0x9E3779B97F4A7C15ull) {}
  double next_unit() override {
    state_ ^= state_ >> 12;
    state_ ^= state_ << 25;
    state_ ^= state_ >> 27;
    const std::uint64_t r = state_ * 2685821657736338717ull;
    return static_cast<double>(r >> 11) * (1.0 / 9007199254740992.0);
  }

 private:
  std::uint64_t state_;
};

}  // namespace tidewire::client
