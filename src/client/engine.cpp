#include "client/engine.hpp"

#include <algorithm>
#include <charconv>
#include <initializer_list>

#include "client/control_message.hpp"
#include "client/retry_hint.hpp"
#include "protocol/binary_frame.hpp"
#include "protocol/compact_batch.hpp"
#include "protocol/envelope.hpp"
#include "protocol/json_writer.hpp"
#include "protocol/messages.hpp"
#include "protocol/names.hpp"
#include "protocol/wire.hpp"

namespace tidewire::client {

namespace wire = tidewire::wire;
namespace proto = tidewire::protocol;

std::string_view status_message(Status s) {
  switch (s) {
    case Status::kOk: return "ok";
    case Status::kInvalidChannel:
      return "invalid channel name: use 1-128 characters of letters, digits and _ : . @ -";
    case Status::kInvalidEvent: return "invalid event name: use 1-64 characters without control characters";
    case Status::kInvalidPayload: return "invalid payload: it must be JSON-serializable";
    case Status::kOutboxFull:
      return "the outbox is full (not connected): wait for the connection, raise outboxMaxMessages/"
             "outboxMaxBytes, or clear the outbox";
    case Status::kUnknownChannel: return "unknown channel id";
    case Status::kTooLarge: return "a field is too long for a binary frame (channel, event and ids: at most 255 bytes)";
    case Status::kInvalidRequest:
      return "invalid request: the type must be 1-64 characters of a-z and _, and the body a JSON object";
    case Status::kNotConnected: return "not connected: this notice is not queued; send it again once connected";
    case Status::kInvalidId: return "invalid message id: use 1-64 bytes";
  }
  return "unknown status";
}

namespace {

// "p<number>" refs belong to publishes, "s<number>" to subscribes, "a<number>" to in-band auth.
bool parse_ref(std::string_view ref, char prefix, std::uint32_t& out) {
  if (ref.size() < 2 || ref[0] != prefix) return false;
  auto [ptr, ec] = std::from_chars(ref.data() + 1, ref.data() + ref.size(), out);
  return ec == std::errc() && ptr == ref.data() + ref.size();
}

bool has_query_param(const std::string& url, std::string_view name) {
  const auto q = url.find('?');
  if (q == std::string::npos) return false;
  std::string_view query(url);
  query.remove_prefix(q + 1);
  if (const auto hash = query.find('#'); hash != std::string_view::npos) query = query.substr(0, hash);
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    if (pair.substr(0, pair.find('=')) == name) return true;
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return false;
}

// The protocol version, and binary batches, compact ones where the server has them (docs/PROTOCOL.md section 13: the browser glue copies binary
// frames with one memcpy but re-encodes text frames in a JS loop), unless the URL already says otherwise.
std::string connect_url(const std::string& url) {
  std::string out = url;
  const auto add = [&out](std::string_view name, std::string_view value) {
    if (has_query_param(out, name)) return;
    const auto hash = out.find('#');
    std::string param = std::string(out.find('?') == std::string::npos || out.find('?') > hash ? "?" : "&");
    param.append(name).append("=").append(value);
    if (hash == std::string::npos) out += param;
    else out.insert(hash, param);
  };
  add("v", std::to_string(wire::kProtocolVersion));
  add("binary", "1");
  add("compact", "1");  // protocol v2 batches (section 13.1); a server without them sends 0x00 batches
  return out;
}

// Error texts of the cold paths, built out of line: inlined `a + b + c` string chains cost wasm size at each use.
[[gnu::noinline]] std::string join(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (std::string_view p : parts) out.append(p);
  return out;
}

std::string random_id(RandomSource& rng, std::size_t n) {
  static constexpr char kAlphabet[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  std::string id;
  for (std::size_t i = 0; i < n; ++i) id.push_back(kAlphabet[static_cast<std::size_t>(rng.next_unit() * 36) % 36]);
  return id;
}

}  // namespace

Engine::Engine(ClientConfig config, Clock& clock, Transport& transport, EngineListener& listener,
               RandomSource& rng)
    : config_(std::move(config)),
      clock_(clock),
      transport_(transport),
      listener_(listener),
      rng_(rng),
      heartbeat_(Heartbeat::Config{config_.heartbeat_interval_ms, config_.heartbeat_timeout_ms,
                                   config_.probe_timeout_ms, 5000}),
      outbox_(config_.outbox_max_messages, config_.outbox_max_bytes) {
  client_id_ = random_id(rng_, 10);
}

Engine::~Engine() {
  if (socket_ != 0) transport_.close(socket_, wire::close_code::kNormal, "client destroyed");
}

// --- Application API ---------------------------------------------------------------------------------

Status Engine::subscribe(std::string_view channel, std::uint32_t& channel_id) {
  return subscribe(channel, channel_id, std::string_view(), std::string_view());
}

Status Engine::subscribe(std::string_view channel, std::uint32_t& channel_id, std::string_view changes_event,
                         std::string_view changes_filter) {
  if (!proto::is_valid_channel(channel)) return Status::kInvalidChannel;
  bool created = false;
  ChannelEntry& ch = channels_.acquire(channel, created);
  channel_id = ch.id;
  grace_at_ = kNever;
  if (created) {
    ch.changes_event = std::string(changes_event);
    ch.changes_filter = std::string(changes_filter);
  } else {
    set_changes(ch.id, changes_event, changes_filter);
  }
  if (!created && ch.revoked) {
    resubscribe(ch.id);  // the server had ended it: an explicit subscribe starts again
  } else if (created && state_ == ConnectionState::kConnected) {
    send_subscribe(ch);
  }
  if (state_ == ConnectionState::kIdle) start_connect();
  return Status::kOk;
}

void Engine::unsubscribe(std::uint32_t channel_id) {
  ChannelEntry* ch = channels_.find(channel_id);
  if (ch == nullptr) return;
  if (ch->refs == 1 && ch->subscribe_sent &&
      (state_ == ConnectionState::kConnected || state_ == ConnectionState::kAuthenticating)) {
    scratch_.clear();
    proto::encode_unsubscribe(scratch_, ch->name, std::string_view());
    send_frame(scratch_);
  }
  channels_.release(channel_id);
  if (!wanted() && socket_ != 0) grace_at_ = clock_.now_ms() + config_.grace_ms;
}

void Engine::set_changes(std::uint32_t channel_id, std::string_view event, std::string_view filter) {
  ChannelEntry* ch = channels_.find(channel_id);
  if (ch == nullptr || (ch->changes_event == event && ch->changes_filter == filter)) return;
  ch->changes_event = std::string(event);
  ch->changes_filter = std::string(filter);
  if (!ch->subscribe_sent || ch->revoked) return;  // the next subscribe carries it
  // A subscribe asking for recovery is in flight: a second one now would be answered without `recovered` and
  // read as a gap. Send it once the first is confirmed (handle_subscribed).
  if (!ch->subscribed && ch->since_sent) {
    ch->changes_pending = true;
    return;
  }
  send_subscribe(*ch, /*update=*/true);
}

void Engine::set_position(std::uint32_t channel_id, std::uint64_t offset, std::string_view epoch) {
  ChannelEntry* ch = channels_.find(channel_id);
  if (ch == nullptr || ch->has_position || epoch.empty()) return;
  ch->has_position = true;
  ch->last_offset = offset;
  ch->epoch = std::string(epoch);
}

void Engine::resubscribe(std::uint32_t channel_id) {
  ChannelEntry* ch = channels_.find(channel_id);
  if (ch == nullptr || !ch->revoked) return;
  ch->revoked = false;
  // While authenticating, on_authenticated sends it with the others that were not sent yet.
  if (state_ == ConnectionState::kConnected) send_subscribe(*ch);
  if (state_ == ConnectionState::kIdle) start_connect();
}

Status Engine::publish(std::string_view channel, std::string_view event, std::string_view payload_json,
                       std::uint32_t& msg_ref, double ttl_ms, std::string_view id) {
  if (!proto::is_valid_channel(channel)) return Status::kInvalidChannel;
  if (!proto::is_valid_event(event)) return Status::kInvalidEvent;
  if (payload_json.empty()) return Status::kInvalidPayload;
  if (!proto::is_valid_ref(id)) return Status::kInvalidId;
  OutboxItem item = new_item(ttl_ms);
  const std::string ref_text = "p" + std::to_string(item.ref);
  item.channel = std::string(channel);
  item.event = std::string(event);
  proto::encode_publish(item.frame, channel, event, payload_json, ref_text,
                        id.empty() ? client_id_ + "-" + ref_text : std::string(id));
  return enqueue(std::move(item), msg_ref);
}

Status Engine::publish_binary(std::string_view channel, std::string_view event, std::string_view bytes,
                              std::uint32_t& msg_ref, double ttl_ms, std::string_view given_id) {
  if (!proto::is_valid_channel(channel)) return Status::kInvalidChannel;
  if (!proto::is_valid_event(event)) return Status::kInvalidEvent;
  if (!proto::is_valid_ref(given_id)) return Status::kInvalidId;
  OutboxItem item = new_item(ttl_ms);
  const std::string ref_text = "p" + std::to_string(item.ref);
  const std::string id = given_id.empty() ? client_id_ + "-" + ref_text : std::string(given_id);
  item.channel = std::string(channel);
  item.event = std::string(event);
  item.binary = true;
  if (!proto::encode_binary_publish(item.frame, proto::BinaryPublish{channel, event, ref_text, id, bytes})) {
    return Status::kTooLarge;
  }
  return enqueue(std::move(item), msg_ref);
}

bool Engine::compose(std::string& out, std::string_view type, std::string_view ref, std::string_view body_json) {
  if (type.empty() || type.size() > 64 ||
      !std::all_of(type.begin(), type.end(), [](char c) { return (c >= 'a' && c <= 'z') || c == '_'; })) {
    return false;
  }
  while (!body_json.empty() && (body_json.front() == ' ' || body_json.front() == '\n')) body_json.remove_prefix(1);
  while (!body_json.empty() && (body_json.back() == ' ' || body_json.back() == '\n')) body_json.remove_suffix(1);
  if (body_json.size() < 2 || body_json.front() != '{' || body_json.back() != '}') return false;
  proto::JsonObjectWriter w(out);
  w.str("type", type);
  if (!ref.empty()) w.str("ref", ref);
  const std::string_view inner = body_json.substr(1, body_json.size() - 2);
  if (inner.find_first_not_of(" \t\r\n") != std::string_view::npos) {  // the writer has not closed the object
    out.push_back(',');
    out.append(inner);
  }
  out.push_back('}');
  return true;
}

Status Engine::request(std::string_view type, std::string_view body_json, std::uint32_t& request_ref,
                       double ttl_ms) {
  OutboxItem item = new_item(ttl_ms);
  item.request = true;
  item.event = std::string(type);
  if (!compose(item.frame, type, "r" + std::to_string(item.ref), body_json)) return Status::kInvalidRequest;
  return enqueue(std::move(item), request_ref);
}

Status Engine::notify(std::string_view type, std::string_view body_json) {
  scratch_.clear();
  if (!compose(scratch_, type, std::string_view(), body_json)) return Status::kInvalidRequest;
  if (state_ != ConnectionState::kConnected || !send_frame(scratch_)) return Status::kNotConnected;
  return Status::kOk;
}

void Engine::settle(const OutboxItem& item, bool ok, std::uint64_t offset, std::string_view data,
                    std::string_view code, std::string_view message) {
  if (item.request) {
    listener_.on_reply(item.ref, ok, data.empty() ? std::string_view("null") : data, code, message);
  } else {
    listener_.on_ack(item.ref, ok, offset, code, message, ok ? std::string_view() : data);
  }
}

bool Engine::take_inflight(char prefix, std::string_view ref_text, OutboxItem& out) {
  std::uint32_t ref = 0;
  if (!parse_ref(ref_text, prefix, ref)) return false;
  for (std::size_t i = 0; i < inflight_.size(); ++i) {
    if (inflight_[i].ref == ref) {
      out = inflight_.take(i);
      return true;
    }
  }
  return false;
}

// The next ref (taken for good only by enqueue), the queue time and the TTL deadline.
OutboxItem Engine::new_item(double ttl_ms) const {
  OutboxItem item;
  item.ref = next_msg_ref_;
  item.queued_at_ms = clock_.now_ms();
  item.expires_at_ms = ttl_ms > 0 ? item.queued_at_ms + ttl_ms : kNever;
  return item;
}

Status Engine::enqueue(OutboxItem item, std::uint32_t& msg_ref) {
  if (state_ == ConnectionState::kConnected && outbox_.empty()) {
    if (send_frame(item.frame, item.binary)) {
      msg_ref = item.ref;
      ++next_msg_ref_;
      item.sent_at_ms = clock_.now_ms();
      inflight_.push_back(std::move(item));
      return Status::kOk;
    }
  }
  if (!outbox_.can_accept(item.frame.size())) return Status::kOutboxFull;
  msg_ref = item.ref;
  ++next_msg_ref_;
  outbox_.push_back(std::move(item));
  grace_at_ = kNever;
  if (state_ == ConnectionState::kIdle) start_connect();
  return Status::kOk;
}

std::vector<OutboxEntry> Engine::outbox_entries() const {
  std::vector<OutboxEntry> out;
  for (const auto& i : inflight_) {
    out.push_back({i.ref, i.channel, i.event, i.frame.size(), i.binary, true, i.queued_at_ms});
  }
  outbox_.for_each([&](const OutboxItem& i) {
    out.push_back({i.ref, i.channel, i.event, i.frame.size(), i.binary, false, i.queued_at_ms});
  });
  return out;
}

std::size_t Engine::clear_outbox() {
  std::size_t n = 0;
  outbox_.remove_if([](const OutboxItem&) { return true; },
                    [&](const OutboxItem& item) {
                      ++n;
                      settle(item, false, 0, std::string_view(), "cleared",
                             "the outbox was cleared before this was sent");
                    });
  return n;
}

void Engine::connect() {
  explicit_connect_ = true;
  stopped_by_user_ = false;
  grace_at_ = kNever;
  if (state_ == ConnectionState::kIdle || state_ == ConnectionState::kDisconnected ||
      state_ == ConnectionState::kError) {
    attempt_ = 0;
    start_connect();
  }
}

void Engine::disconnect() {
  explicit_connect_ = false;
  stopped_by_user_ = true;
  reconnect_at_ = kNever;
  grace_at_ = kNever;
  awaiting_token_ = false;
  awaiting_url_ = false;
  drop_socket(wire::close_code::kNormal, "client disconnect");
  set_state(ConnectionState::kDisconnected, "disconnect() called");
}

void Engine::reconnect() {
  stopped_by_user_ = false;
  attempt_ = 0;
  auth_retry_used_ = false;
  reconnect_at_ = kNever;
  drop_socket(wire::close_code::kNormal, "manual reconnect");
  if (wanted()) {
    start_connect();
  } else {
    set_state(ConnectionState::kIdle, "manual reconnect with nothing subscribed");
  }
}

void Engine::token_failed(std::string_view message) {
  if (refresh_pending_) {
    // An in-band refresh: the current token still works. Ask again a little later; if it expires first, the
    // server closes with 4003 and the reconnect asks the provider again.
    refresh_pending_ = false;
    token_refresh_at_ = clock_.now_ms() + std::max(1000.0, backoff_ceiling(config_.backoff, 0));
    listener_.on_error("token_provider_failed", join({"the token provider failed while refreshing the token (",
                                                      message, "); it is asked again shortly"}));
    return;
  }
  if (!awaiting_token_) return;  // stale: a disconnect() or another request came in between
  awaiting_token_ = false;
  auth_deadline_ = kNever;
  ++metrics_.connection_failures;
  listener_.on_error("token_provider_failed",
                     join({"the token provider failed (", message,
                           "); this counts as a failed connection attempt and is retried with the reconnect backoff"}));
  // The listener may have called disconnect() or reconnect(): then that call decided what happens next.
  if (state_ != ConnectionState::kConnecting || awaiting_token_ || socket_ != 0) return;
  retry_later("the token provider failed", 0);
}

void Engine::token_refused(std::string_view message) {
  if (!awaiting_token_ && !refresh_pending_) return;
  awaiting_token_ = false;
  refresh_pending_ = false;
  reconnect_at_ = kNever;
  drop_socket(wire::close_code::kNormal, "signed out");
  set_state(ConnectionState::kError, "the token provider refused (no user)");
  listener_.on_error("auth_failed", join({message.empty() ? "the token provider returned null" : message,
                                         ": nobody is signed in, so the client stops. reconnect(), the page "
                                         "coming back online or becoming visible ask the provider again"}));
  fail_queued("auth_failed", "no token (signed out); the message was not sent");
}

void Engine::set_url(std::string_view url) {
  if (!awaiting_url_) return;  // stale: a disconnect() or another attempt came in between
  awaiting_url_ = false;
  auth_deadline_ = kNever;
  config_.url = std::string(url);
  continue_connect();
}

void Engine::url_failed(std::string_view message) {
  if (!awaiting_url_) return;
  awaiting_url_ = false;
  auth_deadline_ = kNever;
  ++metrics_.connection_failures;
  listener_.on_error("url_provider_failed",
                     join({"the url option's function failed (", message,
                           "); this counts as a failed connection attempt and is retried with the reconnect backoff"}));
  if (state_ != ConnectionState::kConnecting || awaiting_url_ || awaiting_token_ || socket_ != 0) return;
  retry_later("the URL provider failed", 0);
}

void Engine::set_reconnect_policy(BackoffPolicy backoff, std::uint32_t max_reconnect_attempts) {
  config_.backoff = backoff;
  config_.max_reconnect_attempts = max_reconnect_attempts;
}

void Engine::set_token(std::string_view token) {
  token_ = std::string(token);
  if (awaiting_token_) {
    awaiting_token_ = false;
    open_socket();
    return;
  }
  if (refresh_pending_ && state_ == ConnectionState::kConnected && !token_.empty()) {
    refresh_pending_ = false;
    scratch_.clear();
    proto::encode_auth_refresh(scratch_, token_, "a" + std::to_string(next_auth_ref_++));
    send_frame(scratch_);
  }
}

// --- Page events -------------------------------------------------------------------------------------

void Engine::set_page_visible(bool visible) {
  if (!visible) {
    hidden_ = true;
    if (config_.hidden_close_ms >= 0 && state_ != ConnectionState::kIdle) {
      hidden_close_at_ = clock_.now_ms() + config_.hidden_close_ms;
    }
    return;
  }
  hidden_ = false;
  hidden_close_at_ = kNever;
  if (state_ == ConnectionState::kError) {
    restart();
    return;
  }
  if (paused_hidden_) {
    paused_hidden_ = false;
    if (can_connect()) {
      attempt_ = 0;
      start_connect();
    } else if (!wanted()) {
      set_state(ConnectionState::kIdle, "page visible, nothing subscribed");
    }
    return;
  }
  probe();
}

void Engine::set_online(bool online) {
  if (!online) {
    if (offline_) return;
    offline_ = true;
    reconnect_at_ = kNever;
    awaiting_token_ = false;
    awaiting_url_ = false;
    drop_socket(wire::close_code::kNormal, "offline");
    if (state_ != ConnectionState::kIdle && state_ != ConnectionState::kError) {
      set_state(ConnectionState::kDisconnected, "offline");
    }
    return;
  }
  const bool was_offline = offline_;
  offline_ = false;
  // The network is back: no reason to wait for a pending retry, and a stopped client starts a fresh cycle.
  if (state_ == ConnectionState::kError || state_ == ConnectionState::kReconnecting ||
      (was_offline && state_ == ConnectionState::kDisconnected)) {
    restart();
    return;
  }
  probe();
}

void Engine::probe() {
  if (state_ != ConnectionState::kConnected) return;
  heartbeat_.request_probe();
  advance();
}

// --- Connection lifecycle ----------------------------------------------------------------------------

bool Engine::wanted() const {
  return !stopped_by_user_ &&
         (explicit_connect_ || channels_.total_refs() > 0 || !outbox_.empty() || !inflight_.empty());
}

void Engine::set_state(ConnectionState to, std::string_view reason) {
  if (to == state_) return;
  const ConnectionState from = state_;
  const double now = clock_.now_ms();
  if (from == ConnectionState::kConnected && metrics_.connected_since_ms >= 0) {
    metrics_.total_uptime_ms += now - metrics_.connected_since_ms;
    metrics_.connected_since_ms = -1;
  }
  if (to == ConnectionState::kConnected) metrics_.connected_since_ms = now;
  state_ = to;
  listener_.on_state(from, to, reason);
}

void Engine::start_connect() {
  reconnect_at_ = kNever;
  if (!can_connect()) {
    if (wanted()) set_state(ConnectionState::kDisconnected, offline_ ? "offline" : "page hidden");
    return;
  }
  set_state(ConnectionState::kConnecting, attempt_ == 0 ? "connect" : "retry");
  if (config_.url_provider) {
    awaiting_url_ = true;
    // A provider that never answers must not stall the client for good (as for the token provider).
    auth_deadline_ = clock_.now_ms() + config_.auth_timeout_ms;
    listener_.on_url_request();
    return;
  }
  continue_connect();
}

void Engine::continue_connect() {
  if (state_ != ConnectionState::kConnecting) return;
  if (config_.token_provider) {
    awaiting_token_ = true;
    // A provider that never answers (a fetch into a network black hole) must not stall the client for good.
    auth_deadline_ = clock_.now_ms() + config_.auth_timeout_ms;
    listener_.on_token_request();
    return;
  }
  open_socket();
}

void Engine::open_socket() {
  if (state_ != ConnectionState::kConnecting) return;  // a disconnect() happened while waiting for a token
  std::vector<std::string> protocols;
  if (config_.auth_mode == AuthMode::kSubprotocol && !token_.empty()) {
    protocols.emplace_back(wire::kJwtSubprotocol);
    protocols.push_back(token_);
  }
  ++metrics_.connection_attempts;
  if (attempt_ > 0) ++metrics_.reconnects;
  socket_ = transport_.open(connect_url(config_.url), protocols);
  if (socket_ == 0) {
    handle_disconnect(wire::close_code::kAbnormal, "the socket could not be created");
    return;
  }
  auth_deadline_ = clock_.now_ms() + config_.auth_timeout_ms;
}

void Engine::drop_socket(std::uint16_t code, std::string_view reason) {
  if (socket_ != 0) {
    const SocketId id = socket_;
    socket_ = 0;
    transport_.close(id, code, reason);
  }
  auth_deadline_ = kNever;
  token_refresh_at_ = kNever;
  refresh_pending_ = false;
  heartbeat_.stop();
  connection_id_.clear();
  channels_.reset_socket_state();
  // Sent but unacknowledged messages go back to the front of the outbox, in their original order. They carry
  // their client message id, so the server will not broadcast them twice.
  outbox_.prepend(inflight_);
}

// The one path every lost or refused connection takes.
void Engine::handle_disconnect(std::uint16_t code, std::string_view reason) {
  const bool was_connected = state_ == ConnectionState::kConnected;
  drop_socket(code, reason);
  if (!was_connected) ++metrics_.connection_failures;
  if (stopped_by_user_) {
    set_state(ConnectionState::kDisconnected, reason);
    return;
  }
  switch (wire::classify_close(code)) {
    case wire::CloseAction::kStop:
      set_state(ConnectionState::kError, reason);
      listener_.on_error(code == wire::close_code::kTooManyConnections ? "too_many_connections" : "connection_refused",
                         std::string("the server closed the connection with code ") + std::to_string(code) + " (" +
                             std::string(reason) + "); fix the cause, then call reconnect()");
      fail_queued("connection_refused", "the connection was refused; the message was not sent");
      return;
    case wire::CloseAction::kRefreshTokenAndRetry:
      if (config_.token_provider && !auth_retry_used_) {
        auth_retry_used_ = true;
        start_connect();  // asks the provider for a fresh token
        return;
      }
      set_state(ConnectionState::kError, reason);
      listener_.on_error("auth_failed", std::string("authentication failed (") + std::string(reason) +
                                            "): provide a valid token, then call reconnect()");
      fail_queued("auth_failed", "authentication failed; the message was not sent");
      return;
    case wire::CloseAction::kNone:
    case wire::CloseAction::kRetry:
      break;
  }
  retry_later(reason, parse_retry_after_ms(reason));
}

void Engine::retry_later(std::string_view reason, double min_delay_ms) {
  if (!wanted()) {
    set_state(ConnectionState::kIdle, reason);
    return;
  }
  if (!can_connect()) {
    set_state(ConnectionState::kDisconnected, offline_ ? "offline" : "page hidden");
    return;
  }
  schedule_reconnect(reason, min_delay_ms);
}

void Engine::schedule_reconnect(std::string_view reason, double min_delay_ms) {
  if (config_.max_reconnect_attempts > 0 && attempt_ >= config_.max_reconnect_attempts) {
    set_state(ConnectionState::kError, "gave up after " + std::to_string(attempt_) + " attempts");
    listener_.on_error("reconnect_failed", "could not reconnect after " + std::to_string(attempt_) +
                                               " attempts; call reconnect() to try again");
    return;
  }
  const double delay = min_delay_ms + backoff_delay(config_.backoff, attempt_, rng_);
  ++attempt_;
  reconnect_at_ = clock_.now_ms() + delay;
  set_state(ConnectionState::kReconnecting, reason);
}

void Engine::restart() {
  if (!can_connect()) return;
  attempt_ = 0;
  auth_retry_used_ = false;
  start_connect();
}

void Engine::arm_grace_if_unwanted() {
  if (!wanted() && socket_ != 0) grace_at_ = clock_.now_ms() + config_.grace_ms;
}

void Engine::go_idle_if_unwanted() {
  if (wanted()) return;
  reconnect_at_ = kNever;
  drop_socket(wire::close_code::kNormal, "no subscribers");
  set_state(ConnectionState::kIdle, "no subscribers");
}

void Engine::fail_queued(std::string_view code, std::string_view message) {
  while (!outbox_.empty()) {
    OutboxItem item = outbox_.pop_front();
    settle(item, false, 0, std::string_view(), code, message);
  }
}

void Engine::schedule_token_refresh() {
  token_refresh_at_ = kNever;
  if (!config_.token_provider || expires_at_wall_ <= 0) return;
  const double wall = clock_.wall_ms();
  const double remaining = expires_at_wall_ - wall;
  // Refresh a fifth of the lifetime before expiry, between 5 s and 60 s ahead.
  const double lead = std::clamp(remaining / 5, 5000.0, 60000.0);
  token_refresh_at_ = clock_.now_ms() + std::max(0.0, remaining - lead);
}

// --- Platform events ---------------------------------------------------------------------------------

void Engine::on_socket_open(SocketId id) {
  if (id != socket_ || id == 0) return;
  set_state(ConnectionState::kAuthenticating, "socket open");
  if (state_ != ConnectionState::kAuthenticating || socket_ != id) return;  // a listener disconnected
  if (config_.auth_mode == AuthMode::kFirstMessage) {
    scratch_.clear();
    proto::encode_auth(scratch_, token_);
    send_frame(scratch_);
  }
  // Subscribe now rather than after auth_success: the server handles a connection's messages in order, after
  // its authentication (PROTOCOL.md section 1), so this saves a round trip before the first message. If the
  // authentication fails, the connection closes and these are sent again on the next one.
  channels_.for_each([this](ChannelEntry& ch) { send_subscribe(ch); });
}

void Engine::on_socket_close(SocketId id, std::uint16_t code, std::string_view reason) {
  if (id != socket_ || id == 0) return;
  socket_ = 0;  // already closed by the peer: release without sending a close
  transport_.close(id, wire::close_code::kNormal, std::string_view());
  handle_disconnect(code, reason.empty() ? std::string_view("connection closed") : reason);
}

void Engine::on_socket_error(SocketId id) {
  if (id != socket_ || id == 0) return;
  // Some WebSocket implementations fire error without close: treat it as an abnormal close.
  handle_disconnect(wire::close_code::kAbnormal, "socket error");
}

void Engine::on_socket_message(SocketId id, std::string_view data, bool binary) {
  if (id != socket_ || id == 0) return;
  heartbeat_.on_receive(clock_.now_ms(), clock_.wall_ms());
  metrics_.bytes_received += static_cast<double>(data.size());
  if (binary) {
    const auto kind = data.empty() ? proto::BinaryKind::kChannelMessage : static_cast<proto::BinaryKind>(data[0]);
    if (kind == proto::BinaryKind::kJsonBatch) {
      data.remove_prefix(1);  // a JSON batch in a binary frame: same as text
    } else if (kind == proto::BinaryKind::kCompactBatch) {
      deliver_compact(data);
      return;
    } else {
      deliver_binary(data);
      return;
    }
  }
  proto::for_each_message(data, [this, id](std::string_view line) {
    if (socket_ == id) handle_line(line);  // a listener may have closed the socket mid-frame
  });
}

void Engine::deliver_binary(std::string_view frame) {
  proto::BinaryBroadcast b;
  if (!proto::decode_binary_broadcast(frame, b)) {
    ++metrics_.frame_errors;
    listener_.on_error("bad_frame", "the server sent a binary frame tidewire cannot read; ignored");
    return;
  }
  metrics_.messages_received += 1;
  ChannelEntry* ch = admit(b.channel, true, b.offset, b.epoch);
  if (ch == nullptr) return;
  const std::uint32_t event_id = event_id_of(b.event);
  MessageMeta meta{b.offset, static_cast<double>(b.ts_ms), b.from};
  listener_.on_binary_message(ch->id, event_id, b.payload, meta);
}

std::uint32_t Engine::event_id_of(std::string_view name) {
  bool is_new = false;
  const std::uint32_t id = events_.intern(name, is_new);
  if (is_new) listener_.on_event_name(id, name);
  return id;
}

ChannelEntry* Engine::admit(std::string_view channel, bool has_offset, std::uint64_t offset, std::string_view epoch) {
  ChannelEntry* ch = channels_.find(channel);
  if (ch == nullptr || !has_offset) return ch;  // nullptr: unsubscribed meanwhile
  if (ch->has_position && epoch == ch->epoch && offset <= ch->last_offset) {
    ++metrics_.duplicates_dropped;  // already delivered (a replay overlapping live traffic)
    return nullptr;
  }
  if (epoch != ch->epoch) {
    // Live traffic in a new epoch: the stream's history was lost (a server that kept it in memory restarted, or a
    // broker lost it) while this channel stayed subscribed. What came between is gone: report it as a gap, as a
    // resubscribe would have.
    if (ch->has_position && !ch->epoch.empty() && !epoch.empty()) {
      ++metrics_.gaps;
      listener_.on_gap(ch->id, wire::recovery::kEpochChanged);
    }
    ch->epoch = std::string(epoch);
  }
  ch->has_position = true;
  ch->last_offset = offset;
  return ch;
}

void Engine::deliver_compact(std::string_view frame) {
  const SocketId id = socket_;
  const std::uint32_t seq = ++compact_frames_;
  proto::CompactReader reader(frame);
  proto::CompactRecord r;
  proto::CompactReader::Status status = proto::CompactReader::Status::kEnd;
  // In order: control messages ('j') and channel messages keep the server's order. A listener may close the
  // socket mid-frame: the rest is dropped then, as in a text batch.
  while (socket_ == id && (status = reader.next(r)) == proto::CompactReader::Status::kRecord) {
    if (r.tag == proto::compact::kJson) {
      handle_line(r.json);
      continue;
    }
    const proto::CompactMessage& m = r.message;
    metrics_.messages_received += 1;
    ChannelEntry* ch = admit(m.channel, true, m.offset, m.epoch);
    if (ch == nullptr) continue;
    const std::uint32_t event_id = event_id_of(m.event);
    const MessageMeta meta{m.offset, static_cast<double>(m.ts_ms), m.from};
    const CompactSpan span{frame, seq, static_cast<double>(r.payload_index), m.payload_units, m.from_units};
    listener_.on_compact_message(ch->id, event_id, m.payload, meta, span);
  }
  if (socket_ == id && status == proto::CompactReader::Status::kMalformed) {
    ++metrics_.frame_errors;
    listener_.on_error("bad_frame", "the server sent a compact batch tidewire cannot read; the rest is ignored");
  }
}

void Engine::handle_line(std::string_view line) {
  proto::Envelope env;
  if (proto::scan_envelope(line, env) != proto::ScanStatus::kOk || env.type.empty()) {
    ++metrics_.frame_errors;
    listener_.on_error("bad_frame", "the server sent a message that is not a JSON object with a type; ignored");
    return;
  }
  metrics_.messages_received += 1;

  // Hot path first: no allocation unless the channel's epoch changes or a name is escaped.
  if (env.type == wire::type::kChannelMessage) {
    std::string decoded_channel, decoded_event;
    std::string_view channel = env.channel, event = env.event;
    if (env.has_escapes) {
      // Rare: an escaped channel or event name. Decode both.
      if (!proto::field_string(line, "channel", decoded_channel) || !proto::field_string(line, "event", decoded_event)) {
        ++metrics_.frame_errors;
        listener_.on_error("bad_frame", "a channel_message had an unreadable channel or event; ignored");
        return;
      }
      channel = decoded_channel;
      event = decoded_event;
    }
    ChannelEntry* ch = admit(channel, env.has_offset, env.offset, env.epoch);
    if (ch == nullptr) return;
    const std::uint32_t event_id = event_id_of(event);
    MessageMeta meta{env.offset, env.ts, env.from};
    listener_.on_message(ch->id, event_id, env.payload.empty() ? std::string_view("null") : env.payload, meta);
    return;
  }

  if (env.type == wire::type::kAck || env.type == wire::type::kReply) {
    OutboxItem item;
    if (!take_inflight(env.type == wire::type::kAck ? 'p' : 'r', env.ref, item)) return;  // timed out, or not ours
    settle(item, true, env.offset, env.data, std::string_view(), std::string_view());
    arm_grace_if_unwanted();
    return;
  }

  if (env.type == wire::type::kPong) {
    if (env.has_ts) {
      const double rtt = clock_.now_ms() - env.ts;
      if (rtt >= 0) {
        metrics_.last_latency_ms = rtt;
        metrics_.avg_latency_ms = metrics_.avg_latency_ms < 0 ? rtt : metrics_.avg_latency_ms * 0.8 + rtt * 0.2;
      }
    }
    return;
  }

  // The control path: rare messages, read with nlohmann/json. The per-message path above keeps the envelope
  // scanner (nlohmann measured about 9 us per message in wasm).
  const bool control = env.type == wire::type::kSubscribed || env.type == wire::type::kAuthSuccess ||
                       env.type == wire::type::kAuthRefreshed || env.type == wire::type::kError ||
                       env.type == wire::type::kUnsubscribed;
  if (control) {
    ControlMessage msg;
    if (!read_control_message(line, msg)) {
      ++metrics_.frame_errors;
      listener_.on_error("bad_frame", "the server sent a control message that is not valid JSON; ignored");
      return;
    }
    handle_control(env, msg, line);
    return;
  }
  if (env.type == wire::type::kPresenceDiff || env.type == wire::type::kPresenceState) {
    // Presence goes to the state module as it came (it parses it there, once).
    if (ChannelEntry* ch = channels_.find(env.channel)) listener_.on_presence_diff(ch->id, line);
    return;
  }
  // Unknown types: nothing to do (ignored for forward compatibility).
}

void Engine::handle_control(const proto::Envelope& env, const ControlMessage& msg, std::string_view line) {
  if (env.type == wire::type::kSubscribed) {
    ChannelEntry* ch = channels_.find(env.channel);
    if (ch == nullptr) return;
    if (env.ref.empty()) {
      // Not an answer: the server tells a live subscription it lost part of the stream (several nodes: what this
      // node missed was trimmed before it could read it back). A gap; the subscription itself goes on.
      if (!msg.recovered && msg.has_reason && ch->subscribed) continue_after_gap(msg, *ch);
      return;
    }
    handle_subscribed(msg, *ch);
    return;
  }
  if (env.type == wire::type::kAuthSuccess) {
    on_authenticated(msg);
    return;
  }
  if (env.type == wire::type::kAuthRefreshed) {
    expires_at_wall_ = msg.expires_at;
    schedule_token_refresh();
    return;
  }
  if (env.type == wire::type::kError) {
    std::string message = msg.has_message ? msg.message : "the server reported an error";
    OutboxItem item;
    if (take_inflight('p', env.ref, item) || take_inflight('r', env.ref, item)) {
      // The error's own fields (e.g. `current` of version_conflict) go to the caller as the data.
      settle(item, false, 0, line, env.code, message);
      arm_grace_if_unwanted();  // a refused send settles too: a send-only connection closes after the grace
      return;
    }
    std::uint32_t ref = 0;
    if (parse_ref(env.ref, 's', ref)) {
      if (ChannelEntry* ch = channels_.find(ref)) {
        handle_subscribe_error(*ch, env.code, std::move(message));
        return;
      }
    }
    if (parse_ref(env.ref, 'a', ref)) {
      listener_.on_error("auth_failed", "the server refused the refreshed token (" + message +
                                            "); the connection closes when the current token expires");
      return;
    }
    listener_.on_error(env.code.empty() ? std::string_view("server_error") : env.code, message);
    return;
  }
  if (env.type == wire::type::kUnsubscribed) {
    if (ChannelEntry* ch = channels_.find(env.channel)) handle_unsubscribed(msg, *ch);
  }
}

// The answer to our own unsubscribe carries no reason (and its channel is usually gone); a push with a reason
// means the server ended the subscription: access revoked (docs/PROTOCOL.md section 4).
void Engine::handle_unsubscribed(const ControlMessage& msg, ChannelEntry& ch) {
  if (msg.reason.empty()) return;
  std::string message = msg.message;
  if (message.empty()) message = join({"the server ended the subscription to ", ch.name});
  end_subscription(ch, msg.reason, message);
}

// Retryable refusals (the broker is down, a rate limit) stay errors of the connection: the next connection
// subscribes again. The others (forbidden, too_many_channels, bad_filter, unknown_table, ...) would be refused
// again: the channel ends like a revoked one, until the application subscribes it again.
void Engine::handle_subscribe_error(ChannelEntry& ch, std::string_view code, std::string message) {
  if (code == wire::error::kUnavailable || code == wire::error::kRateLimited) {
    listener_.on_error(code, join({"subscribing to ", ch.name, " failed: ", message}));
    return;
  }
  end_subscription(ch, code.empty() ? std::string_view("server_error") : code,
                   join({"the server refused the subscription to ", ch.name, ": ", message,
                         ". Fix the cause, then call subscribe() again"}));
}

void Engine::end_subscription(ChannelEntry& ch, std::string_view code, std::string_view message) {
  ch.revoked = true;
  ch.subscribe_sent = false;
  ch.subscribed = false;
  ch.since_sent = false;
  ch.has_position = false;  // a later subscribe starts afresh: there is nothing to recover across the loss
  ch.last_offset = 0;
  ch.epoch.clear();
  ch.changes_pending = false;
  listener_.on_unsubscribed(ch.id, code, message);
}

// The server cannot replay what this channel missed (a failed recovery, or a push about a live subscription):
// continue from the position it gives and say so.
void Engine::continue_after_gap(const ControlMessage& msg, ChannelEntry& ch) {
  ++metrics_.gaps;
  ch.has_position = true;
  ch.last_offset = static_cast<std::uint64_t>(msg.offset);
  ch.epoch = msg.epoch;
  listener_.on_gap(ch.id, msg.has_reason ? std::string_view(msg.reason) : std::string_view("unknown"));
}

void Engine::handle_subscribed(const ControlMessage& msg, ChannelEntry& ch) {
  ch.subscribed = true;
  const std::string& epoch = msg.epoch;
  const double offset = msg.offset;
  const bool recovered = msg.recovered;
  if (ch.since_sent && !recovered) {
    continue_after_gap(msg, ch);
  } else if (!ch.since_sent) {
    ch.has_position = true;
    ch.last_offset = static_cast<std::uint64_t>(offset);
    ch.epoch = epoch;
  }
  ch.since_sent = false;  // answered: a later `subscribed` (a changes update) is not a recovery
  if (ch.changes_pending) {
    ch.changes_pending = false;
    send_subscribe(ch, /*update=*/true);
  }
  listener_.on_subscribed(ch.id);
}

void Engine::on_authenticated(const ControlMessage& msg) {
  if (state_ != ConnectionState::kAuthenticating) return;
  if (msg.version != 0 && msg.version != wire::kProtocolVersion) {
    stopped_by_user_ = true;  // do not retry: this client cannot talk to this server
    drop_socket(wire::close_code::kNormal, "unsupported protocol version");
    set_state(ConnectionState::kError, "unsupported protocol version");
    listener_.on_error("unsupported_version", "the server speaks another protocol version; upgrade the client");
    return;
  }
  connection_id_ = msg.connection_id;
  if (!msg.user_id.empty()) user_id_ = msg.user_id;
  expires_at_wall_ = msg.expires_at;
  const double now = clock_.now_ms();
  auth_deadline_ = kNever;
  heartbeat_.start(now, clock_.wall_ms());
  attempt_ = 0;
  auth_retry_used_ = false;
  ++metrics_.connection_successes;
  schedule_token_refresh();
  if (hidden_ && config_.hidden_close_ms >= 0) hidden_close_at_ = now + config_.hidden_close_ms;
  set_state(ConnectionState::kConnected, "authenticated");
  if (state_ != ConnectionState::kConnected) return;  // a listener disconnected
  // Channels added while authenticating (the others were subscribed when the socket opened).
  channels_.for_each([this](ChannelEntry& ch) {
    if (!ch.subscribe_sent) send_subscribe(ch);
  });
  flush_outbox();
  if (!wanted()) grace_at_ = now + config_.grace_ms;
}

void Engine::send_subscribe(ChannelEntry& ch, bool update) {
  if (ch.revoked) return;  // ended by the server: only the application subscribes it again
  scratch_.clear();
  const std::string ref = "s" + std::to_string(ch.id);
  const proto::SubscribeChanges changes{ch.changes_event, ch.changes_filter};
  // An update of a subscribed channel's changes asks for no recovery: its live traffic flows on.
  ch.since_sent = ch.has_position && !update;
  if (ch.since_sent) {
    proto::encode_subscribe_since(scratch_, ch.name, ref, ch.last_offset, ch.epoch, changes);
  } else {
    proto::encode_subscribe(scratch_, ch.name, ref, changes);
  }
  if (send_frame(scratch_)) ch.subscribe_sent = true;
}

void Engine::flush_outbox() {
  const double now = clock_.now_ms();
  while (!outbox_.empty() && state_ == ConnectionState::kConnected) {
    OutboxItem item = outbox_.pop_front();
    if (!send_frame(item.frame, item.binary)) {
      outbox_.push_front(std::move(item));
      return;
    }
    item.sent_at_ms = now;
    inflight_.push_back(std::move(item));
  }
}

bool Engine::send_frame(std::string_view frame, bool binary) {
  if (socket_ == 0) return false;
  if (!(binary ? transport_.send_binary(socket_, frame) : transport_.send_text(socket_, frame))) return false;
  metrics_.messages_sent += 1;
  metrics_.bytes_sent += static_cast<double>(frame.size());
  return true;
}

// --- Time --------------------------------------------------------------------------------------------

double Engine::next_deadline_ms() const {
  double d = std::min({reconnect_at_, grace_at_, auth_deadline_, hidden_close_at_, token_refresh_at_});
  if (heartbeat_.running()) d = std::min(d, heartbeat_.next_deadline(clock_.now_ms(), clock_.wall_ms()));
  if (!inflight_.empty() && config_.ack_timeout_ms > 0) {
    d = std::min(d, inflight_.front().sent_at_ms + config_.ack_timeout_ms);
  }
  if (!outbox_.empty()) {
    outbox_.for_each([&d](const OutboxItem& i) { d = std::min(d, i.expires_at_ms); });
  }
  return d;
}

void Engine::expire_and_time_out(double now) {
  if (config_.ack_timeout_ms > 0) {
    while (!inflight_.empty() && inflight_.front().sent_at_ms + config_.ack_timeout_ms <= now) {
      OutboxItem item = inflight_.take_front();
      ++metrics_.acks_timed_out;
      settle(item, false, 0, std::string_view(), "timeout",
             "no answer from the server within ackTimeoutMs; it may or may not have been processed");
      arm_grace_if_unwanted();
    }
  }
  if (!outbox_.empty()) {
    outbox_.remove_if([now](const OutboxItem& i) { return i.expires_at_ms <= now; },
                      [this](const OutboxItem& item) {
                        ++metrics_.messages_expired;
                        settle(item, false, 0, std::string_view(), "expired",
                               "the message waited longer than its ttl in the outbox and was not sent");
                      });
  }
}

void Engine::advance() {
  const double now = clock_.now_ms();
  if (grace_at_ <= now) {
    grace_at_ = kNever;
    go_idle_if_unwanted();
  }
  if (hidden_close_at_ <= now) {
    hidden_close_at_ = kNever;
    if (hidden_ && state_ != ConnectionState::kIdle && state_ != ConnectionState::kError) {
      paused_hidden_ = true;
      reconnect_at_ = kNever;
      awaiting_token_ = false;
      awaiting_url_ = false;
      drop_socket(wire::close_code::kNormal, "page hidden");
      set_state(ConnectionState::kDisconnected, "page hidden");
    }
  }
  if (reconnect_at_ <= now) {
    reconnect_at_ = kNever;
    if (wanted()) start_connect();
    else set_state(ConnectionState::kIdle, "no subscribers");
  }
  if (auth_deadline_ <= now && awaiting_url_) {
    url_failed("it did not answer within authTimeoutMs");
  } else if (auth_deadline_ <= now && awaiting_token_) {
    token_failed("it did not answer within authTimeoutMs");
  } else if (auth_deadline_ <= now) {
    auth_deadline_ = kNever;
    handle_disconnect(wire::close_code::kAbnormal, "timed out waiting for the server to authenticate");
  }
  if (state_ == ConnectionState::kConnected) {
    const bool was_probe = heartbeat_.probe_outstanding();
    switch (heartbeat_.poll(now, clock_.wall_ms())) {
      case Heartbeat::Action::kSendPing:
        if (!was_probe && heartbeat_.probe_outstanding()) ++metrics_.probes;
        scratch_.clear();
        proto::encode_ping(scratch_, now);
        send_frame(scratch_);
        break;
      case Heartbeat::Action::kDead:
        handle_disconnect(wire::close_code::kAbnormal, "heartbeat timeout: the server did not answer a probe");
        break;
      case Heartbeat::Action::kNone: break;
    }
  }
  if (token_refresh_at_ <= now) {
    token_refresh_at_ = kNever;
    if (state_ == ConnectionState::kConnected && config_.token_provider) {
      refresh_pending_ = true;
      listener_.on_token_request();
    }
  }
  expire_and_time_out(now);
}

Metrics Engine::metrics_snapshot() const {
  Metrics m = metrics_;
  m.uptime_ms = uptime_ms();
  m.queue_depth = static_cast<double>(outbox_.size());
  m.queue_bytes = static_cast<double>(outbox_.bytes());
  m.inflight = static_cast<double>(inflight_.size());
  m.reconnect_attempts = attempt_;
  m.channel_count = static_cast<double>(channels_.channel_count());
  m.subscriber_count = channels_.total_refs();
  return m;
}

double Engine::uptime_ms() const {
  double up = metrics_.total_uptime_ms;
  if (metrics_.connected_since_ms >= 0) up += clock_.now_ms() - metrics_.connected_since_ms;
  return up;
}

std::string_view Engine::channel_name(std::uint32_t channel_id) {
  ChannelEntry* ch = channels_.find(channel_id);
  return ch != nullptr ? std::string_view(ch->name) : std::string_view();
}

}  // namespace tidewire::client
