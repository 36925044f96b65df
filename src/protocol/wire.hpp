// The one home of tidewire's wire names, codes and defaults in C++ (shared by client and server).
// docs/PROTOCOL.md is the contract; web/src/wire.ts mirrors this file for TypeScript.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace tidewire::wire {

inline constexpr int kProtocolVersion = 1;

// Subprotocol used to carry the JWT: the client offers ["jwt", <token>], the server echoes "jwt".
inline constexpr std::string_view kJwtSubprotocol = "jwt";
inline constexpr std::string_view kDefaultPath = "/ws";

namespace type {
inline constexpr std::string_view kAuth = "auth";
inline constexpr std::string_view kAuthSuccess = "auth_success";
inline constexpr std::string_view kSubscribe = "subscribe";
inline constexpr std::string_view kSubscribed = "subscribed";
inline constexpr std::string_view kUnsubscribe = "unsubscribe";
inline constexpr std::string_view kUnsubscribed = "unsubscribed";
inline constexpr std::string_view kChannelMessage = "channel_message";
inline constexpr std::string_view kAck = "ack";
inline constexpr std::string_view kPing = "ping";
inline constexpr std::string_view kPong = "pong";
inline constexpr std::string_view kError = "error";
inline constexpr std::string_view kAuthRefreshed = "auth_refreshed";
inline constexpr std::string_view kReply = "reply";
inline constexpr std::string_view kPresenceJoin = "presence_join";
inline constexpr std::string_view kPresenceUpdate = "presence_update";
inline constexpr std::string_view kPresenceLeave = "presence_leave";
inline constexpr std::string_view kPresenceGet = "presence_get";
inline constexpr std::string_view kPresenceDiff = "presence_diff";
inline constexpr std::string_view kPresenceState = "presence_state";
}  // namespace type

// Reasons carried by `subscribed` when recovery failed (docs/PROTOCOL.md section 9).
namespace recovery {
inline constexpr std::string_view kEpochChanged = "epoch_changed";
inline constexpr std::string_view kWindowExceeded = "window_exceeded";
}  // namespace recovery

// Reasons carried by a server-initiated `unsubscribed` (no ref): the server ended the subscription because the
// connection lost access to the channel (docs/PROTOCOL.md section 3.1). The client does not resubscribe.
namespace unsubscribe_reason {
inline constexpr std::string_view kRoomLeft = "room_left";          // the user left the chat room (chat_leave)
inline constexpr std::string_view kRoomDeleted = "room_deleted";    // the chat room was deleted
inline constexpr std::string_view kAccessRevoked = "access_revoked";  // a token refresh narrowed `channels`
}  // namespace unsubscribe_reason

// Chat limits the server enforces (docs/PROTOCOL.md sections 11 and 14); wire.ts ChatLimits mirrors them.
namespace chat_limits {
inline constexpr std::size_t kTextMaxChars = 4000;     // chat_send / chat_edit text, in code points; never cut
inline constexpr std::size_t kEmojiMaxBytes = 32;      // chat_react emoji, UTF-8 bytes
inline constexpr std::size_t kRoomNameMaxChars = 100;  // chat_create_room name, in code points
}  // namespace chat_limits

// Stable error codes carried by {"type":"error","code":...}.
namespace error {
inline constexpr std::string_view kBadJson = "bad_json";
inline constexpr std::string_view kBadRequest = "bad_request";
inline constexpr std::string_view kUnknownType = "unknown_type";
inline constexpr std::string_view kNotAuthenticated = "not_authenticated";
inline constexpr std::string_view kNotSubscribed = "not_subscribed";
inline constexpr std::string_view kForbidden = "forbidden";
inline constexpr std::string_view kTooManyChannels = "too_many_channels";
inline constexpr std::string_view kRateLimited = "rate_limited";
inline constexpr std::string_view kAuthFailed = "auth_failed";
inline constexpr std::string_view kNotFound = "not_found";
inline constexpr std::string_view kVersionConflict = "version_conflict";
inline constexpr std::string_view kUnsupported = "unsupported";
inline constexpr std::string_view kInternal = "internal";
inline constexpr std::string_view kUnavailable = "unavailable";  // the broker (Redis) is unreachable: retry
// Database change feed (db:<schema>.<table> channels, issue #16): subscribe errors.
inline constexpr std::string_view kBadFilter = "bad_filter";        // malformed changes/filter, unknown column
inline constexpr std::string_view kUnknownTable = "unknown_table";  // not in --changefeed-tables / the database
}  // namespace error

// The database change feed (issue #16): a table's changes are published on `db:<schema>.<table>` with this
// event, by this sender; only the feed publishes there.
namespace changefeed {
inline constexpr std::string_view kChannelPrefix = "db:";
inline constexpr std::string_view kEvent = "postgres_changes";
inline constexpr std::string_view kSender = "postgres";
inline constexpr std::string_view kSlotName = "tidewire_changefeed";
}  // namespace changefeed

// WebSocket close codes used by tidewire (docs/PROTOCOL.md section 5).
namespace close_code {
inline constexpr std::uint16_t kNormal = 1000;
inline constexpr std::uint16_t kGoingAway = 1001;
inline constexpr std::uint16_t kNoStatus = 1005;
inline constexpr std::uint16_t kAbnormal = 1006;
inline constexpr std::uint16_t kPolicyViolation = 1008;
inline constexpr std::uint16_t kMessageTooBig = 1009;
inline constexpr std::uint16_t kInternalError = 1011;
inline constexpr std::uint16_t kTryAgainLater = 1013;
inline constexpr std::uint16_t kAuthFailed = 4001;
inline constexpr std::uint16_t kAuthTimeout = 4002;
inline constexpr std::uint16_t kTokenExpired = 4003;
inline constexpr std::uint16_t kTooManyConnections = 4005;
inline constexpr std::uint16_t kUnsupportedVersion = 4006;
}  // namespace close_code

// What a client should do after a close code.
enum class CloseAction { kNone, kRetry, kRefreshTokenAndRetry, kStop };

constexpr CloseAction classify_close(std::uint16_t code) {
  switch (code) {
    case close_code::kNormal: return CloseAction::kNone;
    case close_code::kPolicyViolation:
    case close_code::kMessageTooBig:
    case close_code::kTooManyConnections:
    case close_code::kUnsupportedVersion: return CloseAction::kStop;
    case close_code::kAuthFailed:
    case close_code::kTokenExpired: return CloseAction::kRefreshTokenAndRetry;
    default: return CloseAction::kRetry;
  }
}

namespace defaults {
inline constexpr std::uint32_t kAuthTimeoutMs = 5000;
inline constexpr std::uint32_t kHeartbeatIntervalMs = 30000;
inline constexpr std::uint32_t kHeartbeatTimeoutMs = 60000;
inline constexpr std::uint32_t kMaxMessageBytes = 64 * 1024;
inline constexpr std::uint32_t kMaxChannelsPerConnection = 100;
inline constexpr std::uint32_t kJwtLeewaySeconds = 30;
inline constexpr std::size_t kMaxRefBytes = 64;
inline constexpr std::size_t kMaxChannelBytes = 128;
inline constexpr std::size_t kMaxEventBytes = 64;
}  // namespace defaults

// The HTTP transports beside the WebSocket (docs/PROTOCOL.md, "HTTP transports"): Server-Sent Events and long
// polling for server -> client, POST for client -> server, on paths under the WebSocket path.
namespace http_transport {
inline constexpr std::string_view kSsePath = "/sse";    // GET: text/event-stream
inline constexpr std::string_view kPollPath = "/poll";  // GET: one JSON batch, at once or after a wait
inline constexpr std::string_view kSendPath = "/send";  // POST: '\n'-separated messages
inline constexpr std::string_view kSessionParam = "session";
inline constexpr std::string_view kAckParam = "ack";
// A stream's or poll's answer names its session in this header too, so that a load balancer in front of several
// nodes can send the session's later requests (`?session=ID`) to the node that holds it (README "Running several
// nodes": HAProxy's `stick store-response res.hdr(Tidewire-Session)`); clients read the id from the body.
inline constexpr std::string_view kSessionHeader = "Tidewire-Session";
// Binary frames (section 13) on the HTTP transports, carried whole (kind byte included):
inline constexpr std::string_view kSseBinaryEvent = "binary";   // SSE: `event: binary`, `data:` the frame in base64
inline constexpr std::string_view kPollBinaryPrefix = "b:";     // a poll line: "b:" then the frame in base64
inline constexpr std::string_view kBinaryContentType = "application/octet-stream";  // POST: the body is one frame
inline constexpr std::uint32_t kSessionTimeoutMs = 30000;  // a session without a stream or poll ends after this
inline constexpr std::uint32_t kPollTimeoutMs = 25000;     // a poll with nothing to return answers after this
// HTTP error codes (the `error` of a JSON error body).
namespace error {
inline constexpr std::string_view kAuthRequired = "auth_required";        // 401: no Authorization: Bearer
inline constexpr std::string_view kAuthFailed = "auth_failed";            // 401
inline constexpr std::string_view kTokenExpired = "token_expired";        // 401
inline constexpr std::string_view kTokenInUrl = "token_in_url";           // 400: tokens never go in the URL
inline constexpr std::string_view kUnknownSession = "unknown_session";    // 404: open a new session
inline constexpr std::string_view kSessionForbidden = "session_forbidden";  // 403: another user's session
inline constexpr std::string_view kBadAck = "bad_ack";                    // 400: ack past what was sent
inline constexpr std::string_view kBadJson = "bad_json";                  // 400: a line of the body is not JSON
inline constexpr std::string_view kMessageTooLarge = "message_too_large";  // 413: body over maxMessageBytes
inline constexpr std::string_view kMethodNotAllowed = "method_not_allowed";  // 405
inline constexpr std::string_view kForbiddenOrigin = "forbidden_origin";  // 403
inline constexpr std::string_view kRequestTimeout = "request_timeout";    // 408: the request came too slowly
}  // namespace error
}  // namespace http_transport

}  // namespace tidewire::wire
