#include "protocol/messages.hpp"

#include "protocol/json_writer.hpp"
#include "protocol/wire.hpp"

namespace tidewire::protocol {

namespace t = wire::type;

void encode_auth(std::string& out, std::string_view token) {
  JsonObjectWriter w(out);
  w.str("type", t::kAuth).str("token", token).close();
}

namespace {
void write_changes(std::string& out, JsonObjectWriter& w, const SubscribeChanges& changes) {
  if (changes.event.empty()) return;
  w.key("changes");
  JsonObjectWriter c(out);
  c.str("event", changes.event);
  if (!changes.filter.empty()) c.str("filter", changes.filter);
  c.close();
}
}  // namespace

void encode_subscribe(std::string& out, std::string_view channel, std::string_view ref,
                      const SubscribeChanges& changes) {
  JsonObjectWriter w(out);
  w.str("type", t::kSubscribe).str("channel", channel);
  if (!ref.empty()) w.str("ref", ref);
  write_changes(out, w, changes);
  w.close();
}

void encode_subscribe_since(std::string& out, std::string_view channel, std::string_view ref,
                            std::uint64_t since_offset, std::string_view since_epoch,
                            const SubscribeChanges& changes) {
  JsonObjectWriter w(out);
  w.str("type", t::kSubscribe).str("channel", channel);
  if (!ref.empty()) w.str("ref", ref);
  w.key("since");
  JsonObjectWriter since(out);
  since.uint("offset", since_offset).str("epoch", since_epoch).close();
  write_changes(out, w, changes);
  w.close();
}

void encode_auth_refresh(std::string& out, std::string_view token, std::string_view ref) {
  JsonObjectWriter w(out);
  w.str("type", t::kAuth).str("token", token).str("ref", ref).close();
}

void encode_unsubscribe(std::string& out, std::string_view channel, std::string_view ref) {
  JsonObjectWriter w(out);
  w.str("type", t::kUnsubscribe).str("channel", channel);
  if (!ref.empty()) w.str("ref", ref);
  w.close();
}

void encode_publish(std::string& out, std::string_view channel, std::string_view event, std::string_view payload_json,
                    std::string_view ref, std::string_view id) {
  JsonObjectWriter w(out);
  w.str("type", t::kChannelMessage).str("channel", channel).str("event", event);
  if (!id.empty()) w.str("id", id);
  if (!ref.empty()) w.str("ref", ref);
  w.raw("payload", payload_json.empty() ? std::string_view("null") : payload_json);
  w.close();
}

void encode_ping(std::string& out, double ts) {
  JsonObjectWriter w(out);
  w.str("type", t::kPing).number("ts", ts).close();
}

void encode_auth_success(std::string& out, const AuthSuccess& a) {
  JsonObjectWriter w(out);
  w.str("type", t::kAuthSuccess)
      .uint("version", static_cast<std::uint64_t>(wire::kProtocolVersion))
      .str("connectionId", a.connection_id)
      .str("userId", a.user_id)
      .uint("serverTime", a.server_time_ms)
      .uint("heartbeatIntervalMs", a.heartbeat_interval_ms);
  w.key("limits");
  JsonObjectWriter limits(out);
  limits.uint("maxMessageBytes", a.max_message_bytes).uint("maxChannels", a.max_channels);
  if (a.rate_messages_per_second != 0) {
    limits.key("rateLimit");
    JsonObjectWriter rate(out);
    rate.uint("messagesPerSecond", a.rate_messages_per_second).uint("burst", a.rate_burst).close();
  }
  if (a.max_connections_per_user != 0) limits.uint("maxConnectionsPerUser", a.max_connections_per_user);
  limits.close();
  if (a.expires_at_ms != 0) w.uint("expiresAt", a.expires_at_ms);
  w.close();
}

void encode_subscribed(std::string& out, std::string_view channel, std::string_view ref) {
  JsonObjectWriter w(out);
  w.str("type", t::kSubscribed).str("channel", channel);
  if (!ref.empty()) w.str("ref", ref);
  w.close();
}

void encode_unsubscribed(std::string& out, std::string_view channel, std::string_view ref) {
  JsonObjectWriter w(out);
  w.str("type", t::kUnsubscribed).str("channel", channel);
  if (!ref.empty()) w.str("ref", ref);
  w.close();
}

void encode_broadcast(std::string& out, const Broadcast& b) {
  JsonObjectWriter w(out);
  w.str("type", t::kChannelMessage)
      .str("channel", b.channel)
      .str("event", b.event)
      .uint("offset", b.offset)
      .uint("ts", b.ts_ms)
      .str("from", b.from);
  if (!b.epoch.empty()) w.str("epoch", b.epoch);
  w.raw("payload", b.payload_json.empty() ? std::string_view("null") : b.payload_json);
  w.close();
}

void encode_ack(std::string& out, std::string_view ref, std::string_view channel, std::uint64_t offset) {
  JsonObjectWriter w(out);
  w.str("type", t::kAck).str("ref", ref).str("channel", channel).uint("offset", offset).close();
}

void encode_pong(std::string& out, bool has_client_ts, double client_ts, std::uint64_t server_time_ms) {
  encode_pong(out, has_client_ts, client_ts, server_time_ms, std::string_view());
}

void encode_pong(std::string& out, bool has_client_ts, double client_ts, std::uint64_t server_time_ms,
                 std::string_view ref) {
  JsonObjectWriter w(out);
  w.str("type", t::kPong);
  if (has_client_ts) w.number("ts", client_ts);
  w.uint("serverTime", server_time_ms);
  if (!ref.empty()) w.str("ref", ref);
  w.close();
}

void encode_error(std::string& out, std::string_view code, std::string_view message, std::string_view ref) {
  JsonObjectWriter w(out);
  w.str("type", t::kError).str("code", code).str("message", message);
  if (!ref.empty()) w.str("ref", ref);
  w.close();
}

}  // namespace tidewire::protocol

namespace tidewire::protocol {

void encode_subscribed(std::string& out, const Subscribed& s) {
  JsonObjectWriter w(out);
  w.str("type", t::kSubscribed).str("channel", s.channel);
  if (!s.ref.empty()) w.str("ref", s.ref);
  w.uint("offset", s.offset).str("epoch", s.epoch);
  if (s.has_since) {
    w.key("recovered");
    out += s.recovered ? "true" : "false";
    if (!s.reason.empty()) w.str("reason", s.reason);
  }
  w.close();
}

void encode_ack(std::string& out, std::string_view ref, std::string_view channel, std::uint64_t offset, bool duplicate) {
  JsonObjectWriter w(out);
  w.str("type", t::kAck).str("ref", ref).str("channel", channel).uint("offset", offset);
  if (duplicate) {
    w.key("duplicate");
    out += "true";
  }
  w.close();
}

void encode_auth_refreshed(std::string& out, std::string_view ref, std::uint64_t expires_at_ms) {
  JsonObjectWriter w(out);
  w.str("type", t::kAuthRefreshed);
  if (!ref.empty()) w.str("ref", ref);
  w.uint("expiresAt", expires_at_ms).close();
}

void encode_error_retry(std::string& out, std::string_view code, std::string_view message, std::string_view ref,
                        std::uint64_t retry_after_ms) {
  JsonObjectWriter w(out);
  w.str("type", t::kError).str("code", code).str("message", message);
  if (!ref.empty()) w.str("ref", ref);
  w.uint("retryAfterMs", retry_after_ms).close();
}

void encode_reply(std::string& out, std::string_view ref, std::string_view data_json) {
  JsonObjectWriter w(out);
  w.str("type", t::kReply);
  if (!ref.empty()) w.str("ref", ref);
  w.raw("data", data_json.empty() ? std::string_view("null") : data_json).close();
}

}  // namespace tidewire::protocol
