// Fuzzes the client engine with hostile server frames: an authenticated, subscribed engine receives the input
// as text frames. Nothing may crash, and the engine must stay usable.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "client/engine.hpp"

namespace {

using namespace tidewire::client;

struct Clock0 final : Clock {
  double now_ms() const override { return now; }
  double wall_ms() const override { return now; }
  double now = 0;
};
struct NullTransport final : Transport {
  SocketId open(const std::string&, const std::vector<std::string>&) override { return ++id; }
  bool send_text(SocketId, std::string_view) override { return true; }
  bool send_binary(SocketId, std::string_view) override { return true; }
  void close(SocketId, std::uint16_t, std::string_view) override {}
  SocketId id = 0;
};
struct NullListener final : EngineListener {
  void on_state(ConnectionState, ConnectionState, std::string_view) override {}
  void on_event_name(std::uint32_t, std::string_view) override {}
  void on_message(std::uint32_t, std::uint32_t, std::string_view p, const MessageMeta&) override { n += p.size(); }
  void on_binary_message(std::uint32_t, std::uint32_t, std::string_view p, const MessageMeta&) override { n += p.size(); }
  void on_gap(std::uint32_t, std::string_view) override {}
  void on_ack(std::uint32_t, bool, std::uint64_t, std::string_view, std::string_view, std::string_view) override {}
  void on_reply(std::uint32_t, bool, std::string_view, std::string_view, std::string_view) override {}
  void on_subscribed(std::uint32_t) override {}
  void on_presence_diff(std::uint32_t, std::string_view) override {}
  void on_error(std::string_view, std::string_view) override {}
  void on_token_request() override {}
  std::size_t n = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Clock0 clock;
  NullTransport transport;
  NullListener listener;
  XorShiftRandom rng(1);
  ClientConfig config;
  config.url = "ws://fuzz/ws";
  Engine engine(config, clock, transport, listener, rng);
  engine.set_token("t");
  std::uint32_t id = 0, ref = 0;
  engine.subscribe("room:1", id);
  engine.on_socket_open(transport.id);
  engine.on_socket_message(transport.id, R"({"type":"auth_success","version":1,"connectionId":"c"})", false);
  engine.publish("room:1", "e", "1", ref);
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  engine.on_socket_message(transport.id, in, size > 0 && (data[0] & 1));
  clock.now += 100000;
  engine.advance();
  engine.unsubscribe(id);
  return 0;
}
