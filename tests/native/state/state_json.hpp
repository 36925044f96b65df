// JSON helpers of the state tests: the state containers take and give nlohmann::ordered_json (objects keep their
// key order, as in JavaScript). Inputs are parsed from text (`parsed`) or converted from nlohmann::json built in
// the test (`V`); outputs are compared as nlohmann::json (`N`), or as text (dump(), where key order matters).
#pragma once

#include <string_view>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace tidewire::testing {

inline nlohmann::ordered_json parsed(std::string_view text) {
  nlohmann::ordered_json v = nlohmann::ordered_json::parse(text.begin(), text.end(), nullptr, false);
  EXPECT_FALSE(v.is_discarded()) << text;
  return v;
}
inline nlohmann::ordered_json V(const nlohmann::json& j) { return parsed(j.dump()); }
inline nlohmann::json N(const nlohmann::ordered_json& j) { return nlohmann::json::parse(j.dump()); }

}  // namespace tidewire::testing
