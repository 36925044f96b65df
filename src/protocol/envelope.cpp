#include "protocol/envelope.hpp"

#include <utility>

#include "protocol/json_string.hpp"

namespace tidewire::protocol {
namespace {

struct Cursor {
  const char* p;
  const char* end;
};

inline bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

inline void skip_ws(Cursor& c) {
  while (c.p < c.end && is_ws(*c.p)) ++c.p;
}

// c.p is at the opening quote. On success c.p is just past the closing quote.
bool scan_string(Cursor& c, std::string_view& out, bool& escaped) {
  ++c.p;
  const char* start = c.p;
  while (c.p < c.end) {
    const char ch = *c.p;
    if (ch == '"') {
      out = std::string_view(start, static_cast<std::size_t>(c.p - start));
      ++c.p;
      return true;
    }
    if (ch == '\\') {
      if (c.end - c.p < 2) return false;
      escaped = true;
      c.p += 2;
      continue;
    }
    if (static_cast<unsigned char>(ch) < 0x20) return false;
    ++c.p;
  }
  return false;
}

// Skips one JSON value by structure. Iterative, so hostile nesting cannot exhaust the stack.
bool skip_value(Cursor& c) {
  if (c.p >= c.end) return false;
  const char first = *c.p;
  std::string_view ignored;
  bool esc = false;
  if (first == '"') return scan_string(c, ignored, esc);
  if (first == '{' || first == '[') {
    std::size_t depth = 0;
    while (c.p < c.end) {
      const char ch = *c.p;
      if (ch == '"') {
        if (!scan_string(c, ignored, esc)) return false;
        continue;
      }
      if (ch == '{' || ch == '[') {
        ++depth;
      } else if (ch == '}' || ch == ']') {
        --depth;
        if (depth == 0) {
          ++c.p;
          return true;
        }
      }
      ++c.p;
    }
    return false;
  }
  const char* s = c.p;
  while (c.p < c.end && *c.p != ',' && *c.p != '}' && *c.p != ']' && !is_ws(*c.p)) ++c.p;
  return c.p > s;
}

bool parse_uint(Cursor& c, std::uint64_t& out) {
  const char* s = c.p;
  std::uint64_t v = 0;
  while (c.p < c.end && *c.p >= '0' && *c.p <= '9') {
    const std::uint64_t d = static_cast<std::uint64_t>(*c.p - '0');
    if (v > (UINT64_MAX - d) / 10) return false;  // overflow
    v = v * 10 + d;
    ++c.p;
  }
  if (c.p == s) return false;
  out = v;
  return true;
}

// A JSON number as a double. Precise for integers up to 2^53 and for the millisecond timestamps we carry.
bool parse_number(Cursor& c, double& out) {
  const char* s = c.p;
  bool neg = false;
  if (c.p < c.end && *c.p == '-') {
    neg = true;
    ++c.p;
  }
  double v = 0;
  const char* digits = c.p;
  while (c.p < c.end && *c.p >= '0' && *c.p <= '9') v = v * 10 + (*c.p++ - '0');
  if (c.p == digits) {
    c.p = s;
    return false;
  }
  if (c.p < c.end && *c.p == '.') {
    ++c.p;
    double scale = 0.1;
    while (c.p < c.end && *c.p >= '0' && *c.p <= '9') {
      v += (*c.p++ - '0') * scale;
      scale *= 0.1;
    }
  }
  if (c.p < c.end && (*c.p == 'e' || *c.p == 'E')) {
    ++c.p;
    bool eneg = false;
    if (c.p < c.end && (*c.p == '+' || *c.p == '-')) eneg = (*c.p++ == '-');
    int e = 0;
    while (c.p < c.end && *c.p >= '0' && *c.p <= '9') {
      if (e < 400) e = e * 10 + (*c.p - '0');
      ++c.p;
    }
    double m = 1;
    for (int i = 0; i < e && m < 1e308; ++i) m *= 10;
    v = eneg ? v / m : v * m;
  }
  out = neg ? -v : v;
  return true;
}

bool key_is(std::string_view key, std::string_view name) { return key == name; }

enum class FieldStep { kNext, kStop, kBad };

// Walks the top-level object of `in`: for each field, on_field(key, key_escaped, c) is called with `c` at the
// value, and consumes it (kNext), ends the walk early (kStop: kOk) or refuses it (kBad: kMalformed). One walk for
// the hot scan and the cold field lookups, inlined into each.
template <typename OnField>
ScanStatus walk_object(std::string_view in, OnField&& on_field) {
  Cursor c{in.data(), in.data() + in.size()};
  skip_ws(c);
  if (c.p >= c.end) return ScanStatus::kEmpty;
  if (*c.p != '{') return ScanStatus::kNotObject;
  ++c.p;
  skip_ws(c);
  if (c.p < c.end && *c.p == '}') {
    ++c.p;
    skip_ws(c);
    return c.p == c.end ? ScanStatus::kOk : ScanStatus::kMalformed;
  }
  while (c.p < c.end) {
    skip_ws(c);
    if (c.p >= c.end || *c.p != '"') return ScanStatus::kMalformed;
    std::string_view key;
    bool key_escaped = false;
    if (!scan_string(c, key, key_escaped)) return ScanStatus::kMalformed;
    skip_ws(c);
    if (c.p >= c.end || *c.p != ':') return ScanStatus::kMalformed;
    ++c.p;
    skip_ws(c);
    if (c.p >= c.end) return ScanStatus::kMalformed;
    switch (on_field(key, key_escaped, c)) {
      case FieldStep::kStop: return ScanStatus::kOk;
      case FieldStep::kBad: return ScanStatus::kMalformed;
      case FieldStep::kNext: break;
    }
    skip_ws(c);
    if (c.p >= c.end) return ScanStatus::kMalformed;
    if (*c.p == ',') {
      ++c.p;
      continue;
    }
    if (*c.p == '}') {
      ++c.p;
      skip_ws(c);
      return c.p == c.end ? ScanStatus::kOk : ScanStatus::kMalformed;
    }
    return ScanStatus::kMalformed;
  }
  return ScanStatus::kMalformed;
}

}  // namespace

ScanStatus scan_envelope(std::string_view in, Envelope& out) {
  out = Envelope{};
  return walk_object(in, [&out](std::string_view key, bool key_escaped, Cursor& c) {
    if (key_escaped) key = std::string_view();  // an escaped key is never one of ours
    const char* value_start = c.p;
    std::string_view* str_field = nullptr;
    switch (key.size()) {
      case 3:
        if (key_is(key, "ref")) str_field = &out.ref;
        break;
      case 4:
        if (key_is(key, "type")) str_field = &out.type;
        else if (key_is(key, "from")) str_field = &out.from;
        else if (key_is(key, "code")) str_field = &out.code;
        break;
      case 5:
        if (key_is(key, "event")) str_field = &out.event;
        else if (key_is(key, "epoch")) str_field = &out.epoch;
        break;
      case 7:
        if (key_is(key, "channel")) str_field = &out.channel;
        break;
      default: break;
    }

    if (str_field != nullptr && *c.p == '"') {
      if (!scan_string(c, *str_field, out.has_escapes)) return FieldStep::kBad;
    } else if ((key.size() == 7 && key_is(key, "payload")) || (key.size() == 4 && key_is(key, "data"))) {
      if (!skip_value(c)) return FieldStep::kBad;
      (key.size() == 4 ? out.data : out.payload) =
          std::string_view(value_start, static_cast<std::size_t>(c.p - value_start));
    } else if (key.size() == 6 && key_is(key, "offset") && *c.p >= '0' && *c.p <= '9') {
      Cursor probe = c;
      if (parse_uint(probe, out.offset) && (probe.p == c.end || !(*probe.p == '.' || *probe.p == 'e'))) {
        out.has_offset = true;
        c = probe;
      } else if (!skip_value(c)) {
        return FieldStep::kBad;
      }
    } else if (key.size() == 2 && key_is(key, "ts") && (*c.p == '-' || (*c.p >= '0' && *c.p <= '9'))) {
      if (!parse_number(c, out.ts)) return FieldStep::kBad;
      out.has_ts = true;
    } else {
      if (!skip_value(c)) return FieldStep::kBad;
    }
    return FieldStep::kNext;
  });
}

std::string_view find_field(std::string_view message, std::string_view name) {
  std::string_view found;
  walk_object(message, [&](std::string_view key, bool key_escaped, Cursor& c) {
    const char* value_start = c.p;
    if (!skip_value(c)) return FieldStep::kBad;
    if (key_escaped || key != name) return FieldStep::kNext;
    found = std::string_view(value_start, static_cast<std::size_t>(c.p - value_start));
    return FieldStep::kStop;
  });
  return found;
}

bool field_string(std::string_view message, std::string_view name, std::string& out) {
  const std::string_view raw = find_field(message, name);
  if (raw.empty() || raw.front() != '"') return false;
  const char* p = raw.data();
  std::string decoded;
  if (!decode_json_string(p, raw.data() + raw.size(), decoded)) return false;
  out = std::move(decoded);
  return true;
}

bool field_number(std::string_view message, std::string_view name, double& out) {
  const std::string_view raw = find_field(message, name);
  Cursor c{raw.data(), raw.data() + raw.size()};
  double value = 0;
  if (raw.empty() || !parse_number(c, value) || c.p != c.end) return false;
  out = value;
  return true;
}

bool field_is_true(std::string_view message, std::string_view name) { return find_field(message, name) == "true"; }

}  // namespace tidewire::protocol
