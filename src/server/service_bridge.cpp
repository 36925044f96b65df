#include "server/service_bridge.hpp"

#include "server/connection_context.hpp"
#include "server/handler_util.hpp"

#include <algorithm>

namespace tidewire::server {

namespace {

// SQLite's stores are used by one thread at a time; Postgres gets a worker per pooled connection.
unsigned worker_threads(const ServicesConfig& c) {
  if (c.worker_threads >= 0) return static_cast<unsigned>(c.worker_threads);
  return c.database.empty() ? 1 : std::max(1u, c.database_pool);
}

const std::string* string_member(const nlohmann::json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? &it->get_ref<const std::string&>() : nullptr;
}

// The ordering key of a chat/sync request (service_workers.hpp).
std::string order_key(std::string_view type, const nlohmann::json& message, const std::string& user) {
  if (type.substr(0, 5) == "sync_") {
    if (const std::string* channel = string_member(message, "channel")) return *channel;
  } else if (const std::string* room = string_member(message, "roomId")) {
    return "chat:" + *room;
  }
  return "user:" + user;
}

}  // namespace

ServiceBridge::ServiceBridge(Hub& hub, MessageHandler& handler, ServicesConfig config, Clock clock)
    : hub_(hub),
      handler_(handler),
      clock_(clock),
      services_(std::make_unique<Services>(config, *this, clock)),
      workers_(std::make_unique<ServiceWorkers>(worker_threads(config))) {
  Services* services = services_.get();
  ServiceWorkers* workers = workers_.get();
  handler.set_extension([services, workers](ConnectionProtocolState& state, SessionSink& sink, std::string_view type,
                                            const nlohmann::json& message, std::string_view ref) {
    if (!Services::handles(type)) return false;
    if (type.substr(0, 9) == "presence_") {  // in memory: at once
      ConnectionContext ctx(state, sink);
      services->handle(ctx, type, message, ref);
      return true;
    }
    const std::string* channel = message.is_object() ? string_member(message, "channel") : nullptr;
    auto ctx = std::make_shared<SnapshotContext>(state, sink.shared(),
                                                 channel ? *channel : std::string());
    const std::string key = message.is_object() ? order_key(type, message, state.user_id) : "user:" + state.user_id;
    workers->post(key, [services, ctx, type = std::string(type), message, ref = std::string(ref)] {
      services->handle(*ctx, type, message, ref);
      ctx->send_answer();  // after the request's broadcasts (connection_context.hpp)
    });
    return true;
  });
  handler.set_chat_membership_async(
      [services, workers](std::string user, std::string room_id, std::function<void(std::optional<bool>)> done) {
        const std::string channel = "chat:" + room_id;
        workers->post(channel, [services, user = std::move(user), channel, done = std::move(done)] {
          done(services->may_subscribe_checked(user, channel));
        });
      });
  handler.set_leave_hook([services](ConnectionProtocolState& state, SessionSink&, std::string_view channel) {
    if (state.closed) return;  // the disconnect hook covers every channel at once
    services->on_unsubscribe(state.user_id, state.connection_id, channel);
  });
  // With Redis, the channel's first presence_state on this node comes from the store's thread once read; the
  // client applies the diffs it got meanwhile over it (PROTOCOL section 10), so it may come after them.
  handler.set_subscribe_hook([services](ConnectionProtocolState&, SessionSink& sink, std::string_view channel) {
    auto self = sink.shared();
    services->presence_members(channel, [self, channel = std::string(channel)](nlohmann::json members) {
      if (members.empty()) return;
      const nlohmann::json state{{"type", wire::type::kPresenceState}, {"channel", channel}, {"members", std::move(members)}};
      self->send(state.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    });
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
