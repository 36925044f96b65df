// Small helpers shared by the message handler's translation units (not part of any public interface).
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

#include "protocol/messages.hpp"
#include "protocol/names.hpp"
#include "protocol/wire.hpp"
#include "server/message_handler.hpp"

namespace tidewire::server::detail {

// The string value of `key`, or nullptr when it is absent or not a string. Never throws (unlike j.value()).
inline const std::string* string_field(const nlohmann::json& j, const char* key) {
  const auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return nullptr;
  return &it->get_ref<const std::string&>();
}

inline void send_error(SessionSink& sink, std::string_view code, std::string_view message, std::string_view ref) {
  std::string out;
  protocol::encode_error(out, code, message, ref);
  sink.send(std::move(out));
}

inline void close_connection(ConnectionProtocolState& state, SessionSink& sink, std::uint16_t code,
                             std::string reason) {
  if (state.closed) return;
  state.closed = true;
  if (reason.size() > 123) reason.resize(123);  // the WebSocket limit for a close reason
  sink.close(code, std::move(reason));
}

// The server-initiated `unsubscribed` push (no ref): the subscription ended because access was lost.
inline std::string unsubscribed_notice(std::string_view channel, std::string_view reason, std::string_view message) {
  nlohmann::json j{{"type", wire::type::kUnsubscribed}, {"channel", channel}, {"reason", reason}, {"message", message}};
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// Checks a channel name (bad_request otherwise). Returns false after sending the error.
inline bool check_channel_name(std::string_view channel, SessionSink& sink, std::string_view ref) {
  if (protocol::is_valid_channel(channel)) return true;
  send_error(sink, wire::error::kBadRequest, "channel names are 1-128 bytes of A-Z a-z 0-9 _ : . @ -", ref);
  return false;
}

// A valid channel name from `j`, or nullptr after sending the error.
inline const std::string* channel_field(const nlohmann::json& j, SessionSink& sink, std::string_view ref) {
  const std::string* channel = string_field(j, "channel");
  if (!channel) {
    send_error(sink, wire::error::kBadRequest, "a string \"channel\" is required", ref);
    return nullptr;
  }
  return check_channel_name(*channel, sink, ref) ? channel : nullptr;
}

}  // namespace tidewire::server::detail
