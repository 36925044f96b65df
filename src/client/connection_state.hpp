// The client's connection states (one place; mirrored in web/src/wire.ts).
#pragma once

#include <cstdint>
#include <string_view>

namespace tidewire::client {

enum class ConnectionState : std::uint8_t {
  kIdle,            // no socket and nobody needs one (lazy: nothing subscribed)
  kConnecting,      // waiting for a token or for the socket to open
  kAuthenticating,  // socket open, waiting for auth_success
  kConnected,       // authenticated; subscriptions and sends flow
  kReconnecting,    // lost the socket; a retry is scheduled
  kDisconnected,    // closed on purpose (disconnect(), offline, hidden page); subscriptions are kept
  kError,           // gave up (terminal close code or too many attempts); reconnect() starts again
};

constexpr std::string_view to_string(ConnectionState s) {
  switch (s) {
    case ConnectionState::kIdle: return "idle";
    case ConnectionState::kConnecting: return "connecting";
    case ConnectionState::kAuthenticating: return "authenticating";
    case ConnectionState::kConnected: return "connected";
    case ConnectionState::kReconnecting: return "reconnecting";
    case ConnectionState::kDisconnected: return "disconnected";
    case ConnectionState::kError: return "error";
  }
  return "unknown";
}

}  // namespace tidewire::client
