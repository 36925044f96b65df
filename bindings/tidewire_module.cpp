// The client module's boundary, declared once: EMSCRIPTEN_BINDINGS below is the whole API JS sees (classes,
// enums, value objects), typed by the hand-written tidewire_module.d.mts and checked against it at runtime by
// tests/node/module-exports.test.mjs. Options, metrics and outbox entries are value_objects over the C++ structs
// (ClientConfig's defaults live in C++ only: JS reads them from WasmClient.defaultConfig()); the engine's events
// reach JS through one `val` listener object with named methods (js_listener.cpp).
//
// To add an option: a field in client::ClientConfig and a `.field` line here, then its declaration in the
// .d.mts (options.ts documents and validates what users pass). To add a metric: a field in client::Metrics
// and a `.field` line here. To add an event: see js_listener.hpp.
#include <emscripten/bind.h>
#include <emscripten/val.h>

#include <cstdint>
#include <string>

#include "client/engine.hpp"
#include "js_listener.hpp"
#include "live_objects.hpp"
#include "platform/browser_client.hpp"

namespace tidewire::bindings {

using client::ClientConfig;
using client::Engine;
using client::Status;
using emscripten::val;

// What JS reads of a channel (client::ChannelEntry without its strings: copying those is code JS never needs).
struct ChannelView {
  std::uint32_t id = 0;
  std::uint32_t refs = 0;
  bool subscribed = false;
  bool revoked = false;
  double offset = 0;  // the recovery position: the last offset seen in `epoch` ('' before any)
  std::string epoch;
};

// The answer of the calls that queue or subscribe: an id or ref when `status` is ok.
struct Result {
  std::uint32_t id = 0;
  Status status = Status::kOk;
};

// One client: the engine, its socket and timer, and the JS listener object.
class WasmClient {
  // Every call into the engine goes through run(), which re-arms the engine's timer afterwards.
  template <typename Fn>
  decltype(auto) run(Fn&& fn) {
    return client_.with_engine(std::forward<Fn>(fn));
  }
  const Engine& engine() const { return client_.engine(); }

 public:
  WasmClient(ClientConfig config, val listener) : listener_(std::move(listener)), client_(std::move(config), listener_) {}

  // `changes_event` / `changes_filter`: a changefeed channel's spec (empty event: none; see Engine::set_changes).
  Result subscribe(const std::string& channel, const std::string& changes_event, const std::string& changes_filter) {
    Result r;
    r.status = run([&](Engine& e) { return e.subscribe(channel, r.id, changes_event, changes_filter); });
    return r;
  }
  void set_changes(std::uint32_t channel_id, const std::string& event, const std::string& filter) {
    run([&](Engine& e) { e.set_changes(channel_id, event, filter); });
  }
  void set_url(const std::string& url) {
    run([&](Engine& e) { e.set_url(url); });
  }
  void url_failed(const std::string& message) {
    run([&](Engine& e) { e.url_failed(message); });
  }
  void unsubscribe(std::uint32_t channel_id) {
    run([&](Engine& e) { e.unsubscribe(channel_id); });
  }
  void set_position(std::uint32_t channel_id, double offset, const std::string& epoch) {
    run([&](Engine& e) { e.set_position(channel_id, static_cast<std::uint64_t>(offset), epoch); });
  }
  void resubscribe(std::uint32_t channel_id) {
    run([&](Engine& e) { e.resubscribe(channel_id); });
  }
  // `id`: the message's client id, '' for the engine's own (a persisted outbox passes an earlier page's).
  Result publish(const std::string& channel, const std::string& event, const std::string& payload_json, double ttl_ms,
                 const std::string& id) {
    Result r;
    r.status = run([&](Engine& e) { return e.publish(channel, event, payload_json, r.id, ttl_ms, id); });
    return r;
  }
  // `bytes` arrives from a Uint8Array (embind copies its bytes into the string).
  Result publish_binary(const std::string& channel, const std::string& event, const std::string& bytes, double ttl_ms,
                        const std::string& id) {
    Result r;
    r.status = run([&](Engine& e) { return e.publish_binary(channel, event, bytes, r.id, ttl_ms, id); });
    return r;
  }
  Result request(const std::string& type, const std::string& body_json, double ttl_ms) {
    Result r;
    r.status = run([&](Engine& e) { return e.request(type, body_json, r.id, ttl_ms); });
    return r;
  }
  Status notify(const std::string& type, const std::string& body_json) {
    return run([&](Engine& e) { return e.notify(type, body_json); });
  }
  val outbox_entries() const {
    val out = val::array();
    for (const auto& entry : engine().outbox_entries()) out.call<void>("push", entry);
    return out;
  }
  double clear_outbox() {
    return static_cast<double>(run([](Engine& e) { return e.clear_outbox(); }));
  }
  void set_page_visible(bool visible) {
    run([&](Engine& e) { e.set_page_visible(visible); });
  }
  void set_online(bool online) {
    run([&](Engine& e) { e.set_online(online); });
  }
  void probe() {
    run([](Engine& e) { e.probe(); });
  }
  void connect() {
    run([](Engine& e) { e.connect(); });
  }
  void disconnect() {
    run([](Engine& e) { e.disconnect(); });
  }
  void reconnect() {
    run([](Engine& e) { e.reconnect(); });
  }
  void set_token(const std::string& token) {
    run([&](Engine& e) { e.set_token(token); });
  }
  void token_failed(const std::string& message) {
    run([&](Engine& e) { e.token_failed(message); });
  }
  void token_refused(const std::string& message) {
    run([&](Engine& e) { e.token_refused(message); });
  }
  // Negative numbers keep the current value.
  void set_reconnect_policy(double base_ms, double cap_ms, double max_attempts) {
    run([&](Engine& e) {
      const ClientConfig& now = e.config();
      client::BackoffPolicy backoff = now.backoff;
      if (base_ms >= 0) backoff.base_ms = base_ms;
      if (cap_ms >= 0) backoff.cap_ms = cap_ms;
      const auto max = max_attempts >= 0 ? static_cast<std::uint32_t>(max_attempts) : now.max_reconnect_attempts;
      e.set_reconnect_policy(backoff, max);
    });
  }
  client::ConnectionState state() const { return engine().state(); }
  std::string connection_id() const { return std::string(engine().connection_id()); }
  std::string user_id() const { return std::string(engine().user_id()); }
  client::Metrics metrics() const { return engine().metrics_snapshot(); }
  ClientConfig config() const { return engine().config(); }
  // The engine owns each channel's references and subscribe state; id 0 once the last reference is gone.
  ChannelView channel(std::uint32_t channel_id) const {
    const client::ChannelEntry* ch = engine().channel(channel_id);
    if (ch == nullptr) return ChannelView{};
    return ChannelView{ch->id, ch->refs, ch->subscribed, ch->revoked,
                       ch->has_position ? static_cast<double>(ch->last_offset) : 0, ch->has_position ? ch->epoch : ""};
  }

  static ClientConfig default_config() { return ClientConfig{}; }
  static std::string status_message(Status s) { return std::string(client::status_message(s)); }

 private:
  JsListener listener_;
  platform::BrowserClient client_;
  LiveObject live_;
};

int live_objects() { return live_object_count(); }

// Fields of ClientConfig that are not plain members (the backoff is a nested struct).
double backoff_base(const ClientConfig& c) { return c.backoff.base_ms; }
void set_backoff_base(ClientConfig& c, double v) { c.backoff.base_ms = v; }
double backoff_cap(const ClientConfig& c) { return c.backoff.cap_ms; }
void set_backoff_cap(ClientConfig& c, double v) { c.backoff.cap_ms = v; }

}  // namespace tidewire::bindings

EMSCRIPTEN_BINDINGS(tidewire_client) {
  using namespace emscripten;
  using namespace tidewire::bindings;
  using tidewire::client::AuthMode;
  using tidewire::client::ConnectionState;
  using tidewire::client::Metrics;
  using tidewire::client::OutboxEntry;

  // The names are the TS ones (web/src/wire.ts CONNECTION_STATES, ClientOptions.authMode).
  enum_<ConnectionState>("ConnectionState")
      .value("idle", ConnectionState::kIdle)
      .value("connecting", ConnectionState::kConnecting)
      .value("authenticating", ConnectionState::kAuthenticating)
      .value("connected", ConnectionState::kConnected)
      .value("reconnecting", ConnectionState::kReconnecting)
      .value("disconnected", ConnectionState::kDisconnected)
      .value("error", ConnectionState::kError);
  enum_<AuthMode>("AuthMode").value("subprotocol", AuthMode::kSubprotocol).value("message", AuthMode::kFirstMessage);
  enum_<Status>("EngineStatus")
      .value("ok", Status::kOk)
      .value("invalidChannel", Status::kInvalidChannel)
      .value("invalidEvent", Status::kInvalidEvent)
      .value("invalidPayload", Status::kInvalidPayload)
      .value("outboxFull", Status::kOutboxFull)
      .value("unknownChannel", Status::kUnknownChannel)
      .value("tooLarge", Status::kTooLarge)
      .value("invalidRequest", Status::kInvalidRequest)
      .value("notConnected", Status::kNotConnected)
      .value("invalidId", Status::kInvalidId);

  value_object<ClientConfig>("ClientConfig")
      .field("url", &ClientConfig::url)
      .field("authMode", &ClientConfig::auth_mode)
      .field("tokenProvider", &ClientConfig::token_provider)
      .field("urlProvider", &ClientConfig::url_provider)
      .field("graceMs", &ClientConfig::grace_ms)
      .field("reconnectBaseMs", &backoff_base, &set_backoff_base)
      .field("reconnectCapMs", &backoff_cap, &set_backoff_cap)
      .field("maxReconnectAttempts", &ClientConfig::max_reconnect_attempts)
      .field("heartbeatIntervalMs", &ClientConfig::heartbeat_interval_ms)
      .field("heartbeatTimeoutMs", &ClientConfig::heartbeat_timeout_ms)
      .field("probeTimeoutMs", &ClientConfig::probe_timeout_ms)
      .field("hiddenCloseMs", &ClientConfig::hidden_close_ms)
      .field("authTimeoutMs", &ClientConfig::auth_timeout_ms)
      .field("outboxMaxMessages", &ClientConfig::outbox_max_messages)
      .field("outboxMaxBytes", &ClientConfig::outbox_max_bytes)
      .field("ackTimeoutMs", &ClientConfig::ack_timeout_ms);

  value_object<Metrics>("Metrics")
      .field("connectionAttempts", &Metrics::connection_attempts)
      .field("connectionSuccesses", &Metrics::connection_successes)
      .field("connectionFailures", &Metrics::connection_failures)
      .field("reconnects", &Metrics::reconnects)
      .field("messagesReceived", &Metrics::messages_received)
      .field("messagesSent", &Metrics::messages_sent)
      .field("bytesReceived", &Metrics::bytes_received)
      .field("bytesSent", &Metrics::bytes_sent)
      .field("lastLatencyMs", &Metrics::last_latency_ms)
      .field("avgLatencyMs", &Metrics::avg_latency_ms)
      .field("frameErrors", &Metrics::frame_errors)
      .field("gaps", &Metrics::gaps)
      .field("duplicatesDropped", &Metrics::duplicates_dropped)
      .field("acksTimedOut", &Metrics::acks_timed_out)
      .field("messagesExpired", &Metrics::messages_expired)
      .field("probes", &Metrics::probes)
      .field("uptimeMs", &Metrics::uptime_ms)
      .field("queueDepth", &Metrics::queue_depth)
      .field("queueBytes", &Metrics::queue_bytes)
      .field("inflight", &Metrics::inflight)
      .field("reconnectAttempts", &Metrics::reconnect_attempts)
      .field("channelCount", &Metrics::channel_count)
      .field("subscriberCount", &Metrics::subscriber_count);

  value_object<OutboxEntry>("OutboxEntry")
      .field("ref", &OutboxEntry::ref)
      .field("channel", &OutboxEntry::channel)
      .field("event", &OutboxEntry::event)
      .field("bytes", &OutboxEntry::bytes)
      .field("binary", &OutboxEntry::binary)
      .field("inFlight", &OutboxEntry::in_flight)
      .field("queuedAtMs", &OutboxEntry::queued_at_ms);

  value_object<ChannelView>("ChannelEntry")
      .field("id", &ChannelView::id)
      .field("refs", &ChannelView::refs)
      .field("subscribed", &ChannelView::subscribed)
      .field("revoked", &ChannelView::revoked)
      .field("offset", &ChannelView::offset)
      .field("epoch", &ChannelView::epoch);

  value_object<Result>("Result").field("id", &Result::id).field("status", &Result::status);

  class_<WasmClient>("WasmClient")
      .constructor<ClientConfig, val>()
      .function("subscribe", &WasmClient::subscribe)
      .function("unsubscribe", &WasmClient::unsubscribe)
      .function("resubscribe", &WasmClient::resubscribe)
      .function("setPosition", &WasmClient::set_position)
      .function("setChanges", &WasmClient::set_changes)
      .function("setUrl", &WasmClient::set_url)
      .function("urlFailed", &WasmClient::url_failed)
      .function("publish", &WasmClient::publish)
      .function("publishBinary", &WasmClient::publish_binary)
      .function("request", &WasmClient::request)
      .function("notify", &WasmClient::notify)
      .function("outboxEntries", &WasmClient::outbox_entries)
      .function("clearOutbox", &WasmClient::clear_outbox)
      .function("setPageVisible", &WasmClient::set_page_visible)
      .function("setOnline", &WasmClient::set_online)
      .function("probe", &WasmClient::probe)
      .function("connect", &WasmClient::connect)
      .function("disconnect", &WasmClient::disconnect)
      .function("reconnect", &WasmClient::reconnect)
      .function("setToken", &WasmClient::set_token)
      .function("tokenFailed", &WasmClient::token_failed)
      .function("tokenRefused", &WasmClient::token_refused)
      .function("setReconnectPolicy", &WasmClient::set_reconnect_policy)
      .function("state", &WasmClient::state)
      .function("connectionId", &WasmClient::connection_id)
      .function("userId", &WasmClient::user_id)
      .function("metrics", &WasmClient::metrics)
      .function("config", &WasmClient::config)
      .function("channel", &WasmClient::channel)
      .class_function("defaultConfig", &WasmClient::default_config)
      .class_function("statusMessage", &WasmClient::status_message);

  function("liveObjects", &live_objects);
}
