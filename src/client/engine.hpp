// The sans-IO client engine: the connection state machine, subscriptions, outbox and heartbeat.
//
// Bytes, socket events and the current time go in (on_socket_*, advance()); frames, socket commands and
// listener calls come out. It never blocks, never sleeps and knows nothing of Emscripten: the platform layer
// (src/platform) and the tests (tests/native) drive it the same way.
//
// Threading: single-threaded. Every method must be called from the same thread.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "client/channel_registry.hpp"
#include "client/client_config.hpp"
#include "client/clock.hpp"
#include "client/connection_state.hpp"
#include "client/engine_listener.hpp"
#include "client/event_table.hpp"
#include "client/heartbeat.hpp"
#include "client/metrics.hpp"
#include "client/outbox.hpp"
#include "client/random_source.hpp"
#include "client/transport.hpp"

namespace tidewire::protocol {
struct Envelope;
}

namespace tidewire::client {

struct ControlMessage;

// Status values returned at the API boundary (the TS layer turns them into Errors).
enum class Status : std::uint8_t {
  kOk,
  kInvalidChannel,
  kInvalidEvent,
  kInvalidPayload,
  kOutboxFull,
  kUnknownChannel,
  kTooLarge,
  kInvalidRequest,
  kNotConnected,
  kInvalidId,
};

// One queued or in-flight message, for inspection.
struct OutboxEntry {
  std::uint32_t ref;
  std::string channel;
  std::string event;
  std::size_t bytes;
  bool binary;
  bool in_flight;  // sent, waiting for its ack
  double queued_at_ms;
};
std::string_view status_message(Status s);

inline constexpr double kNever = std::numeric_limits<double>::infinity();

class Engine {
 public:
  Engine(ClientConfig config, Clock& clock, Transport& transport, EngineListener& listener, RandomSource& rng);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // --- Application API -------------------------------------------------------------------------------
  // Adds a reference to `channel`; the first reference of the first channel opens the connection.
  Status subscribe(std::string_view channel, std::uint32_t& channel_id);
  // The same with the changes a new changefeed channel asks for (see set_changes; applied to an existing one).
  Status subscribe(std::string_view channel, std::uint32_t& channel_id, std::string_view changes_event,
                   std::string_view changes_filter);
  // Drops one reference; the last reference of the last channel starts the grace period.
  void unsubscribe(std::uint32_t channel_id);
  // Subscribes again a channel whose subscription the server ended (on_unsubscribed), keeping its references.
  // Does nothing for a channel that was not ended that way.
  void resubscribe(std::uint32_t channel_id);
  // Publishes `payload_json` (valid JSON text) as `event` on `channel`. Queued while not connected, for at
  // most `ttl_ms` (0: no limit). The server's verdict arrives as on_ack(msg_ref, ...). `id` is the message's
  // client id (the server's dedupe key, 1-64 bytes): empty = the engine's own (`<client id>-p<ref>`); a caller
  // that resends a message of an earlier page (a persisted outbox) passes the id it had then.
  Status publish(std::string_view channel, std::string_view event, std::string_view payload_json,
                 std::uint32_t& msg_ref, double ttl_ms = 0, std::string_view id = {});
  // The same for raw bytes, sent as a binary frame.
  Status publish_binary(std::string_view channel, std::string_view event, std::string_view bytes,
                        std::uint32_t& msg_ref, double ttl_ms = 0, std::string_view id = {});
  // Sends a request (an RPC of docs/PROTOCOL.md sections 10-12): `type` plus the fields of `body_json`, a JSON
  // object. Queued like a publish while not connected; answered by on_reply(request_ref, ...).
  Status request(std::string_view type, std::string_view body_json, std::uint32_t& request_ref, double ttl_ms = 0);
  // Sends a message that has no answer (e.g. chat_typing): now if connected, else kNotConnected. Never queued:
  // such notices are stale by the time a connection comes back.
  Status notify(std::string_view type, std::string_view body_json);
  // What waits to be sent or acknowledged, oldest first.
  std::vector<OutboxEntry> outbox_entries() const;
  // Drops every queued (not yet sent) message; each fails with `cleared`. Returns how many.
  std::size_t clear_outbox();
  // Gives a channel that has no recovery position yet the one another engine had (a tab taking over the shared
  // connection, issue #18): its next subscribe asks for what came after `offset` in `epoch`. Does nothing for a
  // channel that has a position (its own is newer) or an unknown id.
  void set_position(std::uint32_t channel_id, std::uint64_t offset, std::string_view epoch);
  // Keeps the connection open even with no subscribers, until disconnect().
  void connect();
  // Closes the socket on purpose and stays `disconnected` (subscriptions and outbox are kept).
  void disconnect();
  // Manual reconnect: resets the attempt counter and connects now (also from the `error` state).
  void reconnect();
  // Sets the token. With a token provider, this answers on_token_request() and continues the connect.
  void set_token(std::string_view token);
  // Answers on_token_request() with a transient failure (the provider threw or rejected: network error, 5xx).
  // A connect counts it as a failed attempt and retries with the reconnect backoff (maxReconnectAttempts
  // applies); an in-band refresh is retried later while the current token lasts. Reported as
  // `token_provider_failed`; never terminal.
  void token_failed(std::string_view message);
  // Answers on_token_request() with a refusal (the provider resolved to null: nobody is signed in). Terminal:
  // closes the socket, fails the queued sends with `auth_failed` and goes to `error`, until reconnect(), the
  // page coming back online or becoming visible.
  void token_refused(std::string_view message);
  // Answers on_url_request() (ClientConfig::url_provider) with the URL to open for this attempt; then the
  // connect goes on (token, socket). Ignored when no URL was asked for.
  void set_url(std::string_view url);
  // Answers on_url_request() with a failure (the provider threw, rejected or returned no ws:// URL): a failed
  // attempt, reported as `url_provider_failed` and retried with the reconnect backoff (maxReconnectAttempts applies).
  void url_failed(std::string_view message);
  // Sets what a changefeed channel (`db:<schema>.<table>`) asks the server for (`changes` of the subscribe,
  // docs/PROTOCOL.md): `event` INSERT | UPDATE | DELETE | * and a `filter` (may be empty); an empty event sends
  // no `changes`. Carried by every later (re)subscribe; a subscribed channel whose spec changes is subscribed
  // again at once (the server replaces the spec; no recovery is asked, live traffic flows on).
  void set_changes(std::uint32_t channel_id, std::string_view event, std::string_view filter);
  // Changes the reconnect backoff and the attempt limit (0 = unlimited); applies from the next retry.
  void set_reconnect_policy(BackoffPolicy backoff, std::uint32_t max_reconnect_attempts);

  // --- Page events (browser only; Node never calls these) -----------------------------------------------
  // Hidden: close after `hidden_close_ms`; visible: reconnect if anyone is subscribed (also from `error`: a
  // fresh cycle), or probe the socket.
  void set_page_visible(bool visible);
  // Offline: disconnect without burning reconnect attempts; online: reconnect at once, with a fresh attempt
  // count, when reconnecting, disconnected by `offline` or in `error` (or probe a connected socket).
  void set_online(bool online);
  // A page restored from the back/forward cache, or any reason to doubt the socket: send a probe ping.
  void probe();

  // --- Platform events -------------------------------------------------------------------------------
  void on_socket_open(SocketId id);
  void on_socket_message(SocketId id, std::string_view data, bool binary);
  void on_socket_close(SocketId id, std::uint16_t code, std::string_view reason);
  void on_socket_error(SocketId id);

  // --- Time ------------------------------------------------------------------------------------------
  // When advance() next has work to do (monotonic ms), or kNever.
  double next_deadline_ms() const;
  // Runs everything that is due at clock.now_ms().
  void advance();

  // --- Inspection ------------------------------------------------------------------------------------
  ConnectionState state() const { return state_; }
  const ClientConfig& config() const { return config_; }
  const Metrics& metrics() const { return metrics_; }
  // The counters with the gauges (uptime, outbox, channels) filled in: what getMetrics() shows.
  Metrics metrics_snapshot() const;
  double uptime_ms() const;
  std::uint32_t reconnect_attempts() const { return attempt_; }
  std::size_t outbox_size() const { return outbox_.size(); }
  std::size_t outbox_bytes() const { return outbox_.bytes(); }
  std::size_t inflight_count() const { return inflight_.size(); }
  std::size_t channel_count() const { return channels_.channel_count(); }
  std::uint32_t subscriber_count() const { return channels_.total_refs(); }
  std::string_view connection_id() const { return connection_id_; }
  // The authenticated user id (the token's `sub`, from auth_success); empty before the first connect.
  std::string_view user_id() const { return user_id_; }
  std::string_view channel_name(std::uint32_t channel_id);
  // A channel's references and subscribe state, or nullptr once its last reference was dropped.
  const ChannelEntry* channel(std::uint32_t channel_id) const { return channels_.find(channel_id); }
  std::string_view event_name(std::uint32_t event_id) const { return events_.name(event_id); }

 private:
  bool wanted() const;
  bool can_connect() const { return wanted() && !offline_ && !paused_hidden_; }
  OutboxItem new_item(double ttl_ms) const;
  Status enqueue(OutboxItem item, std::uint32_t& msg_ref);
  // {"type":<type>[,"ref":<ref>], ...the fields of body_json}; false when the type or body is invalid.
  static bool compose(std::string& out, std::string_view type, std::string_view ref, std::string_view body_json);
  void schedule_token_refresh();
  // auth_success, auth_refreshed, subscribed, unsubscribed, error: read with nlohmann (control_message.hpp);
  // `line` is the raw text (an error's fields go to the caller as they came).
  void handle_control(const protocol::Envelope& env, const ControlMessage& msg, std::string_view line);
  void handle_subscribed(const ControlMessage& msg, ChannelEntry& ch);
  void continue_after_gap(const ControlMessage& msg, ChannelEntry& ch);
  void deliver_binary(std::string_view frame);
  void deliver_compact(std::string_view frame);  // protocol v2 (docs/PROTOCOL.md section 13.1)
  // The channel a message with this position goes to, having moved the channel's position to it; nullptr when
  // nobody is subscribed or it was delivered already (a replay overlapping live traffic).
  ChannelEntry* admit(std::string_view channel, bool has_offset, std::uint64_t offset, std::string_view epoch);
  // The id of an event name, announced to the listener the first time (on_event_name).
  std::uint32_t event_id_of(std::string_view name);
  void expire_and_time_out(double now);
  void set_state(ConnectionState to, std::string_view reason);
  void start_connect();
  // After the URL is known: ask for a token (token provider) or open the socket.
  void continue_connect();
  // The server refused a subscribe (an error with the subscribe's ref): the channel ends like a revoked one.
  void handle_subscribe_error(ChannelEntry& ch, std::string_view code, std::string message);
  void end_subscription(ChannelEntry& ch, std::string_view code, std::string_view message);
  void open_socket();
  void drop_socket(std::uint16_t code, std::string_view reason);
  void handle_disconnect(std::uint16_t code, std::string_view reason);
  // After a failed attempt: idle when nobody needs the connection, disconnected while offline or hidden, else a
  // retry after the backoff (at least `min_delay_ms`).
  void retry_later(std::string_view reason, double min_delay_ms);
  void schedule_reconnect(std::string_view reason, double min_delay_ms);
  // A fresh connect cycle (attempts reset) after `error` or a pending retry, when anyone needs the connection.
  void restart();
  // Starts the grace period when nothing needs the socket any more (the last send settled, say).
  void arm_grace_if_unwanted();
  void handle_unsubscribed(const ControlMessage& msg, ChannelEntry& ch);
  void go_idle_if_unwanted();
  void on_authenticated(const ControlMessage& msg);
  void handle_line(std::string_view line);
  void send_subscribe(ChannelEntry& ch, bool update = false);
  void flush_outbox();
  // Sends one frame (text, or binary for binary channel messages) and counts it. False when it could not go.
  bool send_frame(std::string_view frame, bool binary = false);
  void fail_queued(std::string_view code, std::string_view message);
  void settle(const OutboxItem& item, bool ok, std::uint64_t offset, std::string_view data, std::string_view code,
              std::string_view message);
  bool take_inflight(char prefix, std::string_view ref_text, OutboxItem& out);

  ClientConfig config_;
  Clock& clock_;
  Transport& transport_;
  EngineListener& listener_;
  RandomSource& rng_;

  ConnectionState state_ = ConnectionState::kIdle;
  SocketId socket_ = 0;
  std::string token_;
  std::string connection_id_;
  std::string user_id_;
  bool awaiting_token_ = false;
  bool awaiting_url_ = false;      // asked the host for this attempt's URL (url_provider)
  bool explicit_connect_ = false;
  bool stopped_by_user_ = false;     // disconnect() was called
  bool auth_retry_used_ = false;     // one token refresh per failure streak
  std::uint32_t attempt_ = 0;        // consecutive failed attempts

  double reconnect_at_ = kNever;
  double grace_at_ = kNever;
  double auth_deadline_ = kNever;
  double hidden_close_at_ = kNever;
  double token_refresh_at_ = kNever;
  double expires_at_wall_ = 0;     // the token's expiry as told by auth_success / auth_refreshed
  bool refresh_pending_ = false;   // asked the host for a token to refresh in band
  bool offline_ = false;
  bool hidden_ = false;
  bool paused_hidden_ = false;     // closed because the page is hidden
  Heartbeat heartbeat_;
  std::string client_id_;          // prefix of client message ids (dedup by the server)
  std::uint32_t next_auth_ref_ = 1;

  ChannelRegistry channels_;
  EventTable events_;
  std::uint32_t compact_frames_ = 0;  // compact batches received (CompactSpan::frame_seq)
  Outbox outbox_;
  ItemQueue inflight_;  // sent, waiting for ack (in send order)
  std::uint32_t next_msg_ref_ = 1;
  Metrics metrics_;
  std::string scratch_;  // reused encode buffer
};

}  // namespace tidewire::client
