// Converts between nlohmann::json (handy for building inputs and inspecting outputs in tests) and the client's
// JsonValue, through JSON text. Tests only: the client core does not use nlohmann.
#pragma once

#include <string_view>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "protocol/json_value.hpp"

namespace tidewire::testing {

inline protocol::JsonValue V(const nlohmann::json& j) {
  protocol::JsonValue v;
  EXPECT_TRUE(protocol::JsonValue::parse(j.dump(), v)) << j.dump();
  return v;
}

inline protocol::JsonValue parsed(std::string_view text) {
  protocol::JsonValue v;
  EXPECT_TRUE(protocol::JsonValue::parse(text, v)) << text;
  return v;
}

inline nlohmann::json N(const protocol::JsonValue& v) { return nlohmann::json::parse(v.dump()); }

}  // namespace tidewire::testing
