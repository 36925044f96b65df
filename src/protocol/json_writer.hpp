// A tiny append-only JSON writer for the messages tidewire encodes on hot paths (no DOM, no allocation beyond
// the output string's own growth). Control messages with free-form content may use nlohmann instead.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace tidewire::protocol {

// Appends `s` as a JSON string literal (with quotes), escaping what RFC 8259 requires.
inline void append_json_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (u < 0x20) {
          out += "\\u00";
          out.push_back(kHex[u >> 4]);
          out.push_back(kHex[u & 0xf]);
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
}

inline void append_json_uint(std::string& out, std::uint64_t v) {
  char buf[24];
  int n = std::snprintf(buf, sizeof buf, "%llu", static_cast<unsigned long long>(v));
  out.append(buf, static_cast<std::size_t>(n));
}

inline void append_json_int(std::string& out, std::int64_t v) {
  char buf[24];
  int n = std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(v));
  out.append(buf, static_cast<std::size_t>(n));
}

// Appends a finite double with enough digits to round-trip; non-finite values become 0.
inline void append_json_double(std::string& out, double v) {
  if (!(v == v) || v > 1.7976931348623157e308 || v < -1.7976931348623157e308) v = 0;
  char buf[32];
  int n = std::snprintf(buf, sizeof buf, "%.17g", v);
  out.append(buf, static_cast<std::size_t>(n));
}

// Builds one JSON object field by field: w.field("type").str("ping"); ... w.close().
class JsonObjectWriter {
 public:
  explicit JsonObjectWriter(std::string& out) : out_(out) { out_.push_back('{'); }

  JsonObjectWriter& key(std::string_view k) {
    if (!first_) out_.push_back(',');
    first_ = false;
    append_json_string(out_, k);
    out_.push_back(':');
    return *this;
  }
  JsonObjectWriter& str(std::string_view k, std::string_view v) {
    key(k);
    append_json_string(out_, v);
    return *this;
  }
  JsonObjectWriter& uint(std::string_view k, std::uint64_t v) {
    key(k);
    append_json_uint(out_, v);
    return *this;
  }
  JsonObjectWriter& number(std::string_view k, double v) {
    key(k);
    append_json_double(out_, v);
    return *this;
  }
  // `json` must already be valid JSON text.
  JsonObjectWriter& raw(std::string_view k, std::string_view json) {
    key(k);
    out_.append(json);
    return *this;
  }
  void close() { out_.push_back('}'); }

 private:
  std::string& out_;
  bool first_ = true;
};

}  // namespace tidewire::protocol
