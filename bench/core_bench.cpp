// Core micro-benchmarks: envelope scan and engine dispatch (per incoming message).
#include <benchmark/benchmark.h>

#include <string>

#include "client/backoff.hpp"
#include "client/engine.hpp"
#include "state/presence_state.hpp"
#include "protocol/envelope.hpp"
#include "protocol/messages.hpp"
#include "support/null_engine.hpp"

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

using NullClock = tidewire::testing::ManualClock;
using NullTransport = tidewire::testing::AcceptingTransport;
using tidewire::testing::CountingListener;

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
  tidewire::state::PresenceState presence;
  using tidewire::state::Json;
  Json members = Json::array();
  for (int i = 0; i < 100; ++i) members.push_back(Json{{"userId", "u" + std::to_string(i)}, {"joinedAt", i}});
  presence.apply_state(members);
  const Json join = Json::parse(R"({"joins":[{"userId":"x","status":"away","joinedAt":500}]})");
  const Json leave = Json::parse(R"({"leaves":[{"userId":"x"}]})");
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
