// ConnectionContext: one connection as the presence, chat and sync Services see it (services.hpp's
// ServiceContext), over the message handler's ConnectionProtocolState and the connection's SessionSink. The
// ServiceBridge makes one for each request it hands to Services; the services tests use it over a FakeSession,
// so they check the replies and errors as the server really encodes them.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

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
  std::function<void(const nlohmann::json&)> reply_later(std::string_view ref) override;
  void error(std::string_view ref, std::string_view code, std::string_view message,
             const nlohmann::json* extra) override;

 private:
  ConnectionProtocolState& state_;
  SessionSink& sink_;
};

// The same connection, for a request that runs on a service worker (service_workers.hpp), away from the
// connection's I/O thread, where ConnectionProtocolState may not be read. What the request needs is copied at
// dispatch, on the I/O thread: the user, the connection id, the token's channel grant, and whether the
// connection was subscribed to the request's `channel` then. The session is held, so a reply to a connection
// that closed meanwhile is dropped safely (SessionSink::send on a closed session queues nothing).
//
// The answer is held until the request is done (send_answer()), so that it leaves after the request's
// broadcasts were handed to the broker: a client that got the reply finds their effects published (as when
// requests ran on the I/O thread). The requester's own copy of a broadcast may then arrive before the reply, as
// with a Redis broker.
class SnapshotContext : public ServiceContext {
 public:
  // `channel`: the request's channel field (sync), or empty.
  SnapshotContext(const ConnectionProtocolState& state, std::shared_ptr<SessionSink> sink, std::string channel);

  std::string_view user_id() const override { return user_id_; }
  std::string_view connection_id() const override { return connection_id_; }
  bool is_subscribed(std::string_view channel) const override { return subscribed_ && channel == channel_; }
  std::string channel_denied(std::string_view channel) const override;
  void reply(std::string_view ref, const nlohmann::json& data) override;
  // Sent straight to the session when called (not held for send_answer()).
  std::function<void(const nlohmann::json&)> reply_later(std::string_view ref) override;
  void error(std::string_view ref, std::string_view code, std::string_view message,
             const nlohmann::json* extra) override;
  // Sends what reply() and error() produced (after Services::handle() returned).
  void send_answer();

 private:
  std::vector<std::string> answer_;
  std::string user_id_;
  std::string connection_id_;
  ChannelGrant grant_;
  std::string channel_;
  bool subscribed_ = false;
  std::shared_ptr<SessionSink> sink_;
};

}  // namespace tidewire::server
