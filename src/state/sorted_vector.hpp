// Helpers for small maps kept as a vector sorted by key: binary search and an insert that needs no
// vector::insert. In wasm they are far less code than std::map / std::unordered_map (whose node, rebalance
// and rehash code each instantiation repeats), and for the client's state (presence members, chat messages,
// typing users, sync items: tens to thousands of entries, changed at human rates) they are as fast or faster.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

namespace tidewire::state {

// The index of the first element for which `before(element)` (element < the key sought) is false.
template <typename T, typename Before>
std::size_t lower_index(const std::vector<T>& v, Before before) {
  std::size_t lo = 0, hi = v.size();
  while (lo < hi) {
    const std::size_t mid = lo + (hi - lo) / 2;
    if (before(v[mid])) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

// Inserts `x` at index `i`: appended, then the tail moves up one slot.
template <typename T>
void insert_at(std::vector<T>& v, std::size_t i, T&& x) {
  v.push_back(std::move(x));
  std::size_t j = v.size() - 1;
  if (j == i) return;
  T moved = std::move(v[j]);
  for (; j > i; --j) v[j] = std::move(v[j - 1]);
  v[i] = std::move(moved);
}

}  // namespace tidewire::state
