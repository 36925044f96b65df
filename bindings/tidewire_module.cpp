// The module's client exports: plain C functions on an opaque handle, wrapped by the WasmClient class in
// tidewire_api.js (declared in tidewire_module.d.mts). Not embind: its runtime alone is ≈ 10 KB gzipped (glue +
// wasm) of the package's 40 KB budget, and its std::string conversions cost 500–1000 ns per argument; here JS
// encodes strings straight into wasm memory and C++ takes them as views. Conversions, defaults and Errors live
// in the TypeScript layer (web/src).
#include <emscripten/emscripten.h>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "client/engine.hpp"
#include "js_listener.hpp"
#include "live_objects.hpp"
#include "js_text.hpp"
#include "platform/browser_client.hpp"
#include "protocol/envelope.hpp"
#include "protocol/json_writer.hpp"

namespace tidewire::bindings {

namespace {

// Options arrive as one JSON object (read field by field: the client carries no JSON DOM).
double num(std::string_view options, std::string_view key, double fallback) {
  double v = fallback;
  protocol::field_number(options, key, v);  // unchanged when absent or not a number
  return v;
}

// The option names are the TS ones (web/src/options.ts); the defaults are ClientConfig's.
client::ClientConfig config_from(std::string_view o) {
  client::ClientConfig c;
  protocol::field_string(o, "url", c.url);
  std::string auth_mode;
  if (protocol::field_string(o, "authMode", auth_mode) && auth_mode == "message") {
    c.auth_mode = client::AuthMode::kFirstMessage;
  }
  c.token_provider = protocol::field_is_true(o, "tokenProvider");
  c.grace_ms = num(o, "graceMs", c.grace_ms);
  c.backoff.base_ms = num(o, "reconnectBaseMs", c.backoff.base_ms);
  c.backoff.cap_ms = num(o, "reconnectCapMs", c.backoff.cap_ms);
  c.max_reconnect_attempts = static_cast<std::uint32_t>(num(o, "maxReconnectAttempts", c.max_reconnect_attempts));
  c.heartbeat_interval_ms = num(o, "heartbeatIntervalMs", c.heartbeat_interval_ms);
  c.heartbeat_timeout_ms = num(o, "heartbeatTimeoutMs", c.heartbeat_timeout_ms);
  c.probe_timeout_ms = num(o, "probeTimeoutMs", c.probe_timeout_ms);
  c.hidden_close_ms = num(o, "hiddenCloseMs", c.hidden_close_ms);
  c.ack_timeout_ms = num(o, "ackTimeoutMs", c.ack_timeout_ms);
  c.auth_timeout_ms = num(o, "authTimeoutMs", c.auth_timeout_ms);
  c.outbox_max_messages = static_cast<std::size_t>(num(o, "outboxMaxMessages", c.outbox_max_messages));
  c.outbox_max_bytes = static_cast<std::size_t>(num(o, "outboxMaxBytes", c.outbox_max_bytes));
  return c;
}

double ref_or_status(client::Status st, std::uint32_t ref) {
  return st == client::Status::kOk ? static_cast<double>(ref) : -static_cast<double>(st);
}

}  // namespace

// One client: the engine, its socket and timer, and the JS callbacks registered under `listener_id`.
class WasmClient {
 public:
  WasmClient(int listener_id, std::string_view options)
      : listener_(listener_id), client_(config_from(options), listener_) {
    std::string token;
    if (protocol::field_string(options, "token", token)) set_token(token);
  }
  template <typename Fn>
  decltype(auto) run(Fn&& fn) {
    return client_.with_engine(std::forward<Fn>(fn));
  }
  const client::Engine& engine() const { return client_.engine(); }
  void set_token(std::string_view token) {
    run([&](client::Engine& e) { e.set_token(token); });
  }

 private:
  JsListener listener_;
  platform::BrowserClient client_;
  LiveObject live_;
};

}  // namespace tidewire::bindings

using tidewire::bindings::WasmClient;
using tidewire::bindings::out_text;
using tidewire::bindings::view;
using tidewire::client::Engine;
using tidewire::client::Status;

extern "C" {

// Returns nullptr when the options are not a JSON object (the TS layer always passes one).
EMSCRIPTEN_KEEPALIVE WasmClient* tw_client_new(int listener_id, const char* options, std::size_t n) {
  const std::string_view o = view(options, n);
  tidewire::protocol::Envelope checked;
  if (tidewire::protocol::scan_envelope(o, checked) != tidewire::protocol::ScanStatus::kOk) return nullptr;
  return std::make_unique<WasmClient>(listener_id, o).release();  // owned by the JS object until tw_client_delete
}

EMSCRIPTEN_KEEPALIVE void tw_client_delete(WasmClient* c) { std::unique_ptr<WasmClient> owned(c); }

// The channel id (> 0), or minus a status code.
EMSCRIPTEN_KEEPALIVE int tw_client_subscribe(WasmClient* c, const char* p, std::size_t n) {
  std::uint32_t id = 0;
  const Status st = c->run([&](Engine& e) { return e.subscribe(view(p, n), id); });
  return st == Status::kOk ? static_cast<int>(id) : -static_cast<int>(st);
}

EMSCRIPTEN_KEEPALIVE void tw_client_unsubscribe(WasmClient* c, int channel_id) {
  if (channel_id > 0) c->run([&](Engine& e) { e.unsubscribe(static_cast<std::uint32_t>(channel_id)); });
}

EMSCRIPTEN_KEEPALIVE void tw_client_resubscribe(WasmClient* c, int channel_id) {
  if (channel_id > 0) c->run([&](Engine& e) { e.resubscribe(static_cast<std::uint32_t>(channel_id)); });
}

// The message ref (> 0), or minus a status code.
EMSCRIPTEN_KEEPALIVE double tw_client_publish(WasmClient* c, const char* cp, std::size_t cn, const char* ep,
                                              std::size_t en, const char* pp, std::size_t pn, double ttl_ms) {
  std::uint32_t ref = 0;
  const Status st = c->run([&](Engine& e) { return e.publish(view(cp, cn), view(ep, en), view(pp, pn), ref, ttl_ms); });
  return tidewire::bindings::ref_or_status(st, ref);
}

EMSCRIPTEN_KEEPALIVE double tw_client_publish_binary(WasmClient* c, const char* cp, std::size_t cn, const char* ep,
                                                     std::size_t en, const char* bp, std::size_t bn, double ttl_ms) {
  std::uint32_t ref = 0;
  const Status st =
      c->run([&](Engine& e) { return e.publish_binary(view(cp, cn), view(ep, en), view(bp, bn), ref, ttl_ms); });
  return tidewire::bindings::ref_or_status(st, ref);
}

EMSCRIPTEN_KEEPALIVE double tw_client_request(WasmClient* c, const char* tp, std::size_t tn, const char* bp,
                                              std::size_t bn, double ttl_ms) {
  std::uint32_t ref = 0;
  const Status st = c->run([&](Engine& e) { return e.request(view(tp, tn), view(bp, bn), ref, ttl_ms); });
  return tidewire::bindings::ref_or_status(st, ref);
}

// 0 when sent, else a status code (not connected: the notice is dropped, never queued).
EMSCRIPTEN_KEEPALIVE int tw_client_notify(WasmClient* c, const char* tp, std::size_t tn, const char* bp,
                                          std::size_t bn) {
  return static_cast<int>(c->run([&](Engine& e) { return e.notify(view(tp, tn), view(bp, bn)); }));
}

// JSON array of {ref, channel, event, bytes, binary, inFlight, queuedAtMs}.
EMSCRIPTEN_KEEPALIVE const char* tw_client_outbox_entries(WasmClient* c) {
  std::string out = "[";
  for (const auto& entry : c->engine().outbox_entries()) {
    if (out.size() > 1) out.push_back(',');
    tidewire::protocol::JsonObjectWriter w(out);
    w.uint("ref", entry.ref).str("channel", entry.channel).str("event", entry.event).uint("bytes", entry.bytes);
    w.key("binary");
    out += entry.binary ? "true" : "false";
    w.key("inFlight");
    out += entry.in_flight ? "true" : "false";
    w.number("queuedAtMs", entry.queued_at_ms);
    w.close();
  }
  out.push_back(']');
  return out_text(out);
}

EMSCRIPTEN_KEEPALIVE double tw_client_clear_outbox(WasmClient* c) {
  return static_cast<double>(c->run([](Engine& e) { return e.clear_outbox(); }));
}

EMSCRIPTEN_KEEPALIVE void tw_client_set_page_visible(WasmClient* c, int visible) {
  c->run([&](Engine& e) { e.set_page_visible(visible != 0); });
}
EMSCRIPTEN_KEEPALIVE void tw_client_set_online(WasmClient* c, int online) {
  c->run([&](Engine& e) { e.set_online(online != 0); });
}
EMSCRIPTEN_KEEPALIVE void tw_client_probe(WasmClient* c) { c->run([](Engine& e) { e.probe(); }); }
EMSCRIPTEN_KEEPALIVE void tw_client_connect(WasmClient* c) { c->run([](Engine& e) { e.connect(); }); }
EMSCRIPTEN_KEEPALIVE void tw_client_disconnect(WasmClient* c) { c->run([](Engine& e) { e.disconnect(); }); }
EMSCRIPTEN_KEEPALIVE void tw_client_reconnect(WasmClient* c) { c->run([](Engine& e) { e.reconnect(); }); }
EMSCRIPTEN_KEEPALIVE void tw_client_set_token(WasmClient* c, const char* p, std::size_t n) { c->set_token(view(p, n)); }
EMSCRIPTEN_KEEPALIVE void tw_client_token_failed(WasmClient* c, const char* p, std::size_t n) {
  c->run([&](Engine& e) { e.token_failed(view(p, n)); });
}
EMSCRIPTEN_KEEPALIVE void tw_client_token_refused(WasmClient* c, const char* p, std::size_t n) {
  c->run([&](Engine& e) { e.token_refused(view(p, n)); });
}
// Negative numbers keep the current value.
EMSCRIPTEN_KEEPALIVE void tw_client_set_reconnect_policy(WasmClient* c, double base_ms, double cap_ms,
                                                         double max_attempts) {
  c->run([&](Engine& e) {
    const tidewire::client::ClientConfig& now = e.config();
    tidewire::client::BackoffPolicy backoff = now.backoff;
    if (base_ms >= 0) backoff.base_ms = base_ms;
    if (cap_ms >= 0) backoff.cap_ms = cap_ms;
    const auto max = max_attempts >= 0 ? static_cast<std::uint32_t>(max_attempts) : now.max_reconnect_attempts;
    e.set_reconnect_policy(backoff, max);
  });
}

// A channel as the engine holds it: refs * 4 + revoked * 2 + subscribed; 0 once its last reference is gone.
EMSCRIPTEN_KEEPALIVE double tw_client_channel(WasmClient* c, int channel_id) {
  if (channel_id <= 0) return 0;
  const tidewire::client::ChannelEntry* ch = c->engine().channel(static_cast<std::uint32_t>(channel_id));
  if (ch == nullptr) return 0;
  return static_cast<double>(ch->refs) * 4 + (ch->revoked ? 2 : 0) + (ch->subscribed ? 1 : 0);
}

EMSCRIPTEN_KEEPALIVE const char* tw_client_state(WasmClient* c) {
  return out_text(tidewire::client::to_string(c->engine().state()));
}
EMSCRIPTEN_KEEPALIVE const char* tw_client_connection_id(WasmClient* c) {
  return out_text(c->engine().connection_id());
}
EMSCRIPTEN_KEEPALIVE const char* tw_client_user_id(WasmClient* c) { return out_text(c->engine().user_id()); }

// JSON object: the names are the WasmMetrics fields of tidewire_module.d.mts (checked both ways by
// tests/node/module-exports.test.mjs).
EMSCRIPTEN_KEEPALIVE const char* tw_client_metrics(WasmClient* c) {
  const tidewire::client::Metrics m = c->engine().metrics_snapshot();
  std::string out;
  tidewire::protocol::JsonObjectWriter w(out);
  w.number("connectionAttempts", m.connection_attempts)
      .number("connectionSuccesses", m.connection_successes)
      .number("connectionFailures", m.connection_failures)
      .number("reconnects", m.reconnects)
      .number("messagesReceived", m.messages_received)
      .number("messagesSent", m.messages_sent)
      .number("bytesReceived", m.bytes_received)
      .number("bytesSent", m.bytes_sent)
      .number("lastLatencyMs", m.last_latency_ms)
      .number("avgLatencyMs", m.avg_latency_ms)
      .number("frameErrors", m.frame_errors)
      .number("gaps", m.gaps)
      .number("duplicatesDropped", m.duplicates_dropped)
      .number("acksTimedOut", m.acks_timed_out)
      .number("messagesExpired", m.messages_expired)
      .number("probes", m.probes)
      .number("uptimeMs", m.uptime_ms)
      .number("queueDepth", m.queue_depth)
      .number("queueBytes", m.queue_bytes)
      .number("inflight", m.inflight)
      .number("reconnectAttempts", m.reconnect_attempts)
      .number("channelCount", m.channel_count)
      .number("subscriberCount", m.subscriber_count);
  w.close();
  return out_text(out);
}

EMSCRIPTEN_KEEPALIVE const char* tw_status_message(int status) {
  return out_text(tidewire::client::status_message(static_cast<Status>(status)));
}

// Diagnostics: clients alive in this module (the state module counts its containers itself).
EMSCRIPTEN_KEEPALIVE int tw_live_objects() { return tidewire::bindings::live_object_count(); }

}  // extern "C"
