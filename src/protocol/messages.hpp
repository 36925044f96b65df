// Encoders for every message of docs/PROTOCOL.md, shared by client and server. Each appends one JSON object
// (no trailing newline) to `out`. Payloads are passed as already-valid JSON text and copied verbatim.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tidewire::protocol {

// Client -> server
void encode_auth(std::string& out, std::string_view token);
// A changefeed channel's `changes` (`db:<schema>.<table>`): event INSERT | UPDATE | DELETE | *, and an optional
// filter `col=op.value`. An empty event: no `changes` field.
struct SubscribeChanges {
  std::string_view event;
  std::string_view filter;
};
void encode_subscribe(std::string& out, std::string_view channel, std::string_view ref,
                      const SubscribeChanges& changes = {});
// A subscribe that asks for recovery of every publication after `since_offset` in `since_epoch`.
void encode_subscribe_since(std::string& out, std::string_view channel, std::string_view ref,
                            std::uint64_t since_offset, std::string_view since_epoch,
                            const SubscribeChanges& changes = {});
// An in-band token refresh on an authenticated connection (docs/PROTOCOL.md section 8).
void encode_auth_refresh(std::string& out, std::string_view token, std::string_view ref);
void encode_unsubscribe(std::string& out, std::string_view channel, std::string_view ref);
// `id` is the client message id that makes the publish idempotent (empty: none).
void encode_publish(std::string& out, std::string_view channel, std::string_view event, std::string_view payload_json,
                    std::string_view ref, std::string_view id = std::string_view());
void encode_ping(std::string& out, double ts);

// Server -> client
struct AuthSuccess {
  std::string_view connection_id;
  std::string_view user_id;
  std::uint64_t server_time_ms = 0;
  std::uint32_t heartbeat_interval_ms = 0;
  std::uint32_t max_message_bytes = 0;
  std::uint32_t max_channels = 0;
  // Added with sections 8 and 14 (written only when non-zero).
  std::uint64_t expires_at_ms = 0;           // the token's exp, in ms
  std::uint32_t rate_messages_per_second = 0;  // limits.rateLimit
  std::uint32_t rate_burst = 0;
  std::uint32_t max_connections_per_user = 0;
};
void encode_auth_success(std::string& out, const AuthSuccess& a);
void encode_subscribed(std::string& out, std::string_view channel, std::string_view ref);
void encode_unsubscribed(std::string& out, std::string_view channel, std::string_view ref);

struct Broadcast {
  std::string_view channel;
  std::string_view event;
  std::uint64_t offset = 0;
  std::uint64_t ts_ms = 0;
  std::string_view from;
  std::string_view payload_json;
  std::string_view epoch;  // the stream's epoch (section 9); omitted when empty
};
// payload is written last, so clients can scan the envelope cheaply.
void encode_broadcast(std::string& out, const Broadcast& b);
void encode_ack(std::string& out, std::string_view ref, std::string_view channel, std::uint64_t offset);
// `client_ts` is echoed only when `has_client_ts`.
void encode_pong(std::string& out, bool has_client_ts, double client_ts, std::uint64_t server_time_ms);
// The same, carrying the ping's `ref` (omitted when empty): a reply carries its request's ref (PROTOCOL.md 2).
void encode_pong(std::string& out, bool has_client_ts, double client_ts, std::uint64_t server_time_ms,
                 std::string_view ref);
void encode_error(std::string& out, std::string_view code, std::string_view message, std::string_view ref);

// Section 9: `subscribed` with the stream position, and with `since`: recovered and reason (empty: none).
struct Subscribed {
  std::string_view channel, ref, epoch;
  std::uint64_t offset = 0;
  bool has_since = false;  // write `recovered` (and `reason` when not empty)
  bool recovered = false;
  std::string_view reason;
};
void encode_subscribed(std::string& out, const Subscribed& s);
// An ack; `duplicate` adds "duplicate":true (the id was seen before and not broadcast again).
void encode_ack(std::string& out, std::string_view ref, std::string_view channel, std::uint64_t offset, bool duplicate);
// Section 8: the answer to an in-band token refresh.
void encode_auth_refreshed(std::string& out, std::string_view ref, std::uint64_t expires_at_ms);
// An error with `retryAfterMs` (rate_limited, section 14).
void encode_error_retry(std::string& out, std::string_view code, std::string_view message, std::string_view ref,
                        std::uint64_t retry_after_ms);
// {"type":"reply","ref":...,"data":<data_json>} (sections 10-12). `data_json` must be valid JSON.
void encode_reply(std::string& out, std::string_view ref, std::string_view data_json);

}  // namespace tidewire::protocol
