// Clock backed by performance.now() (monotonic) and Date.now() (wall clock).
#pragma once

#include <emscripten/emscripten.h>
#include <emscripten/html5.h>

#include "client/clock.hpp"

namespace tidewire::platform {

class BrowserClock final : public client::Clock {
 public:
  double now_ms() const override { return emscripten_get_now(); }
  double wall_ms() const override { return emscripten_date_now(); }
};

}  // namespace tidewire::platform
