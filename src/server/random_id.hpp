// Unpredictable identifiers from OpenSSL's CSPRNG.
#pragma once

#include <string>

namespace tidewire::server {

// "c-" followed by 16 lowercase hex digits (64 random bits), e.g. "c-3f9a1c20e1b54d7e".
std::string make_connection_id();
// A stream epoch (docs/PROTOCOL.md section 9): "e-" followed by 16 lowercase hex digits.
std::string make_epoch();

}  // namespace tidewire::server
