// Channel requests of the message handler: subscribe (with recovery), unsubscribe, publish (JSON and binary).
#include <nlohmann/json.hpp>

#include "protocol/binary_frame.hpp"
#include "server/changefeed_access.hpp"
#include "server/changefeed_tables.hpp"
#include "server/handler_util.hpp"
#include "server/message_handler.hpp"

namespace tidewire::server {

namespace err = wire::error;
using nlohmann::json;
using detail::channel_field;
using detail::close_connection;
using detail::send_error;
using detail::string_field;

void MessageHandler::handle_subscribe(ConnectionProtocolState& state, SessionSink& sink, const json& j,
                                      std::string_view ref, const bool* chat_member) const {
  const std::string* channel = channel_field(j, sink, ref);
  if (!channel) return;
  SubscribeRequest request;
  request.channel = *channel;
  request.user = state.user_id;
  request.now_ms = clock_();
  if (const auto since = j.find("since"); since != j.end() && !since->is_null()) {
    const auto offset = since->is_object() ? since->find("offset") : since->end();
    const auto epoch = since->is_object() ? since->find("epoch") : since->end();
    if (!since->is_object() || offset == since->end() || !offset->is_number_unsigned() || epoch == since->end() ||
        !epoch->is_string())
      return send_error(sink, err::kBadRequest, "since must be {offset: unsigned integer, epoch: string}", ref);
    request.has_since = true;
    request.since_offset = offset->get<std::uint64_t>();
    request.since_epoch = epoch->get_ref<const std::string&>();
  }
  // db:<schema>.<table>: the database change feed; `changes` selects and the access rules filter (issue #16).
  const bool db = is_db_channel(*channel);
  const auto changes = j.find("changes");
  const bool has_changes = changes != j.end() && !changes->is_null();
  if (has_changes && !db)
    return send_error(sink, err::kBadRequest, "changes applies to db:<schema>.<table> channels only", ref);
  const bool is_chat = channel->substr(0, 5) == "chat:";
  if (is_chat && chat_membership_async_ && !chat_member) {
    if (defer_while_pending(state, *channel, true, j, ref)) return;
    // The claims now; membership on a service worker, then this subscribe again with the answer (#16).
    if (const std::string why = check_channel_access(state.user_id, state.grant, *channel, nullptr); !why.empty())
      return send_error(sink, err::kForbidden, why, ref);
    state.pending_subscribes[*channel];  // later requests on this channel wait for the answer
    auto self = sink.shared();
    chat_membership_async_(state.user_id, channel->substr(5),
                           [this, self, &state, j, ref = std::string(ref)](std::optional<bool> member) {
                             self->post([this, self, &state, j, ref, member] {
                               if (state.closed) return;
                               resume_subscribe(state, *self, j, ref, member ? &*member : nullptr,
                                                member ? ""
                                                       : "the server cannot reach its database to check this chat "
                                                         "room's membership; retry");
                             });
                           });
    return;
  }
  const std::string why =
      chat_member ? check_channel_access(state.user_id, state.grant, *channel,
                                         [member = *chat_member](std::string_view, std::string_view) { return member; })
                  : channel_access(state, *channel);
  if (!why.empty()) return send_error(sink, err::kForbidden, why, ref);
  if (db) {
    ChangefeedSubscribeCheck check =
        check_changefeed_subscribe(changefeed_catalog_, *channel, has_changes ? &*changes : nullptr, state.user_id);
    if (!check.code.empty()) return send_error(sink, check.code, check.message, ref);
    request.filter = std::move(check.filter);
  }
  const bool already = state.channels.find(*channel) != state.channels.end();
  if (!already && state.channels.size() >= limits_.max_channels)
    return send_error(sink, err::kTooManyChannels, "this connection is at limits.maxChannels; unsubscribe first", ref);
  if (already) request.has_since = false;  // live traffic already flows: nothing to recover

  // `subscribed` and the replay are queued under the channel's lock, before any live message can arrive.
  const auto add = [&] {
    hub_.subscribe(request, sink.subscriber(), [&](const SubscribeResult& r, const std::vector<SharedFrame>& replay) {
      protocol::Subscribed s;
      s.channel = *channel;
      s.ref = ref;
      s.epoch = r.epoch;
      s.offset = r.offset;
      s.has_since = request.has_since;
      s.recovered = r.recovered;
      s.reason = r.reason;
      std::string out;
      protocol::encode_subscribed(out, s);
      sink.send(std::move(out));
      for (const SharedFrame& frame : replay) sink.deliver(frame);
    });
  };
  // The broker runs `add` now when the hub's copy of the channel is current; else (Redis, the channel's first
  // subscriber on this node) this subscribe waits like a chat: one for its membership answer, and runs again on
  // this connection's thread once the copy is current (the broker answers `resume`, maybe from within join()).
  state.pending_subscribes[*channel];  // later requests on this channel wait for the answer
  auto self = sink.shared();
  const std::optional<bool> member = chat_member ? std::optional<bool>(*chat_member) : std::nullopt;
  const bool joined = broker_->join(*channel, add, [this, self, &state, j, ref = std::string(ref), member](bool ok) {
    self->post([this, self, &state, j, ref, member, ok] {
      if (state.closed) return;
      resume_subscribe(state, *self, j, ref, member ? &*member : nullptr,
                       ok ? "" : "the broker is unreachable; retry");
    });
  });
  if (!joined) return;
  state.pending_subscribes.erase(*channel);  // nothing came meanwhile: the request ran on this thread
  state.channels.insert(*channel);
  // A chat room left or deleted by another connection between the access check and hub_.subscribe() would have
  // missed this subscription when it revoked the others: check again now that the hub lists it.
  if (is_chat && chat_member) {
    recheck_chat_membership(state, sink, *channel);
  } else if (is_chat) {
    if (const std::string again = channel_access(state, *channel); !again.empty())
      return end_subscription(state, sink, *channel, wire::unsubscribe_reason::kAccessRevoked, again);
  }
  if (!already && subscribe_hook_) subscribe_hook_(state, sink, *channel);
}

bool MessageHandler::defer_while_pending(ConnectionProtocolState& state, const std::string& channel, bool subscribe,
                                         const json& j, std::string_view ref) const {
  const auto it = state.pending_subscribes.find(channel);
  if (it == state.pending_subscribes.end()) return false;
  it->second.push_back({subscribe, std::make_shared<const json>(j), std::string(ref)});
  return true;
}

void MessageHandler::resume_subscribe(ConnectionProtocolState& state, SessionSink& sink, const json& j,
                                      std::string_view ref, const bool* chat_member,
                                      std::string_view unavailable) const {
  const std::string channel = j["channel"].get<std::string>();  // checked before it was deferred
  auto it = state.pending_subscribes.find(channel);
  std::vector<ConnectionProtocolState::DeferredRequest> later;
  if (it != state.pending_subscribes.end()) {
    later = std::move(it->second);
    state.pending_subscribes.erase(it);
  }
  if (!unavailable.empty())
    send_error(sink, err::kUnavailable, unavailable, ref);
  else
    handle_subscribe(state, sink, j, ref, chat_member);
  for (std::size_t i = 0; i < later.size(); ++i) {
    const auto& r = later[i];
    if (const auto again = state.pending_subscribes.find(channel); again != state.pending_subscribes.end()) {
      // A replayed subscribe is waiting for its own answer: the rest wait behind it.
      again->second.insert(again->second.end(), later.begin() + static_cast<std::ptrdiff_t>(i), later.end());
      return;
    }
    if (r.subscribe) handle_subscribe(state, sink, *r.message, r.ref);
    else handle_unsubscribe(state, sink, *r.message, r.ref);
  }
}

void MessageHandler::recheck_chat_membership(ConnectionProtocolState& state, SessionSink& sink,
                                             const std::string& channel) const {
  auto self = sink.shared();
  chat_membership_async_(state.user_id, channel.substr(5), [this, self, &state, channel](std::optional<bool> member) {
    if (member.value_or(true)) return;  // a database error: keep it (a revocation reaches it through the hub)
    self->post([this, self, &state, channel] {
      if (state.closed || !hub_.is_subscribed(channel, self.get())) return;
      end_subscription(state, *self, channel, wire::unsubscribe_reason::kAccessRevoked,
                       "only participants of the chat room may use its channel");
    });
  });
}

void MessageHandler::handle_unsubscribe(ConnectionProtocolState& state, SessionSink& sink, const json& j,
                                        std::string_view ref) const {
  const std::string* channel = channel_field(j, sink, ref);
  if (!channel) return;
  if (defer_while_pending(state, *channel, false, j, ref)) return;  // after the subscribe that is waiting
  const auto it = state.channels.find(*channel);
  if (it == state.channels.end())
    return send_error(sink, err::kNotSubscribed, "this connection is not subscribed to the channel", ref);
  hub_.unsubscribe(*channel, &sink);
  const std::string name = *it;
  state.channels.erase(it);
  if (leave_hook_) leave_hook_(state, sink, name);
  std::string out;
  protocol::encode_unsubscribed(out, name, ref);
  sink.send(std::move(out));
}

void MessageHandler::handle_publish(ConnectionProtocolState& state, SessionSink& sink, const json& j,
                                    std::string_view ref) const {
  const std::string* channel = channel_field(j, sink, ref);
  if (!channel) return;
  const std::string* event = string_field(j, "event");
  if (!event || !protocol::is_valid_event(*event))
    return send_error(sink, err::kBadRequest, "a string \"event\" of 1-64 bytes without control characters is required",
                      ref);
  const auto payload = j.find("payload");
  if (payload == j.end()) return send_error(sink, err::kBadRequest, "\"payload\" is required (any JSON)", ref);
  std::string_view client_id;
  if (const auto id = j.find("id"); id != j.end()) {
    if (!id->is_string() || id->get_ref<const std::string&>().size() > wire::defaults::kMaxRefBytes)
      return send_error(sink, err::kBadRequest, "id must be a string of at most 64 bytes", ref);
    client_id = id->get_ref<const std::string&>();
  }
  const std::string payload_json = payload->dump(-1, ' ', false, json::error_handler_t::replace);
  PublishRequest req;
  req.channel = *channel;
  req.event = *event;
  req.payload_json = payload_json;
  req.client_id = client_id;
  publish(state, sink, req, ref);
}

void MessageHandler::publish(ConnectionProtocolState& state, SessionSink& sink, const PublishRequest& request,
                             std::string_view ref) const {
  // No subscription needed (section 3): the access rules alone decide. chat: channels carry the chat service's
  // events only.
  if (request.channel.substr(0, 5) == "chat:")
    return send_error(sink, err::kForbidden, "chat:<roomId> channels carry chat service events; use chat_send", ref);
  if (is_db_channel(request.channel))
    return send_error(sink, err::kForbidden, "db: channels carry the database change feed only", ref);
  if (const std::string why = channel_access(state, request.channel); !why.empty())
    return send_error(sink, err::kForbidden, why, ref);
  PublishRequest req = request;
  req.from = state.user_id;
  req.ts_ms = clock_();
  req.create = true;  // a channel nobody subscribed to yet gets its stream (and history) now
  // `done` may run later on the broker's thread (Redis): it holds the connection and copies what it sends.
  auto self = sink.shared();
  broker_->publish(req, [self, &metrics = metrics_, ref = std::string(ref),
                         channel = std::string(request.channel)](const PublishOutcome& r) {
    if (!r.error.empty()) {
      std::string out;
      protocol::encode_error(out, r.error, r.error == err::kUnavailable ? "the broker is unreachable; retry"
                                                                       : "the message could not be published; retry",
                             ref);
      return self->send(std::move(out));
    }
    if (!r.duplicate) Metrics::add(metrics.publications);
    if (ref.empty()) return;
    std::string ack;
    protocol::encode_ack(ack, ref, channel, r.offset, r.duplicate);
    self->send(std::move(ack));
  });
}

void MessageHandler::on_binary(ConnectionProtocolState& state, SessionSink& sink, std::string_view frame) const {
  if (state.closed) return;
  if (state.admitting) return hold(state, sink, true, frame);
  if (!state.authenticated) {
    Metrics::add(metrics_.auth_failures);
    return close_connection(state, sink, wire::close_code::kAuthFailed, "expected auth first");
  }
  protocol::BinaryPublish m;
  const bool decoded = protocol::decode_binary_publish(frame, m);
  // Binary fields are raw bytes: only well-formed UTF-8 may be echoed into JSON replies.
  const std::string_view ref =
      decoded && protocol::is_valid_ref(m.ref) && protocol::is_valid_utf8(m.ref) ? m.ref : std::string_view();
  if (!admit(state, sink, ref)) return;
  apply_revocations(state, sink);
  if (frame.empty() || static_cast<unsigned char>(frame[0]) != 0x01)
    return send_error(sink, err::kBadRequest, "unknown binary frame kind; 0x01 (channel message) is accepted", "");
  if (!decoded) return send_error(sink, err::kBadRequest, "truncated binary channel message", "");
  if (!protocol::is_valid_ref(m.ref) || !protocol::is_valid_utf8(m.ref))
    return send_error(sink, err::kBadRequest, "ref must be at most 64 bytes of UTF-8", "");
  if (!detail::check_channel_name(m.channel, sink, ref)) return;
  if (!protocol::is_valid_event(m.event) || !protocol::is_valid_utf8(m.event))
    return send_error(sink, err::kBadRequest, "event must be 1-64 bytes of UTF-8 without control characters", ref);
  if (m.id.size() > wire::defaults::kMaxRefBytes || !protocol::is_valid_utf8(m.id))
    return send_error(sink, err::kBadRequest, "id must be at most 64 bytes of UTF-8", ref);
  if (state.user_id.size() > 255)
    return send_error(sink, err::kUnsupported, "user ids over 255 bytes cannot publish binary frames", ref);
  PublishRequest req;
  req.channel = m.channel;
  req.event = m.event;
  req.payload_json = m.payload;
  req.client_id = m.id;
  req.binary = true;
  publish(state, sink, req, ref);
}

}  // namespace tidewire::server
