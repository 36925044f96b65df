// Validation of channel and event names (docs/PROTOCOL.md section 3).
#pragma once

#include <string_view>

#include "protocol/wire.hpp"

namespace tidewire::protocol {

// 1-128 bytes of [A-Za-z0-9_:.@-].
constexpr bool is_valid_channel(std::string_view name) {
  if (name.empty() || name.size() > wire::defaults::kMaxChannelBytes) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                    c == ':' || c == '.' || c == '@' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// 1-64 bytes, no control characters (bytes < 0x20 or 0x7f).
constexpr bool is_valid_event(std::string_view name) {
  if (name.empty() || name.size() > wire::defaults::kMaxEventBytes) return false;
  for (char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return false;
  }
  return true;
}

constexpr bool is_valid_ref(std::string_view ref) { return ref.size() <= wire::defaults::kMaxRefBytes; }

}  // namespace tidewire::protocol
