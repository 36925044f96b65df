// Validation of channel and event names (docs/PROTOCOL.md section 3).
#pragma once

#include <cstdint>
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

// Well-formed UTF-8 (no overlongs, no surrogates, at most U+10FFFF). Fields that arrive in binary frames are
// raw bytes: they must pass this before they are echoed into JSON.
constexpr bool is_valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (s.size() - i <= n) return false;
    for (std::size_t k = 1; k <= n; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    const std::uint32_t min = n == 1 ? 0x80 : n == 2 ? 0x800 : 0x10000;
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n + 1;
  }
  return true;
}

}  // namespace tidewire::protocol
