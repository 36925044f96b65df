// The embind module: registers the client class and nothing else. Conversions, defaults and Errors live in the
// TypeScript layer (web/src); the declarations of what is registered here are in tidewire_module.d.ts.
#include <emscripten/bind.h>
#include <emscripten/val.h>

#include <memory>
#include <string>

#include "client/engine.hpp"
#include "js_listener.hpp"
#include "platform/browser_client.hpp"

namespace tidewire::bindings {

using emscripten::val;

namespace {

double num(const val& options, const char* key, double fallback) {
  const val v = options[key];
  return v.isNumber() ? v.as<double>() : fallback;
}

client::ClientConfig config_from(const val& options) {
  client::ClientConfig c;
  const val url = options["url"];
  if (url.isString()) c.url = url.as<std::string>();
  const val mode = options["authMode"];
  if (mode.isString() && mode.as<std::string>() == "message") c.auth_mode = client::AuthMode::kFirstMessage;
  c.token_provider = options["tokenProvider"].isTrue();
  c.grace_ms = num(options, "graceMs", c.grace_ms);
  c.backoff.base_ms = num(options, "reconnectBaseMs", c.backoff.base_ms);
  c.backoff.cap_ms = num(options, "reconnectCapMs", c.backoff.cap_ms);
  c.max_reconnect_attempts =
      static_cast<std::uint32_t>(num(options, "maxReconnectAttempts", c.max_reconnect_attempts));
  c.heartbeat_interval_ms = num(options, "heartbeatIntervalMs", c.heartbeat_interval_ms);
  c.heartbeat_timeout_ms = num(options, "heartbeatTimeoutMs", c.heartbeat_timeout_ms);
  c.probe_timeout_ms = num(options, "probeTimeoutMs", c.probe_timeout_ms);
  c.hidden_close_ms = num(options, "hiddenCloseMs", c.hidden_close_ms);
  c.ack_timeout_ms = num(options, "ackTimeoutMs", c.ack_timeout_ms);
  c.auth_timeout_ms = num(options, "authTimeoutMs", c.auth_timeout_ms);
  c.outbox_max_messages = static_cast<std::size_t>(num(options, "outboxMaxMessages", c.outbox_max_messages));
  c.outbox_max_bytes = static_cast<std::size_t>(num(options, "outboxMaxBytes", c.outbox_max_bytes));
  return c;
}

}  // namespace

// One client: the engine, its socket and timer, and the JS callbacks.
class WasmClient {
 public:
  WasmClient(val options, val callbacks)
      : listener_(std::move(callbacks)), client_(config_from(options), listener_) {
    const val token = options["token"];
    if (token.isString()) {
      client_.with_engine([&](client::Engine& e) { e.set_token(token.as<std::string>()); });
    }
  }

  // Returns the channel id (> 0), or minus a status code.
  int subscribe(const std::string& channel) {
    std::uint32_t id = 0;
    const auto st = client_.with_engine([&](client::Engine& e) { return e.subscribe(channel, id); });
    return st == client::Status::kOk ? static_cast<int>(id) : -static_cast<int>(st);
  }
  void unsubscribe(int channel_id) {
    if (channel_id <= 0) return;
    client_.with_engine([&](client::Engine& e) { e.unsubscribe(static_cast<std::uint32_t>(channel_id)); });
  }
  // Returns the message ref (> 0), or minus a status code.
  double publish(const std::string& channel, const std::string& event, const std::string& payload_json,
                 double ttl_ms) {
    std::uint32_t ref = 0;
    const auto st = client_.with_engine(
        [&](client::Engine& e) { return e.publish(channel, event, payload_json, ref, ttl_ms); });
    return st == client::Status::kOk ? static_cast<double>(ref) : -static_cast<double>(st);
  }
  // `bytes` arrives from a Uint8Array (embind copies it into the std::string).
  double publishBinary(const std::string& channel, const std::string& event, const std::string& bytes,
                       double ttl_ms) {
    std::uint32_t ref = 0;
    const auto st = client_.with_engine(
        [&](client::Engine& e) { return e.publish_binary(channel, event, bytes, ref, ttl_ms); });
    return st == client::Status::kOk ? static_cast<double>(ref) : -static_cast<double>(st);
  }
  val outboxEntries() const {
    val out = val::array();
    for (const auto& entry : client_.engine().outbox_entries()) {
      val item = val::object();
      item.set("ref", entry.ref);
      item.set("channel", entry.channel);
      item.set("event", entry.event);
      item.set("bytes", static_cast<double>(entry.bytes));
      item.set("binary", entry.binary);
      item.set("inFlight", entry.in_flight);
      item.set("queuedAtMs", entry.queued_at_ms);
      out.call<void>("push", item);
    }
    return out;
  }
  double clearOutbox() {
    return static_cast<double>(client_.with_engine([](client::Engine& e) { return e.clear_outbox(); }));
  }
  double request(const std::string& type, const std::string& body_json, double ttl_ms) {
    std::uint32_t ref = 0;
    const auto st = client_.with_engine([&](client::Engine& e) { return e.request(type, body_json, ref, ttl_ms); });
    return st == client::Status::kOk ? static_cast<double>(ref) : -static_cast<double>(st);
  }
  // 0 when sent, else a status code (not connected: the notice is dropped, never queued).
  int notify(const std::string& type, const std::string& body_json) {
    return static_cast<int>(client_.with_engine([&](client::Engine& e) { return e.notify(type, body_json); }));
  }
  void setPageVisible(bool visible) { client_.with_engine([&](client::Engine& e) { e.set_page_visible(visible); }); }
  void setOnline(bool online) { client_.with_engine([&](client::Engine& e) { e.set_online(online); }); }
  void probe() { client_.with_engine([](client::Engine& e) { e.probe(); }); }
  void connect() { client_.with_engine([](client::Engine& e) { e.connect(); }); }
  void disconnect() { client_.with_engine([](client::Engine& e) { e.disconnect(); }); }
  void reconnect() { client_.with_engine([](client::Engine& e) { e.reconnect(); }); }
  void setToken(const std::string& token) {
    client_.with_engine([&](client::Engine& e) { e.set_token(token); });
  }

  std::string state() const { return std::string(client::to_string(client_.engine().state())); }
  std::string connectionId() const { return std::string(client_.engine().connection_id()); }
  std::string userId() const { return std::string(client_.engine().user_id()); }

  val metrics() const {
    const client::Engine& e = client_.engine();
    const client::Metrics& m = e.metrics();
    val out = val::object();
    out.set("connectionAttempts", m.connection_attempts);
    out.set("connectionSuccesses", m.connection_successes);
    out.set("connectionFailures", m.connection_failures);
    out.set("reconnects", m.reconnects);
    out.set("messagesReceived", m.messages_received);
    out.set("messagesSent", m.messages_sent);
    out.set("bytesReceived", m.bytes_received);
    out.set("bytesSent", m.bytes_sent);
    out.set("lastLatencyMs", m.last_latency_ms);
    out.set("avgLatencyMs", m.avg_latency_ms);
    out.set("uptimeMs", e.uptime_ms());
    out.set("frameErrors", m.frame_errors);
    out.set("gaps", m.gaps);
    out.set("duplicatesDropped", m.duplicates_dropped);
    out.set("acksTimedOut", m.acks_timed_out);
    out.set("messagesExpired", m.messages_expired);
    out.set("probes", m.probes);
    out.set("queueDepth", static_cast<double>(e.outbox_size()));
    out.set("queueBytes", static_cast<double>(e.outbox_bytes()));
    out.set("inflight", static_cast<double>(e.inflight_count()));
    out.set("reconnectAttempts", e.reconnect_attempts());
    out.set("channelCount", static_cast<double>(e.channel_count()));
    out.set("subscriberCount", e.subscriber_count());
    return out;
  }

  static std::string statusMessage(int status) {
    return std::string(client::status_message(static_cast<client::Status>(status)));
  }

 private:
  JsListener listener_;
  platform::BrowserClient client_;
};

EMSCRIPTEN_BINDINGS(tidewire) {
  emscripten::class_<WasmClient>("WasmClient")
      .constructor<val, val>()
      .function("subscribe", &WasmClient::subscribe)
      .function("unsubscribe", &WasmClient::unsubscribe)
      .function("publish", &WasmClient::publish)
      .function("publishBinary", &WasmClient::publishBinary)
      .function("request", &WasmClient::request)
      .function("notify", &WasmClient::notify)
      .function("outboxEntries", &WasmClient::outboxEntries)
      .function("clearOutbox", &WasmClient::clearOutbox)
      .function("setPageVisible", &WasmClient::setPageVisible)
      .function("setOnline", &WasmClient::setOnline)
      .function("probe", &WasmClient::probe)
      .function("connect", &WasmClient::connect)
      .function("disconnect", &WasmClient::disconnect)
      .function("reconnect", &WasmClient::reconnect)
      .function("setToken", &WasmClient::setToken)
      .function("state", &WasmClient::state)
      .function("connectionId", &WasmClient::connectionId)
      .function("userId", &WasmClient::userId)
      .function("metrics", &WasmClient::metrics)
      .class_function("statusMessage", &WasmClient::statusMessage);
}

}  // namespace tidewire::bindings
