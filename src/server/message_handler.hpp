// The protocol logic of one connection, with no I/O: text in, replies and hub calls out (docs/PROTOCOL.md).
//
// The transport calls on_open() after the upgrade, on_text()/on_binary() per frame, on_auth_timeout() when
// the first-message auth deadline passes and on_close() once at the end. Everything a client sends is
// untrusted: the handler parses with exceptions off, checks every type, and answers every malformed request
// with an `error` message carrying the request's `ref` (when it could be read); the connection stays open.
// It never throws for bad input. It is safe to call from several threads for different connections.
#pragma once

#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <string_view>

#include "server/hub.hpp"
#include "server/jwt_verifier.hpp"
#include "server/session_sink.hpp"

namespace tidewire::server {

struct HandlerLimits {
  std::uint32_t max_message_bytes = wire::defaults::kMaxMessageBytes;
  std::uint32_t max_channels = wire::defaults::kMaxChannelsPerConnection;
  std::uint32_t heartbeat_interval_ms = wire::defaults::kHeartbeatIntervalMs;
};

// Per-connection protocol state, owned by the session and only touched from its strand.
struct ConnectionState {
  std::string connection_id;
  bool authenticated = false;
  bool closed = false;            // the handler asked to close: ignore the rest of the frame
  std::string user_id;
  std::int64_t token_exp_s = 0;   // the token's exp, for a later token_expired (4003) timer
  std::set<std::string, std::less<>> channels;
};

class MessageHandler {
 public:
  // Deeper JSON nesting is refused before parsing (nlohmann's serializer recurses).
  static constexpr int kMaxJsonDepth = 64;

  using Clock = std::function<std::uint64_t()>;  // ms since the epoch

  MessageHandler(Hub& hub, const JwtVerifier& verifier, HandlerLimits limits, Clock clock);

  // After the upgrade. `preauth_user` is the token subject when the subprotocol carried a valid token (then
  // auth_success is sent at once); empty when the client must send `auth` first.
  void on_open(ConnectionState& state, SessionSink& sink, std::string_view preauth_user) const;
  // One text frame: one or more '\n'-separated messages.
  void on_text(ConnectionState& state, SessionSink& sink, std::string_view frame) const;
  void on_binary(ConnectionState& state, SessionSink& sink) const;
  // The first-message auth deadline passed: close 4002 unless authenticated by now.
  void on_auth_timeout(ConnectionState& state, SessionSink& sink) const;
  // The connection is gone: leave every channel.
  void on_close(ConnectionState& state, SessionSink& sink) const;

  const HandlerLimits& limits() const { return limits_; }

 private:
  void handle_message(ConnectionState& state, SessionSink& sink, std::string_view text) const;
  void handle_auth(ConnectionState& state, SessionSink& sink, const std::string* token, std::string_view ref) const;
  void send_auth_success(ConnectionState& state, SessionSink& sink) const;

  Hub& hub_;
  const JwtVerifier& verifier_;
  HandlerLimits limits_;
  Clock clock_;
};

// Largest nesting depth of arrays/objects in `json` (strings skipped), stopping early once above `limit`.
int json_nesting_depth(std::string_view json, int limit);

}  // namespace tidewire::server
