// Field checks shared by the presence, chat and sync services: typed look-ups in an untrusted JSON object that
// never throw (nlohmann's value()/get() would on a wrong type), and the name rules of sections 10-12.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace tidewire::server::fields {

using nlohmann::json;

// The string at `key`, or nullptr when absent or not a string.
inline const std::string* string(const json& j, const char* key) {
  const auto it = j.find(key);
  return it == j.end() || !it->is_string() ? nullptr : &it->get_ref<const std::string&>();
}

// The value at `key`, or nullptr when absent.
inline const json* any(const json& j, const char* key) {
  const auto it = j.find(key);
  return it == j.end() ? nullptr : &*it;
}

// An integer (not a float, not a bool) in [min, max] at `key`.
inline std::optional<std::int64_t> integer(const json& j, const char* key, std::int64_t min, std::int64_t max) {
  const json* v = any(j, key);
  if (!v || !v->is_number_integer()) return std::nullopt;
  if (v->is_number_unsigned()) {
    const auto u = v->get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(max)) return std::nullopt;
    const auto i = static_cast<std::int64_t>(u);
    return i < min ? std::nullopt : std::optional<std::int64_t>(i);
  }
  const auto i = v->get<std::int64_t>();
  return i < min || i > max ? std::nullopt : std::optional<std::int64_t>(i);
}

// The largest id accepted from a client: exact in a JavaScript number too.
inline constexpr std::int64_t kMaxId = std::int64_t{1} << 53;

// A server-assigned id as the server sends them: a decimal string without leading zeros, 1..kMaxId.
inline std::optional<std::int64_t> parse_id(std::string_view s) {
  if (s.empty() || s.size() > 16 || s[0] == '0') return std::nullopt;
  std::int64_t n = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + (c - '0');
  }
  return n > kMaxId ? std::nullopt : std::optional<std::int64_t>(n);
}

// An id at `key`: a decimal string ("42"), as the server sends them. A JSON number is refused like any other
// type (section 11: ids are strings, so a client never does arithmetic on them).
inline std::optional<std::int64_t> id(const json& j, const char* key) {
  const json* v = any(j, key);
  if (!v || !v->is_string()) return std::nullopt;
  return parse_id(v->get_ref<const std::string&>());
}

// The bad_request message for an id field that id() refused.
inline std::string id_error(const char* key) {
  return std::string(key) + " must be a string of digits, like \"12\" (ids are strings on the wire; not a number)";
}

// Characters (code points) in valid UTF-8 text (the parser has validated it): counts non-continuation bytes.
inline std::size_t utf8_length(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

// Decodes valid UTF-8 (the parser has validated it) one code point at a time; malformed bytes decode as
// U+FFFD so the loop always advances.
inline char32_t next_code_point(std::string_view s, std::size_t& i) {
  const auto b = static_cast<unsigned char>(s[i++]);
  int extra = b >= 0xF0 ? 3 : b >= 0xE0 ? 2 : b >= 0xC0 ? 1 : 0;
  if (b >= 0x80 && b < 0xC0) return 0xFFFD;
  char32_t cp = extra == 3 ? b & 0x07 : extra == 2 ? b & 0x0F : extra == 1 ? b & 0x1F : b;
  for (; extra > 0; --extra) {
    if (i >= s.size() || (static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) return 0xFFFD;
    cp = (cp << 6) | (static_cast<unsigned char>(s[i++]) & 0x3F);
  }
  return cp;
}

// Unicode White_Space, plus the zero-width characters that render as nothing (U+200B-U+200D, U+2060, U+FEFF).
inline bool is_blank_code_point(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000 ||
         (c >= 0x200B && c <= 0x200D) || c == 0x2060 || c == 0xFEFF;
}

// True when `s` has no code point other than whitespace and zero-width characters (also when empty).
inline bool is_blank_text(std::string_view s) {
  for (std::size_t i = 0; i < s.size();)
    if (!is_blank_code_point(next_code_point(s, i))) return false;
  return true;
}

inline bool has_control_chars(std::string_view s) {
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return true;
  }
  return false;
}

// User ids come from tokens and from requests (participants, DMs): 1-128 bytes, no control characters.
inline bool is_valid_user_id(std::string_view s) { return !s.empty() && s.size() <= 128 && !has_control_chars(s); }

// Sync resource names: 1-64 bytes of [A-Za-z0-9_:.@-], like channel names.
inline bool is_valid_resource(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                    c == ':' || c == '.' || c == '@' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// JSON text for storage and size checks; invalid UTF-8 (impossible after parsing, cheap to be safe) is replaced.
inline std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

}  // namespace tidewire::server::fields
