#include "server/message_handler.hpp"

#include <nlohmann/json.hpp>

#include "protocol/envelope.hpp"
#include "protocol/messages.hpp"
#include "protocol/names.hpp"
#include "protocol/wire.hpp"

namespace tidewire::server {

namespace t = wire::type;
namespace err = wire::error;
using nlohmann::json;

namespace {

// The string value of `key`, or nullptr when it is absent or not a string. Never throws (unlike j.value()).
const std::string* string_field(const json& j, const char* key) {
  const auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return nullptr;
  return &it->get_ref<const std::string&>();
}

void send_error(SessionSink& sink, std::string_view code, std::string_view message, std::string_view ref) {
  std::string out;
  protocol::encode_error(out, code, message, ref);
  sink.send(std::move(out));
}

void close_connection(ConnectionState& state, SessionSink& sink, std::uint16_t code, std::string reason) {
  if (state.closed) return;
  state.closed = true;
  if (reason.size() > 123) reason.resize(123);  // the WebSocket limit for a close reason
  sink.close(code, std::move(reason));
}

// A valid channel name from `j`, or nullptr after sending the error.
const std::string* channel_field(const json& j, SessionSink& sink, std::string_view ref) {
  const std::string* channel = string_field(j, "channel");
  if (!channel) {
    send_error(sink, err::kBadRequest, "a string \"channel\" is required", ref);
    return nullptr;
  }
  if (!protocol::is_valid_channel(*channel)) {
    send_error(sink, err::kBadRequest, "channel names are 1-128 bytes of A-Z a-z 0-9 _ : . @ -", ref);
    return nullptr;
  }
  return channel;
}

// At most `max_bytes` of `s`, cut on a UTF-8 character boundary (the result goes into a text frame).
std::string utf8_prefix(const std::string& s, std::size_t max_bytes) {
  if (s.size() <= max_bytes) return s;
  std::size_t n = max_bytes;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return s.substr(0, n);
}

}  // namespace

int json_nesting_depth(std::string_view text, int limit) {
  int depth = 0;
  int max_depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;  // skip the escaped character
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth && (max_depth = depth) > limit) return max_depth;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return max_depth;
}

MessageHandler::MessageHandler(Hub& hub, const JwtVerifier& verifier, HandlerLimits limits, Clock clock)
    : hub_(hub), verifier_(verifier), limits_(limits), clock_(std::move(clock)) {}

void MessageHandler::on_open(ConnectionState& state, SessionSink& sink, std::string_view preauth_user) const {
  if (preauth_user.empty()) return;  // first-message auth: the transport arms the auth timer
  state.authenticated = true;
  state.user_id = std::string(preauth_user);
  send_auth_success(state, sink);
}

void MessageHandler::on_text(ConnectionState& state, SessionSink& sink, std::string_view frame) const {
  protocol::for_each_message(frame, [&](std::string_view line) {
    if (!state.closed) handle_message(state, sink, line);
  });
}

void MessageHandler::on_binary(ConnectionState& state, SessionSink& sink) const {
  if (state.closed) return;
  if (!state.authenticated) return close_connection(state, sink, wire::close_code::kAuthFailed, "expected auth first");
  send_error(sink, err::kBadRequest, "binary frames are not supported yet; send JSON text frames", "");
}

void MessageHandler::on_auth_timeout(ConnectionState& state, SessionSink& sink) const {
  if (state.authenticated || state.closed) return;
  close_connection(state, sink, wire::close_code::kAuthTimeout, "auth timeout");
}

void MessageHandler::on_close(ConnectionState& state, SessionSink& sink) const {
  state.closed = true;
  const Subscriber* self = &sink;
  for (const std::string& channel : state.channels) hub_.unsubscribe(channel, self);
  state.channels.clear();
}

void MessageHandler::send_auth_success(ConnectionState& state, SessionSink& sink) const {
  protocol::AuthSuccess a;
  a.connection_id = state.connection_id;
  a.user_id = state.user_id;
  a.server_time_ms = clock_();
  a.heartbeat_interval_ms = limits_.heartbeat_interval_ms;
  a.max_message_bytes = limits_.max_message_bytes;
  a.max_channels = limits_.max_channels;
  std::string out;
  protocol::encode_auth_success(out, a);
  sink.send(std::move(out));
}

void MessageHandler::handle_auth(ConnectionState& state, SessionSink& sink, const std::string* token,
                                 std::string_view ref) const {
  if (state.authenticated) return send_error(sink, err::kBadRequest, "already authenticated", ref);
  if (!token) return close_connection(state, sink, wire::close_code::kAuthFailed, "auth needs a string token");
  const JwtResult r = verifier_.verify(*token, static_cast<std::int64_t>(clock_() / 1000));
  if (r.status == JwtStatus::kExpired) return close_connection(state, sink, wire::close_code::kTokenExpired, r.reason);
  if (!r.ok()) return close_connection(state, sink, wire::close_code::kAuthFailed, r.reason);
  state.authenticated = true;
  state.user_id = r.claims.sub;
  state.token_exp_s = r.claims.exp;
  send_auth_success(state, sink);
}

void MessageHandler::handle_message(ConnectionState& state, SessionSink& sink, std::string_view text) const {
  // Until auth_success the client may send nothing but `auth`: anything else closes with 4001.
  auto reject_unauthenticated = [&](const char* reason) {
    close_connection(state, sink, wire::close_code::kAuthFailed, reason);
  };

  if (json_nesting_depth(text, kMaxJsonDepth) > kMaxJsonDepth) {
    if (!state.authenticated) return reject_unauthenticated("expected auth first");
    return send_error(sink, err::kBadRequest, "the message nests deeper than 64 levels", "");
  }
  const json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    if (!state.authenticated) return reject_unauthenticated("expected auth first (invalid JSON)");
    return send_error(sink, err::kBadJson, "the message is not valid JSON", "");
  }
  if (!j.is_object()) {
    if (!state.authenticated) return reject_unauthenticated("expected auth first");
    return send_error(sink, err::kBadRequest, "a message must be a JSON object", "");
  }

  std::string_view ref;
  if (const auto it = j.find("ref"); it != j.end()) {
    if (!it->is_string() || !protocol::is_valid_ref(it->get_ref<const std::string&>())) {
      if (!state.authenticated) return reject_unauthenticated("expected auth first");
      return send_error(sink, err::kBadRequest, "ref must be a string of at most 64 bytes", "");
    }
    ref = it->get_ref<const std::string&>();
  }

  const std::string* type = string_field(j, "type");
  if (!state.authenticated) {
    if (!type || *type != t::kAuth) return reject_unauthenticated("expected auth first");
    return handle_auth(state, sink, string_field(j, "token"), ref);
  }
  if (!type) return send_error(sink, err::kBadRequest, "a string \"type\" is required", ref);

  if (*type == t::kChannelMessage) {
    const std::string* channel = channel_field(j, sink, ref);
    if (!channel) return;
    const std::string* event = string_field(j, "event");
    if (!event || !protocol::is_valid_event(*event))
      return send_error(sink, err::kBadRequest, "a string \"event\" of 1-64 bytes without control characters is required",
                        ref);
    const auto payload = j.find("payload");
    if (payload == j.end()) return send_error(sink, err::kBadRequest, "\"payload\" is required (any JSON)", ref);
    // The client message id is not used yet (idempotent publishing comes with history), but is checked now so
    // clients cannot start relying on ids the server will later refuse.
    if (const auto id = j.find("id"); id != j.end() && (!id->is_string() || id->get_ref<const std::string&>().size() > 64))
      return send_error(sink, err::kBadRequest, "id must be a string of at most 64 bytes", ref);
    if (state.channels.find(*channel) == state.channels.end())
      return send_error(sink, err::kNotSubscribed, "subscribe to the channel before publishing to it", ref);

    const std::string payload_json = payload->dump(-1, ' ', false, json::error_handler_t::replace);
    PublishRequest req;
    req.channel = *channel;
    req.event = *event;
    req.from = state.user_id;
    req.payload_json = payload_json;
    req.ts_ms = clock_();
    const std::uint64_t offset = hub_.publish(req, [&](std::uint64_t assigned) {
      if (ref.empty()) return;
      std::string ack;
      protocol::encode_ack(ack, ref, *channel, assigned);
      sink.send(std::move(ack));
    });
    if (offset == 0) send_error(sink, err::kInternal, "the channel vanished while publishing; retry", ref);
    return;
  }

  if (*type == t::kSubscribe) {
    const std::string* channel = channel_field(j, sink, ref);
    if (!channel) return;
    if (state.channels.find(*channel) == state.channels.end()) {
      if (state.channels.size() >= limits_.max_channels)
        return send_error(sink, err::kTooManyChannels, "this connection is at limits.maxChannels; unsubscribe first",
                          ref);
      hub_.subscribe(*channel, sink.subscriber());
      state.channels.insert(*channel);
    }
    std::string out;  // subscribing twice is not an error: the reply is the same
    protocol::encode_subscribed(out, *channel, ref);
    return sink.send(std::move(out));
  }

  if (*type == t::kUnsubscribe) {
    const std::string* channel = channel_field(j, sink, ref);
    if (!channel) return;
    const auto it = state.channels.find(*channel);
    if (it == state.channels.end())
      return send_error(sink, err::kNotSubscribed, "this connection is not subscribed to the channel", ref);
    hub_.unsubscribe(*channel, &sink);
    state.channels.erase(it);
    std::string out;
    protocol::encode_unsubscribed(out, *channel, ref);
    return sink.send(std::move(out));
  }

  if (*type == t::kPing) {
    const auto ts = j.find("ts");
    const bool has_ts = ts != j.end();
    if (has_ts && !ts->is_number()) return send_error(sink, err::kBadRequest, "ping ts must be a number", ref);
    std::string out;
    protocol::encode_pong(out, has_ts, has_ts ? ts->get<double>() : 0.0, clock_(), ref);
    return sink.send(std::move(out));
  }

  if (*type == t::kAuth) return handle_auth(state, sink, string_field(j, "token"), ref);

  std::string message = "unknown message type \"" + utf8_prefix(*type, 32) + "\"";
  send_error(sink, err::kUnknownType, message, ref);
}

}  // namespace tidewire::server
