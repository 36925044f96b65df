// Core micro-benchmarks: envelope scan and engine dispatch (per incoming message).
#include <benchmark/benchmark.h>

#include <string>

#include "client/engine.hpp"
#include "protocol/envelope.hpp"

namespace {

const std::string kMessage =
    R"({"type":"channel_message","channel":"bench","event":"tick","offset":123456,"ts":1763768151123,)"
    R"("from":"server","payload":{"seq":123456,"ts":1763768151123,"text":"the quick brown fox jumps over the lazy dog 0123456789"}})";

void BM_EnvelopeScan(benchmark::State& state) {
  tidewire::protocol::Envelope e;
  for (auto _ : state) {
    auto st = tidewire::protocol::scan_envelope(kMessage, e);
    benchmark::DoNotOptimize(st);
    benchmark::DoNotOptimize(e.payload.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kMessage.size()));
}
BENCHMARK(BM_EnvelopeScan);

struct NullClock final : tidewire::client::Clock {
  double now_ms() const override { return 0; }
  double wall_ms() const override { return 0; }
};
struct NullTransport final : tidewire::client::Transport {
  tidewire::client::SocketId open(const std::string&, const std::vector<std::string>&) override { return 1; }
  bool send_text(tidewire::client::SocketId, std::string_view) override { return true; }
  bool send_binary(tidewire::client::SocketId, std::string_view) override { return true; }
  void close(tidewire::client::SocketId, std::uint16_t, std::string_view) override {}
};
struct CountingListener final : tidewire::client::EngineListener {
  void on_state(tidewire::client::ConnectionState, tidewire::client::ConnectionState, std::string_view) override {}
  void on_event_name(std::uint32_t, std::string_view) override {}
  void on_message(std::uint32_t, std::uint32_t, std::string_view p, const tidewire::client::MessageMeta&) override {
    bytes += p.size();
  }
  void on_binary_message(std::uint32_t, std::uint32_t, std::string_view, const tidewire::client::MessageMeta&) override {}
  void on_gap(std::uint32_t, std::string_view) override {}
  void on_ack(std::uint32_t, bool, std::uint64_t, std::string_view, std::string_view, std::string_view) override {}
  void on_reply(std::uint32_t, bool, std::string_view, std::string_view, std::string_view) override {}
  void on_subscribed(std::uint32_t) override {}
  void on_presence_diff(std::uint32_t, std::string_view) override {}
  void on_error(std::string_view, std::string_view) override {}
  void on_token_request() override {}
  std::size_t bytes = 0;
};

void BM_EngineDispatch(benchmark::State& state) {
  NullClock clock;
  NullTransport transport;
  CountingListener listener;
  tidewire::client::XorShiftRandom rng(1);
  tidewire::client::ClientConfig config;
  config.url = "ws://x/ws";
  tidewire::client::Engine engine(config, clock, transport, listener, rng);
  engine.set_token("t");
  std::uint32_t id = 0;
  engine.subscribe("bench", id);
  engine.on_socket_open(1);
  engine.on_socket_message(1, R"({"type":"auth_success","version":1,"connectionId":"c"})", false);
  for (auto _ : state) engine.on_socket_message(1, kMessage, false);
  benchmark::DoNotOptimize(listener.bytes);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EngineDispatch);

}  // namespace

BENCHMARK_MAIN();
