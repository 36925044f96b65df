// Unpredictable identifiers from OpenSSL's CSPRNG.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

namespace tidewire::server {

// "c-" followed by 16 lowercase hex digits (64 random bits), e.g. "c-3f9a1c20e1b54d7e".
std::string make_connection_id();
// A stream epoch (docs/PROTOCOL.md section 9): "e-" followed by 16 lowercase hex digits.
std::string make_epoch();

// Epochs in make_epoch()'s format, each one different, without a call to the CSPRNG each: a random 64-bit start,
// then the next number at each call (for the Redis broker, which offers a new epoch with every publish in case the
// channel's stream has to be created; publishes must not pay for a random draw each). Thread-safe.
class EpochSequence {
 public:
  EpochSequence();
  std::string next();

 private:
  std::atomic<std::uint64_t> next_;
};

}  // namespace tidewire::server
