// A tiny append-only JSON writer for the messages tidewire encodes on hot paths (no DOM, no allocation beyond
// the output string's own growth). Control messages with free-form content are passed through as JSON text by
// the client (the TS layer parses them) and built with nlohmann by the server and the state module. No printf: the wasm module would pull in its formatting code.
#pragma once

#include <charconv>
#include <cstdint>
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
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, static_cast<std::size_t>(r.ptr - buf));
}

inline void append_json_int(std::string& out, std::int64_t v) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, static_cast<std::size_t>(r.ptr - buf));
}

// Appends a double without printf. Integral values are written exactly as integers ("42"); other values get
// at most 6 fractional digits, rounded, trailing zeros trimmed ("0.1", "12.25", "0.333333", 1e-7 -> "0"):
// plenty for what the protocol carries as doubles (timestamps and latencies in milliseconds), but not a round
// trip for arbitrary doubles. Magnitudes of 2^63 and more (never on the wire) are written approximately as
// 15 significant digits and an exponent ("1e300"). Non-finite values become 0.
inline void append_json_double(std::string& out, double v) {
  if (!(v == v) || v > 1.7976931348623157e308 || v < -1.7976931348623157e308) v = 0;
  const bool negative = v < 0;
  double a = negative ? -v : v;
  if (a >= 9223372036854775808.0) {  // 2^63
    int exp10 = 0;  // down to 15 significant digits (like %.15g), in few exact-divisor steps
    for (; a >= 1e39; a /= 1e22) exp10 += 22;
    for (; a >= 1e15; a /= 10) ++exp10;
    auto digits = static_cast<std::uint64_t>(a + 0.5);
    for (; digits % 10 == 0; digits /= 10) ++exp10;
    if (negative) out.push_back('-');
    append_json_uint(out, digits);
    out.push_back('e');
    append_json_int(out, exp10);
    return;
  }
  auto whole = static_cast<std::uint64_t>(a);
  auto micros = static_cast<std::uint64_t>((a - static_cast<double>(whole)) * 1e6 + 0.5);
  if (micros >= 1000000) {
    ++whole;
    micros = 0;
  }
  if (negative && (whole != 0 || micros != 0)) out.push_back('-');
  append_json_uint(out, whole);
  if (micros == 0) return;
  char frac[7] = {'.', '0', '0', '0', '0', '0', '0'};
  for (int i = 6; i > 0; --i, micros /= 10) frac[i] = static_cast<char>('0' + micros % 10);
  std::size_t n = 7;
  while (frac[n - 1] == '0') --n;
  out.append(frac, n);
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
