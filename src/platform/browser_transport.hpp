// client::Transport over the browser's WebSocket, through emscripten/websocket.h (works in Node too when
// globalThis.WebSocket is set). Socket ids are websocket.h handles, which are never reused.
#pragma once

#include <emscripten/websocket.h>

#include "client/engine.hpp"
#include "client/transport.hpp"

namespace tidewire::platform {

// Receives the socket events; implemented by BrowserClient, which forwards them to the engine.
class SocketEvents {
 public:
  virtual ~SocketEvents() = default;
  virtual void socket_open(client::SocketId id) = 0;
  virtual void socket_message(client::SocketId id, std::string_view data, bool binary) = 0;
  virtual void socket_close(client::SocketId id, std::uint16_t code, std::string_view reason) = 0;
  virtual void socket_error(client::SocketId id) = 0;
};

class BrowserTransport final : public client::Transport {
 public:
  explicit BrowserTransport(SocketEvents& events) : events_(events) {}
  ~BrowserTransport() override;
  BrowserTransport(const BrowserTransport&) = delete;
  BrowserTransport& operator=(const BrowserTransport&) = delete;

  client::SocketId open(const std::string& url, const std::vector<std::string>& protocols) override;
  bool send_text(client::SocketId id, std::string_view data) override;
  bool send_binary(client::SocketId id, std::string_view data) override;
  void close(client::SocketId id, std::uint16_t code, std::string_view reason) override;

 private:
  static EM_BOOL on_open(int type, const EmscriptenWebSocketOpenEvent* e, void* user);
  static EM_BOOL on_message(int type, const EmscriptenWebSocketMessageEvent* e, void* user);
  static EM_BOOL on_close(int type, const EmscriptenWebSocketCloseEvent* e, void* user);
  static EM_BOOL on_error(int type, const EmscriptenWebSocketErrorEvent* e, void* user);
  bool is_open(client::SocketId id) const;

  SocketEvents& events_;
  client::SocketId live_ = 0;  // the one socket this transport has open (the engine keeps at most one)
  std::string text_buffer_;    // NUL-terminated copy for send_utf8_text
};

}  // namespace tidewire::platform
