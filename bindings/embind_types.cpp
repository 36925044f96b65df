// The built-in types embind converts, registered here instead of by Emscripten's libembind (bind.cpp), which
// also registers wide strings, 64-bit integers and every memory_view, and so pulls their JS converters (≈ 1 KB
// gzipped) into the glue. The module links embind's JS with --js-library (bindings/CMakeLists.txt) and not
// libembind. Binding a type that is not registered here fails at module load with "unbound type": register it
// below (the lines are the ones of bind.cpp).
#include <emscripten/bind.h>
#include <emscripten/emscripten.h>

#include <climits>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>

using namespace emscripten;
using namespace emscripten::internal;

namespace {
template <typename T>
void register_integer(const char* name) {
  _embind_register_integer(TypeID<T>::get(), name, sizeof(T), std::numeric_limits<T>::min(),
                           std::numeric_limits<T>::max());
}
}  // namespace

extern "C" {

// embind.js asks for a type's name in its error messages (a C string it frees).
EMSCRIPTEN_KEEPALIVE const char* __getTypeName(const void*) { return strdup("(a type not registered)"); }

EMSCRIPTEN_KEEPALIVE __attribute__((constructor)) void __embind_register_native_and_builtin_types() {
  _embind_register_void(TypeID<void>::get(), "void");
  _embind_register_bool(TypeID<bool>::get(), "bool", sizeof(bool), true, false);
  register_integer<int>("int");
  register_integer<unsigned int>("unsigned int");
  register_integer<long>("long");
  register_integer<unsigned long>("unsigned long");
  _embind_register_float(TypeID<double>::get(), "double", sizeof(double));
  _embind_register_std_string(TypeID<std::string>::get(), "std::string");
  _embind_register_emval(TypeID<val>::get(), "emscripten::val");
}

}  // extern "C"
