// What the engine tells its host (the embind layer, or a test). Calls happen synchronously from inside engine
// methods; a listener must not call back into the engine re-entrantly except through the documented methods
// (subscribe/unsubscribe/publish are safe).
#pragma once

#include <cstdint>
#include <string_view>

#include "client/connection_state.hpp"

namespace tidewire::client {

struct MessageMeta {
  std::uint64_t offset = 0;
  double ts = 0;
  std::string_view from;
};

// Protocol v2 (docs/PROTOCOL.md section 13.1): where a message's payload and sender sit in its compact batch
// decoded once as UTF-8 text (the payload starts `payload_index` UTF-16 units in, the sender right before it).
// `frame` is valid only during the call; `frame_seq` is new for every frame.
struct CompactSpan {
  std::string_view frame;
  std::uint32_t frame_seq = 0;
  double payload_index = 0;
  std::uint32_t payload_units = 0;
  std::uint32_t from_units = 0;
};

class EngineListener {
 public:
  virtual ~EngineListener() = default;
  virtual void on_state(ConnectionState from, ConnectionState to, std::string_view reason) = 0;
  // First time an event name is seen: later messages carry only `event_id`.
  virtual void on_event_name(std::uint32_t event_id, std::string_view name) = 0;
  // The hot path. `payload_json` is valid only during the call.
  virtual void on_message(std::uint32_t channel_id, std::uint32_t event_id, std::string_view payload_json,
                          const MessageMeta& meta) = 0;
  // A channel message of a v2 compact batch: on_message's arguments plus where they sit in the frame's text (a
  // host that decodes each frame once slices them). By default, on_message.
  virtual void on_compact_message(std::uint32_t channel_id, std::uint32_t event_id, std::string_view payload_json,
                                  const MessageMeta& meta, const CompactSpan& span) {
    (void)span;
    on_message(channel_id, event_id, payload_json, meta);
  }
  // A binary channel message (docs/PROTOCOL.md section 13). `bytes` is valid only during the call.
  virtual void on_binary_message(std::uint32_t channel_id, std::uint32_t event_id, std::string_view bytes,
                                 const MessageMeta& meta) = 0;
  // After a resubscribe the server could not replay what was missed: `reason` is `epoch_changed` or
  // `window_exceeded`. The application should refetch the channel's state.
  virtual void on_gap(std::uint32_t channel_id, std::string_view reason) = 0;
  // The server's verdict on a publish (`ok` with offset, or an error code + message).
  // `code` is empty on success; `timeout`, `expired`, `cleared` or a server error code otherwise.
  // On a server error, `error_json` is the whole error message (extra fields such as retryAfterMs), else "".
  virtual void on_ack(std::uint32_t msg_ref, bool ok, std::uint64_t offset, std::string_view code,
                      std::string_view message, std::string_view error_json) = 0;
  // The answer to a request (Engine::request): `data_json` on success, else an error code + message (a server
  // code, or `timeout` / `expired` / `cleared`). `data_json` is valid only during the call.
  virtual void on_reply(std::uint32_t request_ref, bool ok, std::string_view data_json, std::string_view code,
                        std::string_view message) = 0;
  // The server confirmed a channel's subscription (once per subscription on a socket, not per reference: a
  // host that adds a reference to a subscribed channel reads Engine::channel()).
  virtual void on_subscribed(std::uint32_t channel_id) = 0;
  // A presence_state or presence_diff for a subscribed channel (docs/PROTOCOL.md section 10): the whole
  // message as JSON text.
  virtual void on_presence_diff(std::uint32_t channel_id, std::string_view diff_json) = 0;
  // The server ended a subscription on its own (an `unsubscribed` push, docs/PROTOCOL.md section 4): `code` is
  // the reason (`room_left`, `room_deleted`, `access_revoked`, ...). The channel stays unsubscribed, also across
  // reconnects, until the application subscribes again (Engine::resubscribe).
  virtual void on_unsubscribed(std::uint32_t channel_id, std::string_view code, std::string_view message) = 0;
  // A runtime error: code is a stable string (protocol error codes, or client codes such as `auth_failed`).
  virtual void on_error(std::string_view code, std::string_view message) = 0;
  // Only with ClientConfig::token_provider, before every connect and before the token expires: the host must
  // answer with Engine::set_token(), Engine::token_failed() (a transient failure: retried with the reconnect
  // backoff) or Engine::token_refused() (no user: terminal).
  virtual void on_token_request() = 0;
  // Only with ClientConfig::url_provider, before every connection attempt (before on_token_request): the host
  // must answer with Engine::set_url() or Engine::url_failed() (a failed attempt, retried with the backoff).
  virtual void on_url_request() = 0;
};

}  // namespace tidewire::client
