// Reading fields of nlohmann::json values without exceptions (the wasm build has none: a throw aborts). Every
// accessor checks the kind first; a missing field or one of another kind reads as the fallback.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace tidewire::state {

using Json = nlohmann::ordered_json;

// The member `key` of an object, or nullptr (absent, or `j` is not an object).
inline const Json* field(const Json& j, const char* key) {
  if (!j.is_object()) return nullptr;
  const auto it = j.find(key);
  return it == j.end() ? nullptr : &*it;
}
inline Json* field(Json& j, const char* key) {
  if (!j.is_object()) return nullptr;
  const auto it = j.find(key);
  return it == j.end() ? nullptr : &*it;
}

// A non-empty string field into `out`; false otherwise.
inline bool string_field(const Json& j, const char* key, std::string& out) {
  const Json* v = field(j, key);
  if (v == nullptr || !v->is_string()) return false;
  out = v->get_ref<const std::string&>();
  return !out.empty();
}

inline std::string string_or(const Json& j, const char* key, const char* fallback) {
  const Json* v = field(j, key);
  return v != nullptr && v->is_string() ? v->get_ref<const std::string&>() : std::string(fallback);
}

inline double number_or(const Json& j, const char* key, double fallback) {
  const Json* v = field(j, key);
  return v != nullptr && v->is_number() ? v->get<double>() : fallback;
}

// An integer (written without fraction or exponent); 0 otherwise.
inline std::int64_t int_of(const Json* v) {
  if (v == nullptr) return 0;
  return v->is_number_integer() ? v->get<std::int64_t>() : 0;  // signed or unsigned
}

// A number as JavaScript would write it: integral values below 2^53 as integers (nlohmann writes a double 1
// as "1.0").
inline Json number(double d) {
  if (d < 9007199254740992.0 && d > -9007199254740992.0 && d == static_cast<double>(static_cast<std::int64_t>(d))) {
    return Json(static_cast<std::int64_t>(d));
  }
  return Json(d);
}

inline bool is_true(const Json* v) { return v != nullptr && v->is_boolean() && v->get<bool>(); }

// The elements of an array, or an empty array for anything else (so a loop over it is always safe).
inline const Json& elements(const Json* v) {
  static const Json kEmpty = Json::array();
  return v != nullptr && v->is_array() ? *v : kEmpty;
}

}  // namespace tidewire::state
