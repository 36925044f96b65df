// Base64url without padding (RFC 4648 section 5), as JWTs use it. The decoder is strict: only the 64-letter
// alphabet, no padding, no whitespace, and the unused low bits of the last character must be zero, so every
// token has exactly one spelling.
#pragma once

#include <string>
#include <string_view>

namespace tidewire::server {

std::string base64url_encode(std::string_view bytes);

// Returns false (and leaves `out` unspecified) on any byte outside the alphabet or a non-canonical ending.
bool base64url_decode(std::string_view text, std::string& out);

}  // namespace tidewire::server
