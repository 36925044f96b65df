#include "server/message_handler.hpp"

#include <nlohmann/json.hpp>

#include <utility>
#include <vector>

#include "protocol/envelope.hpp"
#include "protocol/messages.hpp"
#include "protocol/names.hpp"
#include "protocol/wire.hpp"
#include "server/handler_util.hpp"
#include "server/log.hpp"

namespace tidewire::server {

namespace t = wire::type;
namespace err = wire::error;
using nlohmann::json;
using detail::close_connection;
using detail::send_error;
using detail::string_field;

namespace {

// At most `max_bytes` of `s`, cut on a UTF-8 character boundary (the result goes into a text frame).
std::string utf8_prefix(const std::string& s, std::size_t max_bytes) {
  if (s.size() <= max_bytes) return s;
  std::size_t n = max_bytes;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return s.substr(0, n);
}

ChannelGrant grant_of(const JwtClaims& claims) {
  ChannelGrant g;
  g.restricted = claims.has_channels;
  g.patterns = claims.channels;
  return g;
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
    : hub_(hub), verifier_(verifier), limits_(limits), clock_(std::move(clock)), users_(limits.max_connections_per_user) {}

void MessageHandler::on_open(ConnectionProtocolState& state, SessionSink& sink, std::string_view preauth_user) const {
  if (preauth_user.empty()) return on_open(state, sink, static_cast<const JwtClaims*>(nullptr));
  JwtClaims claims;
  claims.sub = std::string(preauth_user);
  on_open(state, sink, &claims);
}

void MessageHandler::on_open(ConnectionProtocolState& state, SessionSink& sink, const JwtClaims* preauth) const {
  Metrics::add(metrics_.connections_total);
  Metrics::add(metrics_.connections_current);
  if (!preauth || preauth->sub.empty()) return;  // first-message auth: the transport arms the auth timer
  accept_identity(state, sink, *preauth);
}

void MessageHandler::on_text(ConnectionProtocolState& state, SessionSink& sink, std::string_view frame) const {
  protocol::for_each_message(frame, [&](std::string_view line) {
    if (state.closed) return;
    if (state.admitting) return hold(state, sink, false, line);
    handle_message(state, sink, line);
  });
}

void MessageHandler::hold(ConnectionProtocolState& state, SessionSink& sink, bool binary, std::string_view bytes) const {
  if (state.held.size() >= kMaxHeldMessages || state.held_bytes + bytes.size() > kMaxHeldBytes) {
    return close_connection(state, sink, wire::close_code::kPolicyViolation,
                            "too much sent before auth_success; wait for auth_success before sending more");
  }
  state.held_bytes += bytes.size();
  state.held.push_back({binary, std::string(bytes)});
}

void MessageHandler::on_auth_timeout(ConnectionProtocolState& state, SessionSink& sink) const {
  // A valid token whose admission is still being checked across nodes is not late: that check ends by itself.
  if (state.authenticated || state.admitting || state.closed) return;
  close_connection(state, sink, wire::close_code::kAuthTimeout, "auth timeout");
}

void MessageHandler::on_expiry_timer(ConnectionProtocolState& state, SessionSink& sink) const {
  if (!state.authenticated || state.closed || state.token_exp_s <= 0) return;
  const std::uint64_t exp_ms = static_cast<std::uint64_t>(state.token_exp_s) * 1000;
  if (clock_() >= exp_ms) {
    log(LogLevel::kInfo, "msg=\"token expired\" conn=", state.connection_id, " user=", log_quoted(state.user_id));
    return close_connection(state, sink, wire::close_code::kTokenExpired, "token expired");
  }
  sink.arm_expiry_timer(exp_ms);  // refreshed meanwhile
}

void MessageHandler::on_close(ConnectionProtocolState& state, SessionSink& sink) const {
  apply_revocations(state, sink);
  state.closed = true;
  const Subscriber* self = &sink;
  for (const std::string& channel : state.channels) {
    hub_.unsubscribe(channel, self);
    if (leave_hook_) leave_hook_(state, sink, channel);
  }
  state.channels.clear();
  if (disconnect_hook_) disconnect_hook_(state, sink);
  if (state.counted) {
    users_.release(state.user_id);
    if (shared_cap_) shared_cap_->release(state.user_id, state.connection_id);
    state.counted = false;
  }
  Metrics::add(metrics_.connections_current, static_cast<std::uint64_t>(-1));
}

std::string MessageHandler::channel_access(const ConnectionProtocolState& state, std::string_view channel) const {
  return check_channel_access(state.user_id, state.grant, channel, chat_membership_);
}

void MessageHandler::accept_identity(ConnectionProtocolState& state, SessionSink& sink, const JwtClaims& claims) const {
  // This node's count first, then (several nodes) every node's: the 6th connection of a user is refused wherever
  // the other five are.
  if (!users_.try_acquire(claims.sub)) return refuse_too_many(state, sink, claims.sub);
  state.counted = true;  // from here on, on_close() releases both counts (a pending one too)
  state.user_id = claims.sub;
  if (!shared_cap_) return complete_auth(state, sink, claims);
  // The answer comes from the presence store's thread (one Redis round trip): this thread goes on, and what the
  // client sends meanwhile is held (hold()).
  state.admitting = true;
  auto self = sink.shared();
  shared_cap_->try_acquire(claims.sub, state.connection_id, [this, self, &state, claims](bool admitted) {
    self->post([this, self, &state, claims, admitted] {
      if (state.closed) return;  // on_close() released this node's count; the store takes back its own
      state.admitting = false;
      if (admitted) return complete_auth(state, *self, claims);
      users_.release(claims.sub);
      state.counted = false;  // refused across nodes: nothing to release there
      state.held.clear();
      refuse_too_many(state, *self, claims.sub);
    });
  });
}

void MessageHandler::refuse_too_many(ConnectionProtocolState& state, SessionSink& sink, std::string_view user) const {
  Metrics::add(metrics_.too_many_connections);
  log(LogLevel::kInfo, "msg=\"too many connections\" conn=", state.connection_id, " user=", log_quoted(user));
  close_connection(state, sink, wire::close_code::kTooManyConnections,
                   "too many connections for this user (limit " + std::to_string(users_.max_per_user()) +
                       "); close another one first");
}

void MessageHandler::complete_auth(ConnectionProtocolState& state, SessionSink& sink, const JwtClaims& claims) const {
  state.authenticated = true;
  state.token_exp_s = claims.exp;
  state.grant = grant_of(claims);
  if (limits_.rate_per_second != 0) state.limiter.emplace(limits_.rate_per_second, limits_.rate_burst);
  send_auth_success(state, sink);
  if (state.token_exp_s > 0) sink.arm_expiry_timer(static_cast<std::uint64_t>(state.token_exp_s) * 1000);
  // What came while admitting, in order, as if it arrived now.
  std::vector<ConnectionProtocolState::HeldMessage> held = std::move(state.held);
  state.held.clear();
  state.held_bytes = 0;
  for (const auto& m : held) {
    if (state.closed) break;
    if (m.binary) on_binary(state, sink, m.bytes);
    else handle_message(state, sink, m.bytes);
  }
}

void MessageHandler::send_auth_success(ConnectionProtocolState& state, SessionSink& sink) const {
  protocol::AuthSuccess a;
  a.connection_id = state.connection_id;
  a.user_id = state.user_id;
  a.server_time_ms = clock_();
  a.heartbeat_interval_ms = limits_.heartbeat_interval_ms;
  a.max_message_bytes = limits_.max_message_bytes;
  a.max_channels = limits_.max_channels;
  a.expires_at_ms = state.token_exp_s > 0 ? static_cast<std::uint64_t>(state.token_exp_s) * 1000 : 0;
  a.rate_messages_per_second = limits_.rate_per_second;
  a.rate_burst = limits_.rate_burst;
  a.max_connections_per_user = limits_.max_connections_per_user;
  std::string out;
  protocol::encode_auth_success(out, a);
  sink.send(std::move(out));
}

void MessageHandler::handle_auth(ConnectionProtocolState& state, SessionSink& sink, const std::string* token,
                                 std::string_view ref) const {
  const std::int64_t now_s = static_cast<std::int64_t>(clock_() / 1000);
  if (state.authenticated) {  // in-band refresh (section 8): the connection keeps its token on failure
    if (!token) return send_error(sink, err::kBadRequest, "auth needs a string token", ref);
    const JwtResult r = verifier_.verify(*token, now_s);
    if (!r.ok() || r.claims.sub != state.user_id) {
      Metrics::add(metrics_.auth_failures);
      return send_error(sink, err::kAuthFailed,
                        r.ok() ? "the new token names another user; the connection keeps its current token"
                               : r.reason + "; the connection keeps its current token",
                        ref);
    }
    state.token_exp_s = r.claims.exp;
    state.grant = grant_of(r.claims);
    std::string out;
    protocol::encode_auth_refreshed(out, ref, static_cast<std::uint64_t>(r.claims.exp) * 1000);
    sink.send(std::move(out));
    sink.arm_expiry_timer(static_cast<std::uint64_t>(r.claims.exp) * 1000);
    // A narrower `channels` claim ends the subscriptions it no longer allows (section 3.1).
    std::vector<std::pair<std::string, std::string>> lost;  // channel, why
    for (const std::string& channel : state.channels)
      if (std::string why = channel_access(state, channel); !why.empty()) lost.emplace_back(channel, std::move(why));
    for (const auto& [channel, why] : lost)
      end_subscription(state, sink, channel, wire::unsubscribe_reason::kAccessRevoked,
                       "the refreshed token no longer allows this channel (" + why + "); the subscription ended");
    return;
  }
  if (!token) {
    Metrics::add(metrics_.auth_failures);
    return close_connection(state, sink, wire::close_code::kAuthFailed, "auth needs a string token");
  }
  const JwtResult r = verifier_.verify(*token, now_s);
  if (!r.ok()) {
    Metrics::add(metrics_.auth_failures);
    log(LogLevel::kDebug, "msg=\"auth failed\" conn=", state.connection_id, " reason=", log_quoted(r.reason));
    const std::uint16_t code =
        r.status == JwtStatus::kExpired ? wire::close_code::kTokenExpired : wire::close_code::kAuthFailed;
    return close_connection(state, sink, code, r.reason);
  }
  accept_identity(state, sink, r.claims);
}

void MessageHandler::apply_revocations(ConnectionProtocolState& state, SessionSink& sink) const {
  if (!sink.has_revoked()) return;
  for (const std::string& channel : sink.take_revoked()) {
    const auto it = state.channels.find(channel);
    // Subscribed again since (a later subscribe re-added it): the note is stale.
    if (it == state.channels.end() || hub_.is_subscribed(channel, &sink)) continue;
    state.channels.erase(it);
    if (leave_hook_) leave_hook_(state, sink, channel);
  }
}

void MessageHandler::end_subscription(ConnectionProtocolState& state, SessionSink& sink, const std::string& channel,
                                      std::string_view reason, std::string_view message) const {
  const auto it = state.channels.find(channel);
  if (it == state.channels.end()) return;
  const std::string name = *it;
  hub_.unsubscribe(name, &sink);
  state.channels.erase(it);
  if (leave_hook_) leave_hook_(state, sink, name);
  log(LogLevel::kDebug, "msg=\"subscription ended\" conn=", state.connection_id, " channel=", name, " reason=", reason);
  sink.send(detail::unsubscribed_notice(name, reason, message));
}

bool MessageHandler::admit(ConnectionProtocolState& state, SessionSink& sink, std::string_view ref) const {
  Metrics::add(metrics_.messages_in);
  if (!state.limiter) return true;
  switch (state.limiter->take(clock_())) {
    case RateLimiter::Verdict::kAllow: return true;
    case RateLimiter::Verdict::kLimit: {
      Metrics::add(metrics_.rate_limited);
      std::string out;
      protocol::encode_error_retry(out, err::kRateLimited, "over the rate limit (limits.rateLimit); slow down", ref,
                                   state.limiter->retry_after_ms());
      sink.send(std::move(out));
      return false;
    }
    case RateLimiter::Verdict::kAbuse:
      Metrics::add(metrics_.rate_limited);
      log(LogLevel::kWarn, "msg=\"rate limit abuse\" conn=", state.connection_id, " user=", log_quoted(state.user_id));
      close_connection(state, sink, wire::close_code::kPolicyViolation, "sustained rate limit abuse");
      return false;
  }
  return false;
}

void MessageHandler::handle_message(ConnectionProtocolState& state, SessionSink& sink, std::string_view text) const {
  // Until auth_success the client may send nothing but `auth`: anything else closes with 4001.
  auto reject_unauthenticated = [&](const char* reason) {
    Metrics::add(metrics_.auth_failures);
    close_connection(state, sink, wire::close_code::kAuthFailed, reason);
  };
  // Every message of an authenticated connection takes a rate-limit token (the error carries its ref).
  auto admitted = [&](std::string_view ref) { return admit(state, sink, ref); };

  if (json_nesting_depth(text, kMaxJsonDepth) > kMaxJsonDepth) {
    if (!state.authenticated) return reject_unauthenticated("expected auth first");
    if (!admitted("")) return;
    return send_error(sink, err::kBadRequest, "the message nests deeper than 64 levels", "");
  }
  const json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    if (!state.authenticated) return reject_unauthenticated("expected auth first (invalid JSON)");
    if (!admitted("")) return;
    return send_error(sink, err::kBadJson, "the message is not valid JSON", "");
  }
  if (!j.is_object()) {
    if (!state.authenticated) return reject_unauthenticated("expected auth first");
    if (!admitted("")) return;
    return send_error(sink, err::kBadRequest, "a message must be a JSON object", "");
  }

  std::string_view ref;
  if (const auto it = j.find("ref"); it != j.end()) {
    if (!it->is_string() || !protocol::is_valid_ref(it->get_ref<const std::string&>())) {
      if (!state.authenticated) return reject_unauthenticated("expected auth first");
      if (!admitted("")) return;
      return send_error(sink, err::kBadRequest, "ref must be a string of at most 64 bytes", "");
    }
    ref = it->get_ref<const std::string&>();
  }

  const std::string* type = string_field(j, "type");
  if (!state.authenticated) {
    if (!type || *type != t::kAuth) return reject_unauthenticated("expected auth first");
    return handle_auth(state, sink, string_field(j, "token"), ref);
  }
  if (!admitted(ref)) return;
  apply_revocations(state, sink);
  if (!type) return send_error(sink, err::kBadRequest, "a string \"type\" is required", ref);

  if (*type == t::kChannelMessage) return handle_publish(state, sink, j, ref);
  if (*type == t::kSubscribe) return handle_subscribe(state, sink, j, ref);
  if (*type == t::kUnsubscribe) return handle_unsubscribe(state, sink, j, ref);
  if (*type == t::kPing) {
    const auto ts = j.find("ts");
    const bool has_ts = ts != j.end();
    if (has_ts && !ts->is_number()) return send_error(sink, err::kBadRequest, "ping ts must be a number", ref);
    std::string out;
    protocol::encode_pong(out, has_ts, has_ts ? ts->get<double>() : 0.0, clock_(), ref);
    return sink.send(std::move(out));
  }
  if (*type == t::kAuth) return handle_auth(state, sink, string_field(j, "token"), ref);
  if (extension_ && extension_(state, sink, *type, j, ref)) return;

  std::string message = "unknown message type \"" + utf8_prefix(*type, 32) + "\"";
  send_error(sink, err::kUnknownType, message, ref);
}

}  // namespace tidewire::server
