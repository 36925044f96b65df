#include "client/heartbeat.hpp"

#include <algorithm>
#include <limits>

namespace tidewire::client {

namespace {
constexpr double kInf = std::numeric_limits<double>::infinity();
}

void Heartbeat::start(double mono, double wall) {
  running_ = true;
  probe_requested_ = false;
  probe_sent_mono_ = -1;
  last_rx_wall_ = wall;
  next_ping_mono_ = config_.interval_ms > 0 ? mono + config_.interval_ms : kInf;
  last_poll_mono_ = mono;
  last_poll_wall_ = wall;
}

void Heartbeat::stop() {
  running_ = false;
  probe_requested_ = false;
  probe_sent_mono_ = -1;
}

void Heartbeat::on_receive(double, double wall) {
  last_rx_wall_ = wall;
  probe_sent_mono_ = -1;  // any data proves the socket alive
}

Heartbeat::Action Heartbeat::poll(double mono, double wall) {
  if (!running_) return Action::kNone;
  // The machine slept: the wall clock moved on while the monotonic clock (and our timers) stood still.
  if ((wall - last_poll_wall_) - (mono - last_poll_mono_) > config_.time_jump_ms) probe_requested_ = true;
  last_poll_mono_ = mono;
  last_poll_wall_ = wall;

  if (probe_sent_mono_ >= 0) {
    if (mono - probe_sent_mono_ >= config_.probe_timeout_ms) return Action::kDead;
    return Action::kNone;
  }
  const bool silent = config_.timeout_ms > 0 && wall - last_rx_wall_ >= config_.timeout_ms;
  if (silent || probe_requested_) {
    probe_requested_ = false;
    probe_sent_mono_ = mono;
    if (config_.interval_ms > 0) next_ping_mono_ = mono + config_.interval_ms;
    return Action::kSendPing;
  }
  if (mono >= next_ping_mono_) {
    next_ping_mono_ = mono + config_.interval_ms;
    return Action::kSendPing;
  }
  return Action::kNone;
}

double Heartbeat::next_deadline(double mono, double wall) const {
  if (!running_) return kInf;
  if (probe_requested_) return mono;
  if (probe_sent_mono_ >= 0) return probe_sent_mono_ + config_.probe_timeout_ms;
  double d = next_ping_mono_;
  if (config_.timeout_ms > 0) d = std::min(d, mono + std::max(0.0, last_rx_wall_ + config_.timeout_ms - wall));
  return d;
}

}  // namespace tidewire::client
