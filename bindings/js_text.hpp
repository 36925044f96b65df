// Text crossing the boundary with JS (the state module, state_bindings.cpp): in as (pointer, length) of UTF-8 that JS wrote into wasm
// memory for the duration of the call; out as NUL-terminated text, valid until the next export that returns
// text (JS decodes it at once, before anything can call back into wasm).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace tidewire::bindings {

// (p, n) from JS; n == 0 may come with any pointer.
inline std::string_view view(const char* p, std::size_t n) {
  return n == 0 ? std::string_view() : std::string_view(p, n);
}

inline const char* out_text(std::string_view s) {
  static std::string held;
  held.assign(s.data(), s.size());
  return held.c_str();
}

}  // namespace tidewire::bindings
