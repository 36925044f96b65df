// The sans-IO client engine: the connection state machine, subscriptions, outbox and heartbeat.
//
// Bytes, socket events and the current time go in (on_socket_*, advance()); frames, socket commands and
// listener calls come out. It never blocks, never sleeps and knows nothing of Emscripten: the platform layer
// (src/platform) and the tests (tests/native) drive it the same way.
//
// Threading: single-threaded. Every method must be called from the same thread.
#pragma once

#include <cstdint>
#include <deque>
#include <limits>
#include <string>
#include <string_view>

#include "client/channel_registry.hpp"
#include "client/client_config.hpp"
#include "client/clock.hpp"
#include "client/connection_state.hpp"
#include "client/engine_listener.hpp"
#include "client/event_table.hpp"
#include "client/metrics.hpp"
#include "client/outbox.hpp"
#include "client/random_source.hpp"
#include "client/transport.hpp"

namespace tidewire::client {

// Status values returned at the API boundary (the TS layer turns them into Errors).
enum class Status : std::uint8_t {
  kOk,
  kInvalidChannel,
  kInvalidEvent,
  kInvalidPayload,
  kOutboxFull,
  kUnknownChannel,
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
  // Drops one reference; the last reference of the last channel starts the grace period.
  void unsubscribe(std::uint32_t channel_id);
  // Publishes `payload_json` (valid JSON text) as `event` on `channel`. Queued while not connected.
  // The server's verdict arrives as on_ack(msg_ref, ...).
  Status publish(std::string_view channel, std::string_view event, std::string_view payload_json,
                 std::uint32_t& msg_ref);
  // Keeps the connection open even with no subscribers, until disconnect().
  void connect();
  // Closes the socket on purpose and stays `disconnected` (subscriptions and outbox are kept).
  void disconnect();
  // Manual reconnect: resets the attempt counter and connects now.
  void reconnect();
  // Sets the token. With a token provider, this answers on_token_request() and continues the connect.
  void set_token(std::string_view token);

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
  const Metrics& metrics() const { return metrics_; }
  double uptime_ms() const;
  std::uint32_t reconnect_attempts() const { return attempt_; }
  std::size_t outbox_size() const { return outbox_.size(); }
  std::size_t outbox_bytes() const { return outbox_.bytes(); }
  std::size_t inflight_count() const { return inflight_.size(); }
  std::size_t channel_count() const { return channels_.channel_count(); }
  std::uint32_t subscriber_count() const { return channels_.total_refs(); }
  std::string_view connection_id() const { return connection_id_; }
  std::string_view channel_name(std::uint32_t channel_id);
  std::string_view event_name(std::uint32_t event_id) const { return events_.name(event_id); }

 private:
  bool wanted() const;
  void set_state(ConnectionState to, std::string_view reason);
  void start_connect();
  void open_socket();
  void drop_socket(std::uint16_t code, std::string_view reason);
  void handle_disconnect(std::uint16_t code, std::string_view reason);
  void schedule_reconnect(std::string_view reason);
  void go_idle_if_unwanted();
  void on_authenticated(std::string_view line);
  void handle_line(std::string_view line);
  void send_subscribe(ChannelEntry& ch);
  void flush_outbox();
  bool send_frame(std::string_view frame);
  void fail_queued(std::string_view code, std::string_view message);

  ClientConfig config_;
  Clock& clock_;
  Transport& transport_;
  EngineListener& listener_;
  RandomSource& rng_;

  ConnectionState state_ = ConnectionState::kIdle;
  SocketId socket_ = 0;
  std::string token_;
  std::string connection_id_;
  bool awaiting_token_ = false;
  bool explicit_connect_ = false;
  bool stopped_by_user_ = false;     // disconnect() was called
  bool auth_retry_used_ = false;     // one token refresh per failure streak
  std::uint32_t attempt_ = 0;        // consecutive failed attempts

  double reconnect_at_ = kNever;
  double grace_at_ = kNever;
  double auth_deadline_ = kNever;
  double ping_at_ = kNever;
  double last_rx_ms_ = 0;
  double heartbeat_interval_ms_;

  ChannelRegistry channels_;
  EventTable events_;
  Outbox outbox_;
  std::deque<OutboxItem> inflight_;  // sent, waiting for ack (in send order)
  std::uint32_t next_msg_ref_ = 1;
  Metrics metrics_;
  std::string scratch_;  // reused encode buffer
};

}  // namespace tidewire::client
