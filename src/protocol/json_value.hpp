// A small JSON DOM for the client's control path: presence, data sync and chat state, and the few control
// messages the engine reads in full (subscribed, auth_success, auth_refreshed, error).
//
// Why not nlohmann::json (which the server keeps using): bundle size. In the wasm module nlohmann was about
// 52 KB of the 187 KB of code, plus ~15 KB of strtod/printf/long-double helpers it pulls in; this DOM is about
// 10 KB of wasm (em++ -Oz, parse + dump + edits, malloc and string code included) and needs none of them:
// numbers are converted by hand (json_value.cpp). It is deliberately small: no iterators, no conversions to
// C++ types, no exceptions, no std::map; objects keep their members in order.
//
//   JsonValue v;
//   if (!JsonValue::parse(R"({"userId":"a","joinedAt":1})", v)) return false;
//   const std::string user = v.string_or("userId", "");   // "a"
//   v.set("status", JsonValue::string("away"));
//   v.dump();                                              // {"userId":"a","joinedAt":1,"status":"away"}
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tidewire::protocol {

class JsonValue {
 public:
  enum class Kind : std::uint8_t { kNull, kBool, kNumber, kString, kArray, kObject };
  struct Member;  // { std::string key; JsonValue value; }

  // Containers nested deeper than this make parse() fail (the parser is iterative; dump and destruction
  // recurse once per level).
  static constexpr std::size_t kMaxDepth = 256;

  JsonValue() = default;  // null
  static JsonValue boolean(bool b);
  // A number. Dumped as an integer when integral with |d| < 2^53 (is_integer() is then true too), otherwise
  // by append_json_double: at most 6 fractional digits.
  static JsonValue number(double d);
  // An integer, dumped exactly.
  static JsonValue integer(std::int64_t i);
  static JsonValue string(std::string s);
  static JsonValue array();
  static JsonValue object();

  // Strict RFC 8259 parse of the whole text (whitespace around it allowed). Returns false on any error,
  // including invalid UTF-8 in strings and nesting deeper than kMaxDepth; `out` is left unchanged then. Never
  // recurses. Numbers beyond the double range read as +-1.7976931348623157e308 (and dump their own text).
  static bool parse(std::string_view text, JsonValue& out);

  Kind kind() const { return kind_; }
  bool is_null() const { return kind_ == Kind::kNull; }
  bool is_bool() const { return kind_ == Kind::kBool; }
  bool is_number() const { return kind_ == Kind::kNumber; }
  bool is_string() const { return kind_ == Kind::kString; }
  bool is_array() const { return kind_ == Kind::kArray; }
  bool is_object() const { return kind_ == Kind::kObject; }
  // A number written without fraction or exponent that fits int64 (or made by integer(), or by number() with
  // an integral value below 2^53).
  bool is_integer() const { return kind_ == Kind::kNumber && integral_; }

  bool as_bool() const { return kind_ == Kind::kBool && int_ != 0; }  // false unless a true bool
  double as_number() const { return kind_ == Kind::kNumber ? number_ : 0; }
  std::int64_t as_int() const { return is_integer() ? int_ : 0; }
  const std::string& as_string() const;  // empty unless a string

  // Arrays.
  const std::vector<JsonValue>& elements() const;  // empty unless an array
  // Appends; a value that is not an array (null included) becomes an empty array first.
  void push_back(JsonValue v);
  std::size_t size() const;  // elements or members; 0 for scalars

  // Objects. Members keep the order they were parsed or inserted in. With duplicate keys (possible only from
  // parsed input) the last one wins, as in JavaScript's JSON.parse; dump() writes them all.
  const std::vector<Member>& members() const;  // empty unless an object
  const JsonValue* find(std::string_view key) const;  // nullptr if absent or not an object
  JsonValue* find(std::string_view key);
  // Replaces the member's value (in place) or appends it; a value that is not an object (null included)
  // becomes an empty object first.
  JsonValue& set(std::string_view key, JsonValue v);
  bool erase(std::string_view key);  // removes every member with that key; false if there was none

  // Optional fields: the member's value when present with the right kind, else `fallback`.
  std::string string_or(std::string_view key, std::string_view fallback) const;
  double number_or(std::string_view key, double fallback) const;

  // Compact JSON. Parsed numbers are written back with their original text (big integers and decimals
  // round-trip exactly); numbers made with number() go through append_json_double (json_writer.hpp).
  void dump_to(std::string& out) const;
  std::string dump() const;

 private:
  friend class JsonParser;

  Kind kind_ = Kind::kNull;
  bool integral_ = false;        // numbers: int_ holds the exact value
  double number_ = 0;
  std::int64_t int_ = 0;         // integer numbers; 1/0 for bools
  std::string text_;             // strings; a parsed number's original text
  std::vector<JsonValue> elements_;
  std::vector<Member> members_;
};

struct JsonValue::Member {
  std::string key;
  JsonValue value;
};

}  // namespace tidewire::protocol
