#include "platform/browser_client.hpp"

#include <emscripten/eventloop.h>

#include <cmath>
#include <cstdint>

namespace tidewire::platform {

namespace {
std::uint64_t seed_from_clock(const client::Clock& c) {
  const double t = c.wall_ms() * 1000.0 + c.now_ms();
  return static_cast<std::uint64_t>(t) ^ 0x5DEECE66Dull;
}
}  // namespace

BrowserClient::BrowserClient(client::ClientConfig config, client::EngineListener& listener)
    : rng_(seed_from_clock(clock_)), transport_(*this) {
  engine_ = std::make_unique<client::Engine>(std::move(config), clock_, transport_, listener, rng_);
  page_events::add(this);
}

BrowserClient::~BrowserClient() {
  page_events::remove(this);
  if (timer_id_ != 0) emscripten_clear_timeout(timer_id_);
  engine_.reset();  // closes the socket while the transport is still alive
}

void BrowserClient::socket_open(client::SocketId id) {
  with_engine([&](client::Engine& e) { e.on_socket_open(id); });
}
void BrowserClient::socket_message(client::SocketId id, std::string_view data, bool binary) {
  with_engine([&](client::Engine& e) { e.on_socket_message(id, data, binary); });
}
void BrowserClient::socket_close(client::SocketId id, std::uint16_t code, std::string_view reason) {
  with_engine([&](client::Engine& e) { e.on_socket_close(id, code, reason); });
}
void BrowserClient::socket_error(client::SocketId id) {
  with_engine([&](client::Engine& e) { e.on_socket_error(id); });
}

void BrowserClient::page_visible(bool visible) {
  with_engine([&](client::Engine& e) { e.set_page_visible(visible); });
}
void BrowserClient::page_online(bool online) {
  with_engine([&](client::Engine& e) { e.set_online(online); });
}
void BrowserClient::page_shown() {
  with_engine([](client::Engine& e) { e.probe(); });
}

// One timer for the earliest deadline. It is re-armed only when the deadline moves earlier: a later deadline
// (e.g. the liveness deadline sliding forward with every message) just lets the armed timer fire early,
// which costs one advance() instead of a clear+set per message.
void BrowserClient::arm_timer() {
  const double at = engine_->next_deadline_ms();
  if (timer_id_ != 0 && timer_at_ <= at) return;
  if (timer_id_ != 0) {
    emscripten_clear_timeout(timer_id_);
    timer_id_ = 0;
    timer_at_ = client::kNever;
  }
  if (std::isinf(at)) return;
  const double delay = std::max(0.0, at - clock_.now_ms());
  timer_at_ = at;
  timer_id_ = emscripten_set_timeout(&BrowserClient::on_timer, delay, this);
}

void BrowserClient::on_timer(void* user) {
  auto* self = static_cast<BrowserClient*>(user);
  self->timer_id_ = 0;
  self->timer_at_ = client::kNever;
  self->with_engine([](client::Engine& e) { e.advance(); });
}

}  // namespace tidewire::platform
