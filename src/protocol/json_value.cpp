#include "protocol/json_value.hpp"

#include <utility>

#include "protocol/json_string.hpp"
#include "protocol/json_writer.hpp"

namespace tidewire::protocol {

namespace {

const std::string kEmptyString;
const std::vector<JsonValue> kNoElements;
const std::vector<JsonValue::Member> kNoMembers;

// 10^0 .. 10^22: every one exact in a double.
constexpr double kPow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                             1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

// mantissa * 10^exp10, without strtod. Exact (one correctly rounded operation) when mantissa <= 2^53 and
// |exp10| <= 22, which covers every number the protocol sends (offsets, timestamps, versions, counts).
// Otherwise a close approximation (an error of a few ulps from chained multiplications), which is enough
// for free-form application data on this control path. Magnitudes beyond the double range are clamped to
// the largest double (RFC 8259 section 6 leaves the range to the implementation): a huge number in some
// application field does not make the whole message unreadable.
double to_double(std::uint64_t mantissa, int exp10) {
  constexpr double kMax = 1.7976931348623157e308;
  if (mantissa == 0 || exp10 < -400) return 0;
  if (exp10 > 330) return kMax;
  double d = static_cast<double>(mantissa);  // correctly rounded
  if (exp10 > 0) {
    for (; exp10 > 22; exp10 -= 22) d *= 1e22;
    d *= kPow10[exp10];
  } else {
    for (; exp10 < -22; exp10 += 22) d /= 1e22;
    d /= kPow10[-exp10];
  }
  return d > kMax ? kMax : d;
}

}  // namespace

// The parser: iterative, with an explicit stack of the open containers (pointers into their parents stay
// valid because a parent only grows after its open child is closed).
class JsonParser {
 public:
  explicit JsonParser(std::string_view text) : p_(text.data()), end_(text.data() + text.size()) {}

  bool parse(JsonValue& root) {
    std::vector<JsonValue*> open;
    JsonValue* target = &root;
    for (;;) {
      // A value goes into *target.
      skip_ws();
      if (p_ == end_) return false;
      const char c = *p_;
      if (c == '{' || c == '[') {
        if (open.size() >= JsonValue::kMaxDepth) return false;  // counts an empty innermost container too
        ++p_;
        target->kind_ = c == '{' ? JsonValue::Kind::kObject : JsonValue::Kind::kArray;
        skip_ws();
        if (p_ != end_ && *p_ == (c == '{' ? '}' : ']')) {
          ++p_;  // empty: complete, fall through to the closing loop
        } else {
          open.push_back(target);
          if (!(target = next_slot(*target))) return false;
          continue;
        }
      } else if (!scalar(*target)) {
        return false;
      }
      // A value is complete: close containers or move to the next slot.
      for (;;) {
        if (open.empty()) {
          skip_ws();
          return p_ == end_;
        }
        skip_ws();
        if (p_ == end_) return false;
        JsonValue& top = *open.back();
        if (*p_ == ',') {
          ++p_;
          if (!(target = next_slot(top))) return false;
          break;
        }
        if (*p_ != (top.is_object() ? '}' : ']')) return false;
        ++p_;
        open.pop_back();
      }
    }
  }

 private:
  void skip_ws() {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }

  bool literal(std::string_view word) {
    if (static_cast<std::size_t>(end_ - p_) < word.size() || std::string_view(p_, word.size()) != word) return false;
    p_ += word.size();
    return true;
  }

  // The slot the container's next value goes into: a new element, or a new member after its key and ':'.
  JsonValue* next_slot(JsonValue& container) {
    if (container.is_array()) {
      container.elements_.emplace_back();
      return &container.elements_.back();
    }
    skip_ws();
    std::string key;
    if (p_ == end_ || *p_ != '"' || !string(key)) return nullptr;
    skip_ws();
    if (p_ == end_ || *p_ != ':') return nullptr;
    ++p_;
    container.members_.push_back({std::move(key), JsonValue()});
    return &container.members_.back().value;
  }

  bool scalar(JsonValue& v) {
    switch (*p_) {
      case '"': v.kind_ = JsonValue::Kind::kString; return string(v.text_);
      case 't': v = JsonValue::boolean(true); return literal("true");
      case 'f': v = JsonValue::boolean(false); return literal("false");
      case 'n': return literal("null");
      default: return number(v);
    }
  }

  static int digit(char c) { return c >= '0' && c <= '9' ? c - '0' : -1; }

  bool number(JsonValue& v) {
    const char* start = p_;
    const bool negative = *p_ == '-';
    if (negative) ++p_;
    if (p_ == end_ || digit(*p_) < 0) return false;
    std::uint64_t mantissa = 0;  // up to 19 significant digits
    int significant = 0, exp10 = 0;
    const auto take = [&](int d, bool fraction) {
      if (significant < 19) {
        mantissa = mantissa * 10 + static_cast<unsigned>(d);
        if (mantissa != 0) ++significant;
        if (fraction) --exp10;
      } else if (!fraction) {
        ++exp10;
      }
    };
    if (*p_ == '0') {
      ++p_;
    } else {
      for (; p_ != end_ && digit(*p_) >= 0; ++p_) take(digit(*p_), false);
    }
    bool integral = true;
    if (p_ != end_ && *p_ == '.') {
      integral = false;
      if (++p_ == end_ || digit(*p_) < 0) return false;
      for (; p_ != end_ && digit(*p_) >= 0; ++p_) take(digit(*p_), true);
    }
    if (p_ != end_ && (*p_ == 'e' || *p_ == 'E')) {
      integral = false;
      ++p_;
      const bool exp_negative = p_ != end_ && *p_ == '-';
      if (p_ != end_ && (*p_ == '-' || *p_ == '+')) ++p_;
      if (p_ == end_ || digit(*p_) < 0) return false;
      int e = 0;
      for (; p_ != end_ && digit(*p_) >= 0; ++p_) {
        if (e < 100000) e = e * 10 + digit(*p_);
      }
      exp10 += exp_negative ? -e : e;
    }
    const double d = to_double(mantissa, exp10);
    v.kind_ = JsonValue::Kind::kNumber;
    v.number_ = negative ? -d : d;
    // An integer literal fits int64 when it has at most 19 digits and is at most 2^63 - 1 (2^63 if negative).
    const std::uint64_t limit = (std::uint64_t{1} << 63) - (negative ? 0 : 1);
    v.integral_ = integral && exp10 == 0 && mantissa <= limit;
    if (v.integral_) {
      v.int_ = negative ? static_cast<std::int64_t>(0 - mantissa) : static_cast<std::int64_t>(mantissa);
    }
    v.text_.assign(start, static_cast<std::size_t>(p_ - start));
    return true;
  }

  // *p_ is the opening quote.
  bool string(std::string& out) { return decode_json_string(p_, end_, out); }

  const char* p_;
  const char* end_;
};

JsonValue JsonValue::boolean(bool b) {
  JsonValue v;
  v.kind_ = Kind::kBool;
  v.int_ = b ? 1 : 0;
  return v;
}

JsonValue JsonValue::number(double d) {
  JsonValue v;
  v.kind_ = Kind::kNumber;
  v.number_ = d;
  if (d > -9007199254740992.0 && d < 9007199254740992.0 && static_cast<double>(static_cast<std::int64_t>(d)) == d) {
    v.integral_ = true;
    v.int_ = static_cast<std::int64_t>(d);
  }
  return v;
}

JsonValue JsonValue::integer(std::int64_t i) {
  JsonValue v;
  v.kind_ = Kind::kNumber;
  v.number_ = static_cast<double>(i);
  v.integral_ = true;
  v.int_ = i;
  return v;
}

JsonValue JsonValue::string(std::string s) {
  JsonValue v;
  v.kind_ = Kind::kString;
  v.text_ = std::move(s);
  return v;
}

JsonValue JsonValue::array() {
  JsonValue v;
  v.kind_ = Kind::kArray;
  return v;
}

JsonValue JsonValue::object() {
  JsonValue v;
  v.kind_ = Kind::kObject;
  return v;
}

bool JsonValue::parse(std::string_view text, JsonValue& out) {
  JsonValue v;
  if (!JsonParser(text).parse(v)) return false;
  out = std::move(v);
  return true;
}

const std::string& JsonValue::as_string() const { return is_string() ? text_ : kEmptyString; }

const std::vector<JsonValue>& JsonValue::elements() const { return is_array() ? elements_ : kNoElements; }

void JsonValue::push_back(JsonValue v) {
  if (!is_array()) *this = array();
  elements_.push_back(std::move(v));
}

std::size_t JsonValue::size() const {
  return is_array() ? elements_.size() : is_object() ? members_.size() : 0;
}

const std::vector<JsonValue::Member>& JsonValue::members() const { return is_object() ? members_ : kNoMembers; }

const JsonValue* JsonValue::find(std::string_view key) const {
  if (!is_object()) return nullptr;
  for (auto it = members_.rbegin(); it != members_.rend(); ++it) {
    if (it->key == key) return &it->value;
  }
  return nullptr;
}

JsonValue* JsonValue::find(std::string_view key) {
  return const_cast<JsonValue*>(static_cast<const JsonValue&>(*this).find(key));
}

JsonValue& JsonValue::set(std::string_view key, JsonValue v) {
  if (!is_object()) *this = object();
  if (JsonValue* existing = find(key)) return *existing = std::move(v);
  members_.push_back({std::string(key), std::move(v)});
  return members_.back().value;
}

bool JsonValue::erase(std::string_view key) {
  const std::size_t before = members_.size();
  if (is_object()) {
    std::size_t kept = 0;
    for (std::size_t i = 0; i < members_.size(); ++i) {
      if (members_[i].key == key) continue;
      if (kept != i) members_[kept] = std::move(members_[i]);
      ++kept;
    }
    members_.resize(kept);
  }
  return members_.size() != before;
}

std::string JsonValue::string_or(std::string_view key, std::string_view fallback) const {
  const JsonValue* v = find(key);
  return std::string(v != nullptr && v->is_string() ? std::string_view(v->text_) : fallback);
}

double JsonValue::number_or(std::string_view key, double fallback) const {
  const JsonValue* v = find(key);
  return v != nullptr && v->is_number() ? v->number_ : fallback;
}

void JsonValue::dump_to(std::string& out) const {
  switch (kind_) {
    case Kind::kNull: out += "null"; break;
    case Kind::kBool: out += int_ != 0 ? "true" : "false"; break;
    case Kind::kNumber:
      if (!text_.empty()) out += text_;
      else if (integral_) append_json_int(out, int_);
      else append_json_double(out, number_);
      break;
    case Kind::kString: append_json_string(out, text_); break;
    case Kind::kArray:
      out.push_back('[');
      for (std::size_t i = 0; i < elements_.size(); ++i) {
        if (i != 0) out.push_back(',');
        elements_[i].dump_to(out);
      }
      out.push_back(']');
      break;
    case Kind::kObject:
      out.push_back('{');
      for (std::size_t i = 0; i < members_.size(); ++i) {
        if (i != 0) out.push_back(',');
        append_json_string(out, members_[i].key);
        out.push_back(':');
        members_[i].value.dump_to(out);
      }
      out.push_back('}');
      break;
  }
}

std::string JsonValue::dump() const {
  std::string out;
  dump_to(out);
  return out;
}

}  // namespace tidewire::protocol
