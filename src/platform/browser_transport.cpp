#include "platform/browser_transport.hpp"

#include <emscripten/emscripten.h>

#include <string>

// Node's `ws` emits an 'error' when a socket that is still connecting gets closed, and an 'error' with no
// listener throws (websocket.h's delete removes its onerror). A listener added with addEventListener survives
// that, so closing never raises. In browsers it is harmless.
// clang-format off
EM_JS(void, tw_ignore_late_errors, (int id), {
  var s = WS.sockets[id];
  if (s && typeof s.addEventListener === 'function') s.addEventListener('error', function() {});
});
// clang-format on

namespace tidewire::platform {

BrowserTransport::~BrowserTransport() {
  if (live_ != 0) close(live_, 1000, "client destroyed");
}

client::SocketId BrowserTransport::open(const std::string& url, const std::vector<std::string>& protocols) {
  std::string joined;
  for (const auto& p : protocols) {
    if (!joined.empty()) joined.push_back(',');
    joined += p;
  }
  EmscriptenWebSocketCreateAttributes attrs;
  emscripten_websocket_init_create_attributes(&attrs);
  attrs.url = url.c_str();
  attrs.protocols = joined.empty() ? nullptr : joined.c_str();
  attrs.createOnMainThread = EM_TRUE;
  const EMSCRIPTEN_WEBSOCKET_T ws = emscripten_websocket_new(&attrs);
  if (ws <= 0) return 0;
  emscripten_websocket_set_onopen_callback(ws, this, &BrowserTransport::on_open);
  emscripten_websocket_set_onmessage_callback(ws, this, &BrowserTransport::on_message);
  emscripten_websocket_set_onclose_callback(ws, this, &BrowserTransport::on_close);
  emscripten_websocket_set_onerror_callback(ws, this, &BrowserTransport::on_error);
  live_ = static_cast<client::SocketId>(ws);
  return live_;
}

bool BrowserTransport::is_open(client::SocketId id) const {
  if (id == 0 || id != live_) return false;
  unsigned short state = 0;
  if (emscripten_websocket_get_ready_state(static_cast<EMSCRIPTEN_WEBSOCKET_T>(id), &state) !=
      EMSCRIPTEN_RESULT_SUCCESS) {
    return false;
  }
  return state == 1;  // OPEN: sending while CONNECTING would throw through wasm
}

bool BrowserTransport::send_text(client::SocketId id, std::string_view data) {
  if (!is_open(id)) return false;
  text_buffer_.assign(data.data(), data.size());  // websocket.h wants a NUL-terminated string
  return emscripten_websocket_send_utf8_text(static_cast<EMSCRIPTEN_WEBSOCKET_T>(id), text_buffer_.c_str()) ==
         EMSCRIPTEN_RESULT_SUCCESS;
}

bool BrowserTransport::send_binary(client::SocketId id, std::string_view data) {
  if (!is_open(id)) return false;
  return emscripten_websocket_send_binary(static_cast<EMSCRIPTEN_WEBSOCKET_T>(id),
                                          const_cast<char*>(data.data()),
                                          static_cast<uint32_t>(data.size())) == EMSCRIPTEN_RESULT_SUCCESS;
}

void BrowserTransport::close(client::SocketId id, std::uint16_t code, std::string_view reason) {
  if (id == 0) return;
  const auto ws = static_cast<EMSCRIPTEN_WEBSOCKET_T>(id);
  // WebSocket.close() throws for codes other than 1000 and 3000-4999, and for reasons over 123 bytes: a JS
  // exception through wasm leaks stack, so never let it happen.
  if (code != 1000 && (code < 3000 || code > 4999)) code = 1000;
  std::string r(reason.substr(0, 123));
  while (!r.empty() && (static_cast<unsigned char>(r.back()) & 0xC0) == 0x80) r.pop_back();  // no split UTF-8
  if (!r.empty() && static_cast<unsigned char>(r.back()) >= 0xC0) r.pop_back();
  unsigned short state = 3;
  emscripten_websocket_get_ready_state(ws, &state);
  tw_ignore_late_errors(ws);
  if (state == 0 || state == 1) emscripten_websocket_close(ws, code, r.empty() ? nullptr : r.c_str());
  emscripten_websocket_delete(ws);  // detaches every handler: no late callbacks
  if (id == live_) live_ = 0;
}

EM_BOOL BrowserTransport::on_open(int, const EmscriptenWebSocketOpenEvent* e, void* user) {
  static_cast<BrowserTransport*>(user)->events_.socket_open(static_cast<client::SocketId>(e->socket));
  return EM_TRUE;
}

EM_BOOL BrowserTransport::on_message(int, const EmscriptenWebSocketMessageEvent* e, void* user) {
  std::uint32_t n = e->numBytes;
  if (e->isText && n > 0) --n;  // websocket.h counts the terminating NUL of text frames
  static_cast<BrowserTransport*>(user)->events_.socket_message(
      static_cast<client::SocketId>(e->socket), std::string_view(reinterpret_cast<const char*>(e->data), n),
      !e->isText);
  return EM_TRUE;
}

EM_BOOL BrowserTransport::on_close(int, const EmscriptenWebSocketCloseEvent* e, void* user) {
  static_cast<BrowserTransport*>(user)->events_.socket_close(static_cast<client::SocketId>(e->socket),
                                                             e->code, std::string_view(e->reason));
  return EM_TRUE;
}

EM_BOOL BrowserTransport::on_error(int, const EmscriptenWebSocketErrorEvent* e, void* user) {
  static_cast<BrowserTransport*>(user)->events_.socket_error(static_cast<client::SocketId>(e->socket));
  return EM_TRUE;
}

}  // namespace tidewire::platform
