#include "server/rate_limiter.hpp"

#include <cmath>

namespace tidewire::server {

RateLimiter::Verdict RateLimiter::take(std::uint64_t now_ms) {
  if (rate_ == 0) return Verdict::kAllow;
  if (!started_) {
    started_ = true;
    last_ms_ = now_ms;
    window_start_ms_ = now_ms;
  }
  if (now_ms > last_ms_) {
    tokens_ += static_cast<double>(now_ms - last_ms_) * rate_ / 1000.0;
    if (tokens_ > burst_) tokens_ = burst_;
    last_ms_ = now_ms;
  }
  if (tokens_ >= 1.0) {
    tokens_ -= 1.0;
    return Verdict::kAllow;
  }
  retry_after_ms_ = static_cast<std::uint64_t>(std::ceil((1.0 - tokens_) * 1000.0 / rate_));
  if (retry_after_ms_ == 0) retry_after_ms_ = 1;
  // A streak of refusals with no gap longer than a second: the client keeps pushing past the limit.
  if (!over_ || now_ms > last_refused_ms_ + 1000) {
    over_ = true;
    refused_since_ms_ = now_ms;
  }
  last_refused_ms_ = now_ms;
  if (now_ms >= window_start_ms_ + 1000) {
    window_start_ms_ = now_ms;
    refused_in_window_ = 0;
  }
  ++refused_in_window_;
  if (now_ms >= refused_since_ms_ + kAbuseWindowMs || refused_in_window_ > 10ull * rate_) return Verdict::kAbuse;
  return Verdict::kLimit;
}

}  // namespace tidewire::server
