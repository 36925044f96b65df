// Time comes in through this interface so tests can drive it by hand (a virtual clock) and the browser build
// can use performance.now().
#pragma once

namespace tidewire::client {

class Clock {
 public:
  virtual ~Clock() = default;
  // Monotonic milliseconds (any origin).
  virtual double now_ms() const = 0;
  // Wall-clock milliseconds since the Unix epoch.
  virtual double wall_ms() const = 0;
};

}  // namespace tidewire::client
