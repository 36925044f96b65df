// Fuzzes the server's whole message handler (with the presence/chat/sync services wired in, on an in-memory
// database): a connection authenticates, then the input is split on 0xFF bytes into frames; a frame starting
// with 0x00 or 0x01 is binary, anything else text. A second connection shares the hub and receives broadcasts.
// Invariants: nothing crashes, and every JSON message the server sends is valid JSON with a string "type".
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "server/jwt_signer.hpp"
#include "server/message_handler.hpp"
#include "server/service_bridge.hpp"

namespace {

using namespace tidewire::server;

constexpr std::uint64_t kNowMs = 1'700'000'000'000;

class CheckingSink : public SessionSink, public std::enable_shared_from_this<CheckingSink> {
 public:
  void send(std::string message) override { check(message); }
  void deliver(const SharedFrame& frame) override {
    if (!frame->empty() && (*frame)[0] == '\x01') return;  // a binary broadcast
    check(*frame);
  }
  void close(std::uint16_t code, std::string reason) override {
    if (reason.size() > 123 || code < 1000) std::abort();
  }
  std::shared_ptr<Subscriber> subscriber() override { return shared_from_this(); }
  // Inline: World runs services without worker threads, so everything happens on the fuzzer's one thread.
  void post(std::function<void()> fn) override { fn(); }

 private:
  static void check(const std::string& message) {
    const auto j = nlohmann::json::parse(message, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("type") || !j["type"].is_string()) std::abort();
  }
};

struct World {
  World() {
    HandlerLimits limits;
    limits.rate_per_second = 1000;
    limits.rate_burst = 1000;
    limits.max_channels = 8;
    handler = std::make_unique<MessageHandler>(hub, verifier, limits, [this] { return now; });
    ServicesConfig sc;
    sc.db_path = ":memory:";
    // No service worker threads: chat requests and the chat: subscribe check run at once, on this thread, so a
    // run is deterministic and nothing outlives it (the sink's default post() runs continuations inline).
    sc.worker_threads = 0;
    bridge = std::make_unique<ServiceBridge>(hub, *handler, sc, [this] { return now; });
    token = sign_hs256("fuzz-secret", {{"sub", "alice"}, {"exp", static_cast<std::int64_t>(kNowMs / 1000 + 3600)},
                                       {"channels", {"room:*", "chat:*", "user:alice", "s"}}});
  }
  std::uint64_t now = kNowMs;
  JwtVerifier verifier{"fuzz-secret"};
  Hub hub{HubOptions{HistoryLimits{16, 60000}, nullptr}};
  std::unique_ptr<MessageHandler> handler;
  std::unique_ptr<ServiceBridge> bridge;
  std::string token;
};


void run(World& w, const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  auto peer_sink = std::make_shared<CheckingSink>();
  ConnectionProtocolState peer;
  peer.connection_id = "c-peer";
  JwtClaims peer_claims;
  peer_claims.sub = "bob";
  w.handler->on_open(peer, *peer_sink, &peer_claims);
  w.handler->on_text(peer, *peer_sink, R"({"type":"subscribe","channel":"room:1"})");

  auto sink = std::make_shared<CheckingSink>();
  ConnectionProtocolState state;
  state.connection_id = "c-fuzz";
  w.handler->on_open(state, *sink, static_cast<const JwtClaims*>(nullptr));
  // Half the inputs start unauthenticated (exercising the pre-auth paths), half authenticate first.
  if (size > 0 && (data[0] & 1))
    w.handler->on_text(state, *sink, R"({"type":"auth","token":")" + w.token + R"("})");

  std::size_t start = size > 0 ? 1 : 0;
  while (start <= size) {
    std::size_t end = input.find('\xff', start);
    if (end == std::string_view::npos) end = size;
    const std::string_view frame = input.substr(start, end - start);
    if (!frame.empty() && (frame[0] == '\x00' || frame[0] == '\x01'))
      w.handler->on_binary(state, *sink, frame);
    else
      w.handler->on_text(state, *sink, frame);
    w.now += 7;
    start = end + 1;
  }
  w.handler->on_expiry_timer(state, *sink);
  w.handler->on_close(state, *sink);
  w.handler->on_close(peer, *peer_sink);
  w.bridge->services().tick();
}

}  // namespace

// A fresh world per input: runs are independent (reproducible crashes), and the allocations of one run are
// freed by its end, so libFuzzer's leak check does not fire (and slow down) on every input.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  World w;
  run(w, data, size);
  return 0;
}
