// Decoding one JSON string literal (RFC 8259 section 7) into UTF-8: escapes, \uXXXX with surrogate pairs, and
// strict UTF-8 validation of the raw bytes. Used by the engine's cold-path field lookups (envelope.hpp).
#pragma once

#include <string>

namespace tidewire::protocol {

// `p` is at the opening quote. On success appends the decoded text to `out`, leaves `p` just past the closing
// quote and returns true; false on a malformed literal (then `p` and `out` are unspecified).
bool decode_json_string(const char*& p, const char* end, std::string& out);

}  // namespace tidewire::protocol
