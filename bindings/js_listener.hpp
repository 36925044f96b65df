// EngineListener that forwards to the JS callbacks object registered under `id` (see tidewire_api.js). The
// callbacks are internal to the web package (web/src/client.ts) and must never throw: a JS exception through
// wasm leaks wasm stack. Strings go out as (pointer, length) into wasm memory, decoded on the JS side.
#pragma once

#include "client/engine_listener.hpp"

namespace tidewire::bindings {

class JsListener final : public client::EngineListener {
 public:
  explicit JsListener(int id) : id_(id) {}

  void on_state(client::ConnectionState from, client::ConnectionState to, std::string_view reason) override;
  void on_event_name(std::uint32_t event_id, std::string_view name) override;
  void on_message(std::uint32_t channel_id, std::uint32_t event_id, std::string_view payload_json,
                  const client::MessageMeta& meta) override;
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

 private:
  int id_;
};

}  // namespace tidewire::bindings
