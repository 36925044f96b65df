// Fuzz harness helper: aborts when a view a parser returned does not lie inside its input.
#pragma once

#include <cstdlib>
#include <string_view>

namespace tidewire::fuzz {

inline void check_inside(std::string_view in, std::string_view v) {
  if (v.empty()) return;
  if (v.data() < in.data() || v.data() + v.size() > in.data() + in.size()) std::abort();
}

}  // namespace tidewire::fuzz
