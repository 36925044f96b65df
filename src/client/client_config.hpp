// Every client option with its default, in one place (mirrored by the TS options in web/src/options.ts).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "client/backoff.hpp"
#include "protocol/wire.hpp"

namespace tidewire::client {

enum class AuthMode : std::uint8_t {
  kSubprotocol,   // ['jwt', token] in Sec-WebSocket-Protocol (default)
  kFirstMessage,  // {"type":"auth","token":...} as the first message
};

struct ClientConfig {
  std::string url;                    // ws:// or wss:// URL of the server's WebSocket path
  AuthMode auth_mode = AuthMode::kSubprotocol;
  bool token_provider = false;        // true: ask the host for a token before every (re)connect
  bool url_provider = false;          // true: ask the host for the URL before every connection attempt (`url` unused)
  double grace_ms = 1000;             // close this long after the last subscriber leaves
  BackoffPolicy backoff{};            // reconnect delays (base 1 s, cap 30 s)
  std::uint32_t max_reconnect_attempts = 0;  // 0 = unlimited; past it the state is `error`
  double heartbeat_interval_ms = wire::defaults::kHeartbeatIntervalMs;  // client ping period
  double heartbeat_timeout_ms = wire::defaults::kHeartbeatTimeoutMs;    // silence that triggers a probe
  double probe_timeout_ms = 5000;     // an unanswered probe ping declares the socket dead
  double hidden_close_ms = 1000;      // page hidden this long: close (reopened when visible); < 0: never
  // open -> auth_success; with a token provider, also the longest wait for its answer (then a failed attempt)
  double auth_timeout_ms = wire::defaults::kAuthTimeoutMs;
  std::size_t outbox_max_messages = 1000;   // queued sends while not connected
  std::size_t outbox_max_bytes = 1 << 20;   // 1 MiB
  double ack_timeout_ms = 10000;            // a sent message without ack this long fails with `timeout`; 0: never
};

}  // namespace tidewire::client
