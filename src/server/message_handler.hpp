// The protocol logic of one connection, with no I/O: text in, replies and hub calls out (docs/PROTOCOL.md).
//
// The transport calls on_open() after the upgrade, on_text()/on_binary() per frame, on_auth_timeout() when
// the first-message auth deadline passes, on_expiry_timer() when the timer asked for by
// SessionSink::arm_expiry_timer() fires, and on_close() once at the end. Everything a client sends is
// untrusted: the handler parses with exceptions off, checks every type, and answers every malformed request
// with an `error` message carrying the request's `ref` (when it could be read); the connection stays open.
// It never throws for bad input. It is safe to call from several threads for different connections.
//
// Files: message_handler.cpp (entry points, auth, dispatch), handler_channels.cpp (subscribe, unsubscribe,
// publish, binary publish).
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "server/channel_access.hpp"
#include "server/broker.hpp"
#include "server/hub.hpp"
#include "server/jwt_verifier.hpp"
#include "server/metrics.hpp"
#include "server/rate_limiter.hpp"
#include "server/session_sink.hpp"
#include "server/user_connections.hpp"

namespace tidewire::server {

class ChangefeedCatalog;

struct HandlerLimits {
  std::uint32_t max_message_bytes = wire::defaults::kMaxMessageBytes;
  std::uint32_t max_channels = wire::defaults::kMaxChannelsPerConnection;
  std::uint32_t heartbeat_interval_ms = wire::defaults::kHeartbeatIntervalMs;
  std::uint32_t rate_per_second = 0;           // token bucket per connection (0 = no limit)
  std::uint32_t rate_burst = 0;
  std::uint32_t max_connections_per_user = 0;  // 0 = no limit
};

// What the handler knows of one connection (its identity, its subscriptions, its rate limit): owned by the
// transport's session and only touched on that session's I/O thread (the one thread that runs its io_context),
// so it needs no lock. Not the client's ConnectionState (src/client), which is a connection's lifecycle state.
struct ConnectionProtocolState {
  std::string connection_id;
  bool authenticated = false;
  bool closed = false;            // the handler asked to close: ignore the rest of the frame
  bool counted = false;           // counted in the per-user connection limit
  std::string user_id;
  std::int64_t token_exp_s = 0;   // the token's exp (0: none): the server closes with 4003 then
  ChannelGrant grant;             // the token's `channels` claim
  std::optional<RateLimiter> limiter;
  std::set<std::string, std::less<>> channels;
  // Subscribes waiting for an answer from another thread, each with the subscribes and unsubscribes of the same
  // channel that arrived meanwhile: replayed in order after it, so a quick subscribe + unsubscribe ends
  // unsubscribed. They wait for a chat:<roomId> membership answer from a service worker (#16), or for the broker
  // to make the hub's copy of the channel current (Broker::join: Redis, the channel's first subscriber here).
  struct DeferredRequest {
    bool subscribe = true;
    std::shared_ptr<const nlohmann::json> message;
    std::string ref;
  };
  std::map<std::string, std::vector<DeferredRequest>, std::less<>> pending_subscribes;
  // Between a valid token and auth_success while the cap across nodes answers (SharedConnectionCap, --broker
  // redis): what the client sends meanwhile waits here, in order (a text message or a binary frame each), and
  // runs after auth_success. Bounded (kMaxHeldMessages, kMaxHeldBytes): beyond, the connection closes with 1008.
  bool admitting = false;
  struct HeldMessage {
    bool binary = false;
    std::string bytes;
  };
  std::vector<HeldMessage> held;
  std::size_t held_bytes = 0;
};

class MessageHandler {
 public:
  // Deeper JSON nesting is refused before parsing (nlohmann's serializer recurses).
  static constexpr int kMaxJsonDepth = 64;
  // What a connection may send while its auth waits for the cap across nodes (ConnectionProtocolState::held).
  static constexpr std::size_t kMaxHeldMessages = 256;
  static constexpr std::size_t kMaxHeldBytes = 1 << 20;

  using Clock = std::function<std::uint64_t()>;  // ms since the epoch
  // Handles a message type the handler does not know (presence, chat, sync services). Returns false when it
  // does not know it either (then: unknown_type).
  using Extension = std::function<bool(ConnectionProtocolState&, SessionSink&, std::string_view type,
                                       const nlohmann::json& message, std::string_view ref)>;
  // Called after an explicit unsubscribe, and for each channel of a closing connection (state.closed is true).
  using LeaveHook = std::function<void(ConnectionProtocolState&, SessionSink&, std::string_view channel)>;
  // Called after a new subscription was confirmed (the `subscribed` reply and any replay are queued).
  using SubscribeHook = std::function<void(ConnectionProtocolState&, SessionSink&, std::string_view channel)>;
  // Chat membership answered away from the I/O thread (#16: it is a database query): called with the user and the
  // room id on the connection's thread; calls `done(member)` once, from any thread (not at all at shutdown);
  // nullopt when the database could not answer (the subscribe gets `unavailable`).
  using ChatMembershipAsync = std::function<void(std::string user, std::string room_id,
                                                 std::function<void(std::optional<bool> member)> done)>;
  // Called once when an opened connection ends (after its channels were left).
  using DisconnectHook = std::function<void(ConnectionProtocolState&, SessionSink&)>;

  MessageHandler(Hub& hub, const JwtVerifier& verifier, HandlerLimits limits, Clock clock);

  // After the upgrade. `preauth_user` is the token subject when the subprotocol carried a valid token (then
  // auth_success is sent at once); empty when the client must send `auth` first.
  void on_open(ConnectionProtocolState& state, SessionSink& sink, std::string_view preauth_user) const;
  // The same with every claim of the subprotocol token (null: first-message auth).
  void on_open(ConnectionProtocolState& state, SessionSink& sink, const JwtClaims* preauth) const;
  // One text frame: one or more '\n'-separated messages.
  void on_text(ConnectionProtocolState& state, SessionSink& sink, std::string_view frame) const;
  // One binary frame (section 13).
  void on_binary(ConnectionProtocolState& state, SessionSink& sink, std::string_view frame) const;
  void on_binary(ConnectionProtocolState& state, SessionSink& sink) const {
    on_binary(state, sink, std::string_view());
  }
  // The first-message auth deadline passed: close 4002 unless authenticated by now.
  void on_auth_timeout(ConnectionProtocolState& state, SessionSink& sink) const;
  // The expiry timer fired: close 4003 when the token's exp has passed, else re-arm for the (refreshed) exp.
  void on_expiry_timer(ConnectionProtocolState& state, SessionSink& sink) const;
  // The connection is gone: leave every channel.
  void on_close(ConnectionProtocolState& state, SessionSink& sink) const;

  const HandlerLimits& limits() const { return limits_; }
  Metrics& metrics() const { return metrics_; }
  const UserConnections& user_connections() const { return users_; }
  Hub& hub() const { return hub_; }
  Broker& broker() const { return *broker_; }
  std::uint64_t now_ms() const { return clock_(); }

  // Set before serving (not thread-safe).
  void set_chat_membership(ChatMembership check) { chat_membership_ = std::move(check); }
  // Replaces the synchronous check for `subscribe` to chat:<roomId>: the subscribe waits for the answer and
  // continues on the connection's thread (SessionSink::post); the connection reads and answers other messages
  // meanwhile. A connection closed by then is left alone.
  void set_chat_membership_async(ChatMembershipAsync check) { chat_membership_async_ = std::move(check); }
  void set_extension(Extension extension) { extension_ = std::move(extension); }
  void set_leave_hook(LeaveHook hook) { leave_hook_ = std::move(hook); }
  void set_subscribe_hook(SubscribeHook hook) { subscribe_hook_ = std::move(hook); }
  void set_disconnect_hook(DisconnectHook hook) { disconnect_hook_ = std::move(hook); }
  // Where publications are ordered and kept (broker.hpp); default: the hub itself (MemoryBroker). Not owned.
  void set_broker(Broker* broker) { broker_ = broker; }
  // The database change feed's catalog (db: channels, changefeed_access.hpp); null: no change feed. Not owned.
  void set_changefeed_catalog(ChangefeedCatalog* catalog) { changefeed_catalog_ = catalog; }
  // The per-user connection limit across nodes (null: this node's count only). Not owned.
  void set_shared_connection_cap(SharedConnectionCap* cap) { shared_cap_ = cap; }

  // Empty when `state` may use `channel`, else why not (for a `forbidden` error).
  std::string channel_access(const ConnectionProtocolState& state, std::string_view channel) const;

 private:
  void handle_message(ConnectionProtocolState& state, SessionSink& sink, std::string_view text) const;
  void handle_auth(ConnectionProtocolState& state, SessionSink& sink, const std::string* token,
                   std::string_view ref) const;
  void accept_identity(ConnectionProtocolState& state, SessionSink& sink, const JwtClaims& claims) const;
  // The rest of accept_identity() once the user is admitted (on every node): auth_success, then what was held.
  void complete_auth(ConnectionProtocolState& state, SessionSink& sink, const JwtClaims& claims) const;
  void refuse_too_many(ConnectionProtocolState& state, SessionSink& sink, std::string_view user) const;
  // While admitting: keeps one message (or binary frame) for later; closes 1008 beyond the bounds.
  void hold(ConnectionProtocolState& state, SessionSink& sink, bool binary, std::string_view bytes) const;
  void send_auth_success(ConnectionProtocolState& state, SessionSink& sink) const;
  // Takes a rate-limit token; false (after the error or the close) when the message must be dropped.
  bool admit(ConnectionProtocolState& state, SessionSink& sink, std::string_view ref) const;
  // Brings state.channels in line with subscriptions the hub revoked from another thread (Hub::revoke): each
  // is dropped and left (the leave hook) as on unsubscribe. The `unsubscribed` push was queued by the revoker.
  void apply_revocations(ConnectionProtocolState& state, SessionSink& sink) const;
  // Ends this connection's subscription to `channel` on its own thread and pushes `unsubscribed` with `reason`.
  void end_subscription(ConnectionProtocolState& state, SessionSink& sink, const std::string& channel,
                        std::string_view reason, std::string_view message) const;
  // handler_channels.cpp
  // `chat_member`: the asynchronous membership answer, when the subscribe continues after it (else null).
  void handle_subscribe(ConnectionProtocolState& state, SessionSink& sink, const nlohmann::json& j,
                        std::string_view ref, const bool* chat_member = nullptr) const;
  // A subscribe that waited (the chat: membership answer, or the broker making the hub's copy of the channel
  // current) goes on, on the connection's thread: with `chat_member` (the membership answer, null if none), or
  // with an `unavailable` error carrying that message when it is not empty. Then the requests on that channel
  // deferred meanwhile run.
  void resume_subscribe(ConnectionProtocolState& state, SessionSink& sink, const nlohmann::json& j,
                        std::string_view ref, const bool* chat_member, std::string_view unavailable) const;
  // True (after queuing it) when `channel` has a subscribe waiting for its membership answer.
  bool defer_while_pending(ConnectionProtocolState& state, const std::string& channel, bool subscribe,
                           const nlohmann::json& j, std::string_view ref) const;
  // After a subscribe to chat:<roomId> that the asynchronous check allowed: asks again now that the hub lists the
  // subscriber (a leave between the check and the subscribe revoked nobody) and ends the subscription if no.
  void recheck_chat_membership(ConnectionProtocolState& state, SessionSink& sink, const std::string& channel) const;
  void handle_unsubscribe(ConnectionProtocolState& state, SessionSink& sink, const nlohmann::json& j,
                          std::string_view ref) const;
  void handle_publish(ConnectionProtocolState& state, SessionSink& sink, const nlohmann::json& j,
                      std::string_view ref) const;
  void publish(ConnectionProtocolState& state, SessionSink& sink, const PublishRequest& request,
               std::string_view ref) const;

  Hub& hub_;
  MemoryBroker memory_broker_{hub_};
  Broker* broker_ = &memory_broker_;
  const JwtVerifier& verifier_;
  HandlerLimits limits_;
  Clock clock_;
  mutable UserConnections users_;
  SharedConnectionCap* shared_cap_ = nullptr;
  mutable Metrics metrics_;
  ChatMembership chat_membership_;
  ChatMembershipAsync chat_membership_async_;
  Extension extension_;
  LeaveHook leave_hook_;
  SubscribeHook subscribe_hook_;
  DisconnectHook disconnect_hook_;
  ChangefeedCatalog* changefeed_catalog_ = nullptr;
};

// Largest nesting depth of arrays/objects in `json` (strings skipped), stopping early once above `limit`.
int json_nesting_depth(std::string_view json, int limit);

}  // namespace tidewire::server
