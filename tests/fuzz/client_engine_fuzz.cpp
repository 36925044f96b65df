// Fuzzes the client engine with hostile server frames: an authenticated, subscribed engine receives the input
// as text or binary frames. Nothing may crash, and the engine must stay usable.
#include <cstddef>
#include <cstdint>

#include "client/engine.hpp"
#include "support/null_engine.hpp"

using namespace tidewire::client;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  tidewire::testing::ManualClock clock;
  tidewire::testing::AcceptingTransport transport;
  tidewire::testing::CountingListener listener;
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
