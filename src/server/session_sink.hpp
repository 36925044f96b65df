// What the message handler needs from a connection: a way to queue messages and to close it. The Beast session
// implements it; tests use a recording fake. Being a hub Subscriber too lets the handler join channels.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "server/hub.hpp"

namespace tidewire::server {

class SessionSink : public Subscriber {
 public:
  // Queues one message (a JSON object, no trailing newline). Thread-safe.
  virtual void send(std::string message) = 0;
  // Sends what is already queued, then closes with `code` and `reason` (at most 123 bytes). Thread-safe.
  virtual void close(std::uint16_t code, std::string reason) = 0;
  // This connection as a hub subscriber (the hub keeps a weak reference). Must point at this same object.
  virtual std::shared_ptr<Subscriber> subscriber() = 0;
  // This session, shared: what a callback that answers later keeps (subscriber() is this same object).
  std::shared_ptr<SessionSink> shared() { return std::static_pointer_cast<SessionSink>(subscriber()); }
  // Asks for MessageHandler::on_expiry_timer() at `at_ms` (ms since the epoch), replacing an earlier request
  // (token expiry, section 8). Default: no timer (tests call on_expiry_timer themselves).
  virtual void arm_expiry_timer(std::uint64_t at_ms) { (void)at_ms; }
  // Runs `fn` on this connection's own thread (where its ConnectionProtocolState may be touched), later, inside
  // guard(); the session stays alive until then. Any thread. For work that comes back from a service worker
  // (the chat:<roomId> subscribe check). No default: running it inline on the caller's thread is a data race
  // as soon as services run on worker threads (it was one, in HTTP sessions), so every sink says what it does.
  virtual void post(std::function<void()> fn) = 0;
};

}  // namespace tidewire::server
