// Liveness of the socket, judged by wall-clock deltas so that throttled timers (background tabs) cause neither
// false timeouts nor missed dead sockets.
//
// - A regular ping every `interval_ms` measures latency and keeps data flowing.
// - Silence (no data for `timeout_ms` of wall-clock time), a detected time jump (the wall clock moved much more
//   than the monotonic one: the machine slept), or an explicit request (page visible, online, pageshow) sends
//   a probe ping. Only an unanswered probe, `probe_timeout_ms` after it was sent, declares the socket dead.
//   A late timer therefore can only cause a probe, never a false disconnect.
#pragma once

#include <cstdint>

namespace tidewire::client {

class Heartbeat {
 public:
  struct Config {
    double interval_ms = 30000;
    double timeout_ms = 60000;
    double probe_timeout_ms = 5000;
    double time_jump_ms = 5000;  // wall-clock minus monotonic drift that counts as a jump
  };
  enum class Action : std::uint8_t { kNone, kSendPing, kDead };

  explicit Heartbeat(Config c) : config_(c) {}

  void start(double mono, double wall);
  void stop();
  void on_receive(double mono, double wall);
  void request_probe() { probe_requested_ = true; }
  // What to do now. Call at every timer tick.
  Action poll(double mono, double wall);
  // Monotonic time of the next thing poll() would act on (infinity when stopped).
  double next_deadline(double mono, double wall) const;
  bool running() const { return running_; }
  bool probe_outstanding() const { return probe_sent_mono_ >= 0; }

 private:
  Config config_;
  bool running_ = false;
  bool probe_requested_ = false;
  double last_rx_wall_ = 0;
  double next_ping_mono_ = 0;
  double probe_sent_mono_ = -1;
  double last_poll_mono_ = 0;
  double last_poll_wall_ = 0;
};

}  // namespace tidewire::client
