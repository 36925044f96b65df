// Drives the sans-IO engine in a browser or Node: owns the WebSocket transport, the clock and one timer that
// is armed for the engine's next deadline. The bindings wrap this class; nothing else knows Emscripten.
#pragma once

#include <memory>

#include "client/engine.hpp"
#include "platform/browser_clock.hpp"
#include "platform/browser_transport.hpp"
#include "platform/page_events.hpp"

namespace tidewire::platform {

class BrowserClient final : private SocketEvents, private PageEventSink {
 public:
  BrowserClient(client::ClientConfig config, client::EngineListener& listener);
  ~BrowserClient() override;
  BrowserClient(const BrowserClient&) = delete;
  BrowserClient& operator=(const BrowserClient&) = delete;

  // Runs `fn(engine)` and then re-arms the timer: every call into the engine goes through here.
  template <typename Fn>
  decltype(auto) with_engine(Fn&& fn) {
    struct Rearm {
      BrowserClient& self;
      ~Rearm() { self.arm_timer(); }
    } rearm{*this};
    return fn(*engine_);
  }
  const client::Engine& engine() const { return *engine_; }

 private:
  void socket_open(client::SocketId id) override;
  void socket_message(client::SocketId id, std::string_view data, bool binary) override;
  void socket_close(client::SocketId id, std::uint16_t code, std::string_view reason) override;
  void socket_error(client::SocketId id) override;

  void page_visible(bool visible) override;
  void page_online(bool online) override;
  void page_shown() override;

  // Out of line on purpose: every call into the engine ends here, and inlining it into each entry point costs
  // ~0.8 KB of wasm apiece.
  [[gnu::noinline]] void arm_timer();
  static void on_timer(void* user);

  BrowserClock clock_;
  client::XorShiftRandom rng_;
  BrowserTransport transport_;
  std::unique_ptr<client::Engine> engine_;
  long timer_id_ = 0;
  double timer_at_ = client::kNever;
};

}  // namespace tidewire::platform
