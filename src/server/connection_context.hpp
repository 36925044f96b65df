// ConnectionContext: one connection as the presence, chat and sync Services see it (services.hpp's
// ServiceContext), over the message handler's ConnectionProtocolState and the connection's SessionSink. The
// ServiceBridge makes one for each request it hands to Services; the services tests use it over a FakeSession,
// so they check the replies and errors as the server really encodes them.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <string>
#include <string_view>

#include "server/message_handler.hpp"
#include "server/services.hpp"
#include "server/session_sink.hpp"

namespace tidewire::server {

class ConnectionContext : public ServiceContext {
 public:
  // Both must outlive the context (one call of Services::handle()).
  ConnectionContext(ConnectionProtocolState& state, SessionSink& sink) : state_(state), sink_(sink) {}

  std::string_view user_id() const override { return state_.user_id; }
  std::string_view connection_id() const override { return state_.connection_id; }
  bool is_subscribed(std::string_view channel) const override;
  // Without the chat membership hook: it would call back into Services, whose lock the caller holds.
  std::string channel_denied(std::string_view channel) const override;
  void reply(std::string_view ref, const nlohmann::json& data) override;
  void error(std::string_view ref, std::string_view code, std::string_view message,
             const nlohmann::json* extra) override;

 private:
  ConnectionProtocolState& state_;
  SessionSink& sink_;
};

}  // namespace tidewire::server
