// Text returned from an export to JS: NUL-terminated, valid until the next export that returns text. The JS
// side (tidewire_api.js) decodes it at once, before anything can call back into wasm.
#pragma once

#include <string>
#include <string_view>

namespace tidewire::bindings {

inline const char* out_text(std::string_view s) {
  static std::string held;
  held.assign(s.data(), s.size());
  return held.c_str();
}

}  // namespace tidewire::bindings
