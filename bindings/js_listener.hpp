// EngineListener that forwards to a JS listener object (WasmCallbacks in tidewire_module.d.mts), one named
// method per engine event. The object is internal to the web package (web/src/client.ts) and its methods must
// never throw: a JS exception through wasm leaks wasm stack.
//
// To add an event: a virtual in client::EngineListener, its override here calling `js_.call<void>("onX", ...)`,
// its method in WasmCallbacks (.d.mts) and its handler in client.ts.
#pragma once

#include <emscripten/val.h>

#include "client/engine_listener.hpp"

namespace tidewire::bindings {

class JsListener final : public client::EngineListener {
 public:
  explicit JsListener(emscripten::val js) : js_(std::move(js)) {}

  void on_state(client::ConnectionState from, client::ConnectionState to, std::string_view reason) override;
  void on_event_name(std::uint32_t event_id, std::string_view name) override;
  void on_message(std::uint32_t channel_id, std::uint32_t event_id, std::string_view payload_json,
                  const client::MessageMeta& meta) override;
  void on_compact_message(std::uint32_t channel_id, std::uint32_t event_id, std::string_view payload_json,
                          const client::MessageMeta& meta, const client::CompactSpan& span) override;
  void on_binary_message(std::uint32_t channel_id, std::uint32_t event_id, std::string_view bytes,
                         const client::MessageMeta& meta) override;
  void on_gap(std::uint32_t channel_id, std::string_view reason) override;
  void on_ack(std::uint32_t msg_ref, bool ok, std::uint64_t offset, std::string_view code,
              std::string_view message, std::string_view error_json) override;
  void on_reply(std::uint32_t request_ref, bool ok, std::string_view data_json, std::string_view code,
                std::string_view message) override;
  void on_subscribed(std::uint32_t channel_id) override;
  void on_presence_diff(std::uint32_t channel_id, std::string_view diff_json) override;
  void on_unsubscribed(std::uint32_t channel_id, std::string_view code, std::string_view message) override;
  void on_error(std::string_view code, std::string_view message) override;
  void on_token_request() override;
  void on_url_request() override;

 private:
  emscripten::val js_;
};

}  // namespace tidewire::bindings
