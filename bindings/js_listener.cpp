#include "js_listener.hpp"

#include <string>

namespace tidewire::bindings {

using emscripten::val;

namespace {
std::string s(std::string_view v) { return std::string(v); }
}  // namespace

JsListener::JsListener(val callbacks)
    : on_state_(callbacks["onState"]),
      on_event_name_(callbacks["onEventName"]),
      on_message_(callbacks["onMessage"]),
      on_binary_message_(callbacks["onBinaryMessage"]),
      on_gap_(callbacks["onGap"]),
      on_ack_(callbacks["onAck"]),
      on_reply_(callbacks["onReply"]),
      on_subscribed_(callbacks["onSubscribed"]),
      on_presence_diff_(callbacks["onPresenceDiff"]),
      on_error_(callbacks["onError"]),
      on_token_request_(callbacks["onTokenRequest"]) {}

void JsListener::on_state(client::ConnectionState from, client::ConnectionState to, std::string_view reason) {
  on_state_(s(client::to_string(from)), s(client::to_string(to)), s(reason));
}

void JsListener::on_event_name(std::uint32_t event_id, std::string_view name) { on_event_name_(event_id, s(name)); }

// The hot path: numbers only. JS reads the payload (and sender) from HEAPU8 during the call.
void JsListener::on_message(std::uint32_t channel_id, std::uint32_t event_id, std::string_view payload_json,
                            const client::MessageMeta& meta) {
  on_message_(channel_id, event_id, reinterpret_cast<std::uintptr_t>(payload_json.data()),
              static_cast<std::uint32_t>(payload_json.size()), static_cast<double>(meta.offset), meta.ts,
              reinterpret_cast<std::uintptr_t>(meta.from.data()), static_cast<std::uint32_t>(meta.from.size()));
}

void JsListener::on_binary_message(std::uint32_t channel_id, std::uint32_t event_id, std::string_view bytes,
                                   const client::MessageMeta& meta) {
  on_binary_message_(channel_id, event_id, reinterpret_cast<std::uintptr_t>(bytes.data()),
                     static_cast<std::uint32_t>(bytes.size()), static_cast<double>(meta.offset), meta.ts,
                     reinterpret_cast<std::uintptr_t>(meta.from.data()), static_cast<std::uint32_t>(meta.from.size()));
}

void JsListener::on_gap(std::uint32_t channel_id, std::string_view reason) { on_gap_(channel_id, s(reason)); }

void JsListener::on_ack(std::uint32_t msg_ref, bool ok, std::uint64_t offset, std::string_view code,
                        std::string_view message, std::string_view error_json) {
  on_ack_(msg_ref, ok, static_cast<double>(offset), s(code), s(message), s(error_json));
}

void JsListener::on_reply(std::uint32_t request_ref, bool ok, std::string_view data_json, std::string_view code,
                          std::string_view message) {
  on_reply_(request_ref, ok, s(data_json), s(code), s(message));
}

void JsListener::on_subscribed(std::uint32_t channel_id) { on_subscribed_(channel_id); }

void JsListener::on_presence_diff(std::uint32_t channel_id, std::string_view diff_json) {
  on_presence_diff_(channel_id, s(diff_json));
}

void JsListener::on_error(std::string_view code, std::string_view message) { on_error_(s(code), s(message)); }

void JsListener::on_token_request() { on_token_request_(); }

}  // namespace tidewire::bindings
