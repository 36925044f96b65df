// Core micro-benchmarks: envelope scan and engine dispatch (per incoming message).
#include <benchmark/benchmark.h>

#include <string>

#include "client/backoff.hpp"
#include "client/engine.hpp"
#include "client/presence_state.hpp"
#include "protocol/envelope.hpp"
#include "protocol/messages.hpp"

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

// Publishing while disconnected: encode into the outbox, then flush it on connect (per message).
void BM_OutboxQueueAndFlush(benchmark::State& state) {
  NullClock clock;
  NullTransport transport;
  CountingListener listener;
  tidewire::client::XorShiftRandom rng(1);
  tidewire::client::ClientConfig config;
  config.url = "ws://x/ws";
  config.outbox_max_messages = 1u << 20;
  config.outbox_max_bytes = 1u << 30;
  const std::string payload = R"({"seq":1,"text":"the quick brown fox jumps over the lazy dog"})";
  for (auto _ : state) {
    state.PauseTiming();
    tidewire::client::Engine engine(config, clock, transport, listener, rng);
    engine.set_token("t");
    std::uint32_t id = 0, ref = 0;
    engine.subscribe("bench", id);
    state.ResumeTiming();
    for (int i = 0; i < 100; ++i) engine.publish("bench", "tick", payload, ref);
    engine.on_socket_open(1);
    engine.on_socket_message(1, R"({"type":"auth_success","version":1,"connectionId":"c"})", false);
    benchmark::DoNotOptimize(engine.inflight_count());
  }
  state.SetItemsProcessed(state.iterations() * 100);
}
BENCHMARK(BM_OutboxQueueAndFlush);

void BM_BackoffDelay(benchmark::State& state) {
  tidewire::client::XorShiftRandom rng(7);
  const tidewire::client::BackoffPolicy policy{};
  std::uint32_t attempt = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(tidewire::client::backoff_delay(policy, attempt, rng));
    attempt = (attempt + 1) & 15;
  }
}
BENCHMARK(BM_BackoffDelay);

// One presence diff (a join and a leave) applied to a channel of 100 members.
void BM_PresenceDiff(benchmark::State& state) {
  tidewire::client::PresenceState presence;
  nlohmann::json members = nlohmann::json::array();
  for (int i = 0; i < 100; ++i) members.push_back({{"userId", "u" + std::to_string(i)}, {"joinedAt", i}});
  presence.apply_state(members);
  const auto join = nlohmann::json::parse(R"({"joins":[{"userId":"x","status":"away","joinedAt":500}]})");
  const auto leave = nlohmann::json::parse(R"({"leaves":[{"userId":"x"}]})");
  for (auto _ : state) {
    presence.apply_diff(join);
    presence.apply_diff(leave);
  }
  benchmark::DoNotOptimize(presence.online_count());
  state.SetItemsProcessed(state.iterations() * 2);
}
BENCHMARK(BM_PresenceDiff);

// The server encodes each broadcast once (then shares the bytes with every subscriber).
void BM_ServerBroadcastEncode(benchmark::State& state) {
  std::string out;
  const std::string payload = R"({"seq":123456,"ts":1763768151123,"text":"the quick brown fox jumps over the lazy dog"})";
  for (auto _ : state) {
    out.clear();
    tidewire::protocol::Broadcast b;
    b.channel = "bench";
    b.event = "tick";
    b.offset = 123456;
    b.ts_ms = 1763768151123ull;
    b.from = "publisher";
    b.payload_json = payload;
    tidewire::protocol::encode_broadcast(out, b);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * out.size()));
}
BENCHMARK(BM_ServerBroadcastEncode);

}  // namespace

BENCHMARK_MAIN();
