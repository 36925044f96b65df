#include "server/service_bridge.hpp"

#include "server/connection_context.hpp"
#include "server/handler_util.hpp"

namespace tidewire::server {

ServiceBridge::ServiceBridge(Hub& hub, MessageHandler& handler, ServicesConfig config, Clock clock)
    : hub_(hub), handler_(handler), clock_(clock), services_(std::make_unique<Services>(std::move(config), *this, clock)) {
  Services* services = services_.get();
  handler.set_extension([services](ConnectionProtocolState& state, SessionSink& sink, std::string_view type,
                                   const nlohmann::json& message, std::string_view ref) {
    if (!Services::handles(type)) return false;
    ConnectionContext ctx(state, sink);
    services->handle(ctx, type, message, ref);
    return true;
  });
  handler.set_chat_membership([services](std::string_view user, std::string_view room_id) {
    return services->may_subscribe(user, "chat:" + std::string(room_id));
  });
  handler.set_leave_hook([services](ConnectionProtocolState& state, SessionSink&, std::string_view channel) {
    if (state.closed) return;  // the disconnect hook covers every channel at once
    services->on_unsubscribe(state.user_id, state.connection_id, channel);
  });
  handler.set_subscribe_hook([services](ConnectionProtocolState&, SessionSink& sink, std::string_view channel) {
    nlohmann::json members = services->presence_members(channel);
    if (members.empty()) return;
    const nlohmann::json state{{"type", wire::type::kPresenceState}, {"channel", channel}, {"members", std::move(members)}};
    sink.send(state.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  });
  handler.set_disconnect_hook([services](ConnectionProtocolState& state, SessionSink&) {
    if (state.authenticated) services->on_disconnect(state.user_id, state.connection_id);
  });
}

void ServiceBridge::publish(std::string_view channel, std::string_view event, std::string_view from,
                            const nlohmann::json& payload) {
  const std::string payload_json = payload.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  PublishRequest r;
  r.channel = channel;
  r.event = event;
  r.from = from;
  r.payload_json = payload_json;
  r.ts_ms = clock_();
  r.create = true;  // history even when nobody listens right now
  handler_.broker().publish(r, [](const PublishOutcome&) {});  // Redis: a failure counts in broker_errors
}

void ServiceBridge::send_raw(std::string_view channel, std::string_view message_json) {
  hub_.send_raw(channel, std::make_shared<const std::string>(message_json));
}

void ServiceBridge::end_subscriptions(std::string_view channel, std::string_view user, std::string_view reason,
                                      std::string_view message) {
  // Each connection drops the channel from its own state (and leaves its presence there) on its own thread, at
  // its next message or close (MessageHandler::apply_revocations); the hub stops delivering at once.
  hub_.revoke(channel, user, std::make_shared<const std::string>(detail::unsubscribed_notice(channel, reason, message)));
}

}  // namespace tidewire::server
