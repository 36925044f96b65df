// Reads the server's retry hint from a close reason: "...retry_after_ms=2500..." (docs/PROTOCOL.md section 5).
#pragma once

#include <string_view>

namespace tidewire::client {

// Returns the hinted delay in ms, or 0 when the reason carries none. Capped at one hour.
inline double parse_retry_after_ms(std::string_view reason) {
  constexpr std::string_view kKey = "retry_after_ms=";
  const auto at = reason.find(kKey);
  if (at == std::string_view::npos) return 0;
  double v = 0;
  bool any = false;
  for (std::size_t i = at + kKey.size(); i < reason.size() && reason[i] >= '0' && reason[i] <= '9'; ++i) {
    any = true;
    v = v * 10 + (reason[i] - '0');
    if (v > 3600000) return 3600000;
  }
  return any ? v : 0;
}

}  // namespace tidewire::client
