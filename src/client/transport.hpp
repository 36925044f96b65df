// The socket comes in through this interface: the browser build implements it with emscripten/websocket.h,
// tests with a fake. Events flow back through Engine::on_socket_*, tagged with the socket id so that late
// callbacks from a replaced socket are ignored.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tidewire::client {

using SocketId = std::uint32_t;  // 0 = no socket

class Transport {
 public:
  virtual ~Transport() = default;
  // Starts opening a socket. Returns its id, or 0 when it could not even start (reported as a failed attempt).
  virtual SocketId open(const std::string& url, const std::vector<std::string>& protocols) = 0;
  // Returns false when the socket cannot take the data (not open, or the send failed).
  virtual bool send_text(SocketId id, std::string_view data) = 0;
  virtual bool send_binary(SocketId id, std::string_view data) = 0;
  // Closes and releases the socket. No further events for this id are expected (late ones are ignored).
  virtual void close(SocketId id, std::uint16_t code, std::string_view reason) = 0;
};

}  // namespace tidewire::client
