// Interns event names to small ids so the hot path hands JS an integer instead of a string.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tidewire::client {

class EventTable {
 public:
  // Returns the id of `name` (>= 1) and sets `is_new` when it was just added.
  std::uint32_t intern(std::string_view name, bool& is_new) {
    is_new = false;
    if (last_ != 0 && names_[last_ - 1] == name) return last_;
    for (std::size_t i = 0; i < names_.size(); ++i) {
      if (names_[i] == name) return last_ = static_cast<std::uint32_t>(i + 1);
    }
    names_.emplace_back(name);
    is_new = true;
    return last_ = static_cast<std::uint32_t>(names_.size());
  }
  std::string_view name(std::uint32_t id) const {
    return id >= 1 && id <= names_.size() ? std::string_view(names_[id - 1]) : std::string_view();
  }
  std::size_t size() const { return names_.size(); }

 private:
  std::vector<std::string> names_;
  std::uint32_t last_ = 0;
};

}  // namespace tidewire::client
