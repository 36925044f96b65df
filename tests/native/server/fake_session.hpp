// The one fake connection of the server's unit tests: a FakeSession stands where the transport's WebsocketSession
// stands (a SessionSink, so also a hub Subscriber) and records what reaches it instead of writing it; a
// FakeConnection pairs it with the handler's per-connection state, as a WebsocketSession does. The handler tests
// (message_handler*, access_revocation) drive MessageHandler with FakeConnections; the hub tests subscribe
// FakeSessions directly. Extend it here rather than writing another recording sink in a test file.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "server/message_handler.hpp"
#include "server/session_sink.hpp"

namespace tidewire::server::testing {

class FakeSession : public SessionSink, public std::enable_shared_from_this<FakeSession> {
 public:
  // Everything sent or delivered, oldest first. Frames the hub delivers are kept as the hub shared them, so a test
  // can check that subscribers got the same bytes (encode-once fan-out).
  std::deque<SharedFrame> frames;
  std::optional<std::pair<std::uint16_t, std::string>> closed;  // the last close() asked for
  std::uint64_t expiry_at = 0;                                   // the last arm_expiry_timer() asked for

  void send(std::string message) override { frames.push_back(std::make_shared<const std::string>(std::move(message))); }
  void deliver(const SharedFrame& frame) override { frames.push_back(frame); }
  void close(std::uint16_t code, std::string reason) override { closed.emplace(code, std::move(reason)); }
  std::shared_ptr<Subscriber> subscriber() override { return shared_from_this(); }
  void arm_expiry_timer(std::uint64_t at_ms) override { expiry_at = at_ms; }
  // Inline: these tests run services without worker threads (or wait for them), on one thread.
  void post(std::function<void()> fn) override { fn(); }

  // The oldest message, parsed and taken; null when there is none.
  nlohmann::json take() {
    if (frames.empty()) return nullptr;
    nlohmann::json j = nlohmann::json::parse(*frames.front());
    frames.pop_front();
    return j;
  }
  // The first message of `type` (with `ref` when given), taking it and everything before it; null when none.
  nlohmann::json take(const std::string& type, const std::string& ref = "") {
    while (!frames.empty()) {
      nlohmann::json m = take();
      if (m.value("type", "") == type && (ref.empty() || m.value("ref", "") == ref)) return m;
    }
    return nullptr;
  }
  // Every message so far, parsed and taken.
  std::vector<nlohmann::json> take_all() {
    std::vector<nlohmann::json> out;
    while (!frames.empty()) out.push_back(take());
    return out;
  }
};

// One connection as the message handler sees it: its session and its protocol state.
struct FakeConnection {
  std::shared_ptr<FakeSession> sink = std::make_shared<FakeSession>();
  ConnectionProtocolState state;
};

}  // namespace tidewire::server::testing
