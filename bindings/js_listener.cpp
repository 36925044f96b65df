#include "js_listener.hpp"

#include <emscripten/emscripten.h>

#include <cstddef>

// Each EM_JS function calls one callback of the listener registered under `id` (twListeners, tidewire_api.js).
// twText(ptr, len) decodes UTF-8 from wasm memory. Pointers and lengths are wasm32 values (>>> 0 on the JS side).
EM_JS(void, tw_js_on_state, (int id, const char* f, std::size_t fn, const char* t, std::size_t tn, const char* r,
                             std::size_t rn),
      { twListeners[id].onState(twText(f, fn), twText(t, tn), twText(r, rn)); });
EM_JS(void, tw_js_on_event_name, (int id, unsigned ev, const char* p, std::size_t n),
      { twListeners[id].onEventName(ev >>> 0, twText(p, n)); });
EM_JS(void, tw_js_on_message, (int id, unsigned ch, unsigned ev, const char* p, std::size_t n, double off,
                               double ts, const char* fp, std::size_t fn),
      { twListeners[id].onMessage(ch >>> 0, ev >>> 0, p >>> 0, n >>> 0, off, ts, fp >>> 0, fn >>> 0); });
EM_JS(void, tw_js_on_binary_message, (int id, unsigned ch, unsigned ev, const char* p, std::size_t n, double off,
                                      double ts, const char* fp, std::size_t fn),
      { twListeners[id].onBinaryMessage(ch >>> 0, ev >>> 0, p >>> 0, n >>> 0, off, ts, fp >>> 0, fn >>> 0); });
EM_JS(void, tw_js_on_gap, (int id, unsigned ch, const char* p, std::size_t n),
      { twListeners[id].onGap(ch >>> 0, twText(p, n)); });
EM_JS(void, tw_js_on_ack, (int id, unsigned ref, int ok, double off, const char* c, std::size_t cn, const char* m,
                           std::size_t mn, const char* e, std::size_t en),
      { twListeners[id].onAck(ref >>> 0, ok !== 0, off, twText(c, cn), twText(m, mn), twText(e, en)); });
EM_JS(void, tw_js_on_reply, (int id, unsigned ref, int ok, const char* d, std::size_t dn, const char* c,
                             std::size_t cn, const char* m, std::size_t mn),
      { twListeners[id].onReply(ref >>> 0, ok !== 0, twText(d, dn), twText(c, cn), twText(m, mn)); });
EM_JS(void, tw_js_on_subscribed, (int id, unsigned ch), { twListeners[id].onSubscribed(ch >>> 0); });
EM_JS(void, tw_js_on_presence_diff, (int id, unsigned ch, const char* p, std::size_t n),
      { twListeners[id].onPresenceDiff(ch >>> 0, twText(p, n)); });
EM_JS(void, tw_js_on_unsubscribed, (int id, unsigned ch, const char* c, std::size_t cn, const char* m, std::size_t mn),
      { twListeners[id].onUnsubscribed(ch >>> 0, twText(c, cn), twText(m, mn)); });
EM_JS(void, tw_js_on_error, (int id, const char* c, std::size_t cn, const char* m, std::size_t mn),
      { twListeners[id].onError(twText(c, cn), twText(m, mn)); });
EM_JS(void, tw_js_on_token_request, (int id), { twListeners[id].onTokenRequest(); });

namespace tidewire::bindings {

void JsListener::on_state(client::ConnectionState from, client::ConnectionState to, std::string_view reason) {
  const std::string_view f = client::to_string(from), t = client::to_string(to);
  tw_js_on_state(id_, f.data(), f.size(), t.data(), t.size(), reason.data(), reason.size());
}

void JsListener::on_event_name(std::uint32_t event_id, std::string_view name) {
  tw_js_on_event_name(id_, event_id, name.data(), name.size());
}

// The hot path: numbers only. JS reads the payload (and sender) from HEAPU8 during the call.
void JsListener::on_message(std::uint32_t channel_id, std::uint32_t event_id, std::string_view payload_json,
                            const client::MessageMeta& meta) {
  tw_js_on_message(id_, channel_id, event_id, payload_json.data(), payload_json.size(),
                   static_cast<double>(meta.offset), meta.ts, meta.from.data(), meta.from.size());
}

void JsListener::on_binary_message(std::uint32_t channel_id, std::uint32_t event_id, std::string_view bytes,
                                   const client::MessageMeta& meta) {
  tw_js_on_binary_message(id_, channel_id, event_id, bytes.data(), bytes.size(), static_cast<double>(meta.offset),
                          meta.ts, meta.from.data(), meta.from.size());
}

void JsListener::on_gap(std::uint32_t channel_id, std::string_view reason) {
  tw_js_on_gap(id_, channel_id, reason.data(), reason.size());
}

void JsListener::on_ack(std::uint32_t msg_ref, bool ok, std::uint64_t offset, std::string_view code,
                        std::string_view message, std::string_view error_json) {
  tw_js_on_ack(id_, msg_ref, ok ? 1 : 0, static_cast<double>(offset), code.data(), code.size(), message.data(),
               message.size(), error_json.data(), error_json.size());
}

void JsListener::on_reply(std::uint32_t request_ref, bool ok, std::string_view data_json, std::string_view code,
                          std::string_view message) {
  tw_js_on_reply(id_, request_ref, ok ? 1 : 0, data_json.data(), data_json.size(), code.data(), code.size(),
                 message.data(), message.size());
}

void JsListener::on_subscribed(std::uint32_t channel_id) { tw_js_on_subscribed(id_, channel_id); }

void JsListener::on_presence_diff(std::uint32_t channel_id, std::string_view diff_json) {
  tw_js_on_presence_diff(id_, channel_id, diff_json.data(), diff_json.size());
}

void JsListener::on_unsubscribed(std::uint32_t channel_id, std::string_view code, std::string_view message) {
  tw_js_on_unsubscribed(id_, channel_id, code.data(), code.size(), message.data(), message.size());
}

void JsListener::on_error(std::string_view code, std::string_view message) {
  tw_js_on_error(id_, code.data(), code.size(), message.data(), message.size());
}

void JsListener::on_token_request() { tw_js_on_token_request(id_); }

}  // namespace tidewire::bindings
