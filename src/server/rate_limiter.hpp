// A per-connection token bucket (docs/PROTOCOL.md section 14), with the clock injected by the caller.
//
// Each message takes one token; tokens refill at `rate` per second up to `burst`. A refused message reports
// how long until the next token. Abuse is "sustained" when refusals have gone on for kAbuseWindowMs with no
// gap over a second between them, or when more than 10x the rate were refused within one second: the caller
// then closes the connection with 1008.
#pragma once

#include <cstdint>

namespace tidewire::server {

class RateLimiter {
 public:
  enum class Verdict { kAllow, kLimit, kAbuse };

  static constexpr std::uint64_t kAbuseWindowMs = 5000;

  // rate == 0 disables the limiter (everything is allowed).
  RateLimiter(std::uint32_t rate_per_second, std::uint32_t burst)
      : rate_(rate_per_second), burst_(burst < 1 ? 1 : burst), tokens_(static_cast<double>(burst_)) {}

  Verdict take(std::uint64_t now_ms);
  // After kLimit: ms until a token is available (at least 1).
  std::uint64_t retry_after_ms() const { return retry_after_ms_; }

 private:
  std::uint32_t rate_;
  std::uint32_t burst_;
  double tokens_;
  std::uint64_t last_ms_ = 0;
  bool started_ = false;
  bool over_ = false;                   // in a streak of refusals
  std::uint64_t refused_since_ms_ = 0;  // first refusal of the current streak
  std::uint64_t last_refused_ms_ = 0;
  std::uint64_t window_start_ms_ = 0;   // one-second window counting refusals
  std::uint64_t refused_in_window_ = 0;
  std::uint64_t retry_after_ms_ = 0;
};

}  // namespace tidewire::server
