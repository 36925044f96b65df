// Counts the wasm objects JS holds (clients and state containers): a leak test checks it returns to where it
// started once everything is closed (tests/node/client-engine.test.mjs).
#pragma once

namespace tidewire::bindings {

inline int& live_object_count() {
  static int n = 0;
  return n;
}

struct LiveObject {
  LiveObject() { ++live_object_count(); }
  ~LiveObject() { --live_object_count(); }
  LiveObject(const LiveObject&) = delete;
  LiveObject& operator=(const LiveObject&) = delete;
};

}  // namespace tidewire::bindings
