#include "js_listener.hpp"

#include <emscripten/emscripten.h>

#include <string>

// The per-message path stays off embind: one EM_JS call per message, numbers only, and JS reads the payload and
// sender from HEAPU8 during the call. An embind `val` call would convert each argument through its registered
// type, and a std::string argument would copy and decode in JS (≈ 600 ns for 100 bytes against ≈ 300 ns for
// (ptr, len) + TextDecoder: docs/BENCHMARKS.md). Every other event goes through `val` (JsListener below).
// `cb` is the listener object's emval handle, held alive by JsListener::js_.
using emscripten::EM_VAL;
EM_JS(void, tw_js_on_message, (EM_VAL cb, unsigned ch, unsigned ev, const char* p, std::size_t n, double off,
                               double ts, const char* fp, std::size_t fn),
      { Emval.toValue(cb).onMessage(ch >>> 0, ev >>> 0, p >>> 0, n >>> 0, off, ts, fp >>> 0, fn >>> 0); });
EM_JS(void, tw_js_on_binary_message, (EM_VAL cb, unsigned ch, unsigned ev, const char* p, std::size_t n,
                                      double off, double ts, const char* fp, std::size_t fn),
      { Emval.toValue(cb).onBinaryMessage(ch >>> 0, ev >>> 0, p >>> 0, n >>> 0, off, ts, fp >>> 0, fn >>> 0); });

// Protocol v2: no bytes to read per message; JS decodes the frame once (per frame_seq) and slices the payload and
// the sender out of its text at UTF-16 indexes.
EM_JS(void, tw_js_on_compact_message, (EM_VAL cb, unsigned ch, unsigned ev, const char* f, std::size_t n,
                                       unsigned seq, double at, unsigned units, unsigned from_units, double off,
                                       double ts),
      { Emval.toValue(cb).onCompactMessage(ch >>> 0, ev >>> 0, f >>> 0, n >>> 0, seq >>> 0, at, units >>> 0,
                                           from_units >>> 0, off, ts); });

namespace tidewire::bindings {

namespace {
std::string s(std::string_view v) { return std::string(v); }
}  // namespace

void JsListener::on_state(client::ConnectionState from, client::ConnectionState to, std::string_view reason) {
  js_.call<void>("onState", from, to, s(reason));
}

void JsListener::on_event_name(std::uint32_t event_id, std::string_view name) {
  js_.call<void>("onEventName", event_id, s(name));
}

void JsListener::on_message(std::uint32_t channel_id, std::uint32_t event_id, std::string_view payload_json,
                            const client::MessageMeta& meta) {
  tw_js_on_message(js_.as_handle(), channel_id, event_id, payload_json.data(), payload_json.size(),
                   static_cast<double>(meta.offset), meta.ts, meta.from.data(), meta.from.size());
}

void JsListener::on_compact_message(std::uint32_t channel_id, std::uint32_t event_id, std::string_view,
                                    const client::MessageMeta& meta, const client::CompactSpan& span) {
  tw_js_on_compact_message(js_.as_handle(), channel_id, event_id, span.frame.data(), span.frame.size(),
                           span.frame_seq, span.payload_index, span.payload_units, span.from_units,
                           static_cast<double>(meta.offset), meta.ts);
}

void JsListener::on_binary_message(std::uint32_t channel_id, std::uint32_t event_id, std::string_view bytes,
                                   const client::MessageMeta& meta) {
  tw_js_on_binary_message(js_.as_handle(), channel_id, event_id, bytes.data(), bytes.size(),
                          static_cast<double>(meta.offset), meta.ts, meta.from.data(), meta.from.size());
}

void JsListener::on_gap(std::uint32_t channel_id, std::string_view reason) {
  js_.call<void>("onGap", channel_id, s(reason));
}

void JsListener::on_ack(std::uint32_t msg_ref, bool ok, std::uint64_t offset, std::string_view code,
                        std::string_view message, std::string_view error_json) {
  js_.call<void>("onAck", msg_ref, ok, static_cast<double>(offset), s(code), s(message), s(error_json));
}

void JsListener::on_reply(std::uint32_t request_ref, bool ok, std::string_view data_json, std::string_view code,
                          std::string_view message) {
  js_.call<void>("onReply", request_ref, ok, s(data_json), s(code), s(message));
}

void JsListener::on_subscribed(std::uint32_t channel_id) { js_.call<void>("onSubscribed", channel_id); }

void JsListener::on_presence_diff(std::uint32_t channel_id, std::string_view diff_json) {
  js_.call<void>("onPresenceDiff", channel_id, s(diff_json));
}

void JsListener::on_unsubscribed(std::uint32_t channel_id, std::string_view code, std::string_view message) {
  js_.call<void>("onUnsubscribed", channel_id, s(code), s(message));
}

void JsListener::on_error(std::string_view code, std::string_view message) {
  js_.call<void>("onError", s(code), s(message));
}

void JsListener::on_token_request() { js_.call<void>("onTokenRequest"); }

void JsListener::on_url_request() { js_.call<void>("onUrlRequest"); }

}  // namespace tidewire::bindings
