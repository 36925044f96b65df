// Zero-allocation scan of one tidewire message's top-level fields (the client's hot path).
//
// The scanner walks the top-level object, records the fields it knows as views into the input, and skips every
// other value (nested objects, arrays, strings with escapes) by structure, without building a DOM. It never
// reads past the input. It checks structure, not full JSON grammar inside skipped values: callers that need a
// fully validated value parse it (the payload is parsed by JSON.parse in JS).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tidewire::protocol {

struct Envelope {
  std::string_view type;     // raw string content (without quotes)
  std::string_view channel;  // raw string content
  std::string_view event;    // raw string content
  std::string_view ref;      // raw string content
  std::string_view from;     // raw string content
  std::string_view code;     // raw string content (error messages)
  std::string_view epoch;    // raw string content
  std::string_view payload;  // the raw JSON text of the value
  std::string_view data;     // the raw JSON text of the value (replies)
  std::uint64_t offset = 0;
  double ts = 0;
  bool has_offset = false;
  bool has_ts = false;
  // True when one of the string views above contains a backslash escape: the raw view is then not the value,
  // and the caller must decode it (slow path).
  bool has_escapes = false;
};

enum class ScanStatus { kOk, kEmpty, kNotObject, kMalformed };

// Scans one message. `in` must hold exactly one JSON object (surrounding whitespace allowed).
ScanStatus scan_envelope(std::string_view in, Envelope& out);

// Cold-path lookups of one top-level field (auth replies, errors, subscribe confirmations; never per message):
// they walk the object like scan_envelope and decode only the value asked for, so the client needs no JSON DOM.
// The raw JSON text of field `name`'s value; empty when absent, when `message` is not an object, or malformed.
std::string_view find_field(std::string_view message, std::string_view name);
// Field `name` as a JSON string, unescaped to UTF-8 (json_string.hpp); false (and `out` unchanged) when absent
// or not a valid string.
bool field_string(std::string_view message, std::string_view name, std::string& out);
// Field `name` as a JSON number; false (and `out` unchanged) when absent or not a number.
bool field_number(std::string_view message, std::string_view name, double& out);
// True only when field `name` is the literal true.
bool field_is_true(std::string_view message, std::string_view name);

// Calls `fn(line)` for every non-empty '\n'-separated message in a frame.
template <typename Fn>
void for_each_message(std::string_view frame, Fn&& fn) {
  std::size_t start = 0;
  while (start < frame.size()) {
    std::size_t end = frame.find('\n', start);
    if (end == std::string_view::npos) end = frame.size();
    std::string_view line = frame.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!line.empty()) fn(line);
    start = end + 1;
  }
}

}  // namespace tidewire::protocol
