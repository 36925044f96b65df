#include "server/broker_redis.hpp"
#include "server/redis_script_sha.hpp"

#include <hiredis/hiredis.h>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>

#include <chrono>
#include <cstdio>

#include "protocol/messages.hpp"
#include "protocol/wire.hpp"
#include "server/guard.hpp"
#include "server/log.hpp"
#include "server/random_id.hpp"
#include "server/run_loop.hpp"

namespace tidewire::server {

namespace net = boost::asio;

namespace {

// Both scripts start here: the channel's epoch, created (with offset 0) from ARGV[1] when the meta hash is missing
// (a new channel, or a Redis that lost its data: a new epoch either way).
constexpr const char* kEpochScript = R"lua(
local epoch = redis.call('HGET', KEYS[1], 'epoch')
if not epoch then
  epoch = ARGV[1]
  redis.call('HSET', KEYS[1], 'epoch', epoch, 'offset', 0)
end
)lua";

// KEYS: meta, stream, dedupe. ARGV: new epoch, maxlen, ttl ms, ts, from, client id, event, payload, binary,
// PUB/SUB channel. Returns {offset, epoch, duplicate}. The message published is the fields as "len:bytes" pieces:
// offset, epoch, ts, from, client id, event, binary, payload.
const std::string kPublishScript = std::string(kEpochScript) + R"lua(
if ARGV[6] ~= '' then
  local seen = redis.call('GET', KEYS[3])
  if seen then return {tonumber(seen), epoch, 1} end
end
local offset = redis.call('HINCRBY', KEYS[1], 'offset', 1)
redis.call('XADD', KEYS[2], 'MAXLEN', ARGV[2], offset .. '-0', 't', ARGV[4], 'f', ARGV[5], 'c', ARGV[6],
           'e', ARGV[7], 'p', ARGV[8], 'b', ARGV[9])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
if ARGV[6] ~= '' then redis.call('SET', KEYS[3], offset, 'PX', ARGV[3]) end
local function piece(s) s = tostring(s) return #s .. ':' .. s end
redis.call('PUBLISH', ARGV[10], piece(offset) .. piece(epoch) .. piece(ARGV[4]) .. piece(ARGV[5]) ..
           piece(ARGV[6]) .. piece(ARGV[7]) .. piece(ARGV[9]) .. piece(ARGV[8]))
return {offset, epoch, 0}
)lua";

// KEYS: meta, stream. ARGV: new epoch, the epoch the node has, its last offset. Returns {epoch, last offset,
// entries after the node's offset (all of them when the epoch differs)}.
const std::string kLoadScript = std::string(kEpochScript) + R"lua(
local from = '-'
if epoch == ARGV[2] then from = '(' .. ARGV[3] .. '-0' end
return {epoch, tonumber(redis.call('HGET', KEYS[1], 'offset')), redis.call('XRANGE', KEYS[2], from, '+')}
)lua";


const std::string& publish_sha() {
  static const std::string sha = redis_script_sha(kPublishScript);
  return sha;
}
const std::string& load_sha() {
  static const std::string sha = redis_script_sha(kLoadScript);
  return sha;
}

std::string key(std::string_view channel, std::string_view suffix) {
  return "tw:{" + std::string(channel) + "}" + std::string(suffix);
}
std::string pubsub_name(std::string_view channel) { return key(channel, ""); }
// The channel of a PUB/SUB name (tw:{C}), or "" when it is not one of ours.
std::string_view channel_of(std::string_view name) {
  if (name.size() < 5 || name.substr(0, 4) != "tw:{" || name.back() != '}') return {};
  return name.substr(4, name.size() - 5);
}

std::string_view str(const redisReply* r) {
  return r && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS) ? std::string_view(r->str, r->len)
                                                                              : std::string_view();
}

bool to_u64(std::string_view s, std::uint64_t& out) {
  if (s.empty() || s.size() > 19 || s.find_first_not_of("0123456789") != std::string_view::npos) return false;
  out = std::stoull(std::string(s));
  return true;
}

// Reads one "len:bytes" piece off the front of `in`.
bool take_piece(std::string_view& in, std::string_view& out) {
  const auto colon = in.find(':');
  std::uint64_t n = 0;
  if (colon == std::string_view::npos || !to_u64(in.substr(0, colon), n) || in.size() - colon - 1 < n) return false;
  out = in.substr(colon + 1, n);
  in.remove_prefix(colon + 1 + n);
  return true;
}

// One XRANGE entry [id, [field, value, ...]] as a history entry.
bool parse_stream_entry(const redisReply* r, HistoryEntry& e) {
  if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2) return false;
  const std::string_view id = str(r->element[0]);
  if (!to_u64(id.substr(0, id.find('-')), e.offset)) return false;
  const redisReply* fields = r->element[1];
  if (!fields || fields->type != REDIS_REPLY_ARRAY) return false;
  for (std::size_t i = 0; i + 1 < fields->elements; i += 2) {
    const std::string_view name = str(fields->element[i]);
    const std::string_view value = str(fields->element[i + 1]);
    if (name == "t") to_u64(value, e.ts_ms);
    else if (name == "f") e.from = std::string(value);
    else if (name == "c") e.client_id = std::string(value);
    else if (name == "e") e.event = std::string(value);
    else if (name == "p") e.payload = std::string(value);
    else if (name == "b") e.binary = value == "1";
  }
  return true;
}

}  // namespace

RedisBroker::RedisBroker(Hub& hub, RedisBrokerOptions options, Metrics& metrics)
    : hub_(hub),
      options_(std::move(options)),
      metrics_(metrics),
      own_ioc_(options_.ioc ? nullptr : std::make_unique<net::io_context>(1)),
      ioc_(options_.ioc ? *options_.ioc : *own_ioc_),
      commands_(ioc_, options_.address),
      pubsub_(ioc_, options_.address) {
  commands_.set_handlers([this] { on_commands_up(); }, [this] { commands_up_ = false; }, nullptr);
  pubsub_.set_handlers([this] { on_pubsub_up(); }, [this] { on_pubsub_down(); },
                       [this](const redisReply* r) { on_push(r); });
  if (options_.tick && options_.tick->at_end_of_burst()) {
    commands_.write_at_end_of_burst(*options_.tick);
    pubsub_.write_at_end_of_burst(*options_.tick);
  }
  net::post(ioc_, [this] {
    guard("broker start", [this] {
      if (stopped_) return;
      commands_.start();
      pubsub_.start();
    });
  });
  if (!own_ioc_) return;
  work_.emplace(net::make_work_guard(*own_ioc_));
  thread_ = std::thread([this] { run_loop(*own_ioc_); });
}

RedisBroker::~RedisBroker() { stop(); }

void RedisBroker::stop() {
  if (!own_ioc_) {
    // The I/O thread no longer runs the io_context: this thread is the only one touching the connections now.
    if (!stopped_.exchange(true)) stop_connections();
    return;
  }
  if (!thread_.joinable()) return;
  net::post(*own_ioc_, [this] {
    guard("broker stop", [this] {
      stopped_ = true;
      stop_connections();
    });
    work_.reset();
  });
  thread_.join();
}

void RedisBroker::stop_connections() {
  // Pending replies get null (publishes answer unavailable, loads fail and resume their joins with false).
  commands_.stop();
  pubsub_.stop();
  commands_up_ = false;
  pubsub_up_ = false;
  std::vector<Resume> waiting;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& [channel, state] : channels_)
      for (Resume& r : take_waiters(state)) waiting.push_back(std::move(r));
    channels_.clear();  // the timers go while their io_context exists
  }
  for (Resume& r : waiting) r(false);
}

std::vector<Broker::Resume> RedisBroker::take_waiters(ChannelState& state) {
  ++state.round;
  if (state.timeout) state.timeout->cancel();
  return std::move(state.waiters);
}

void RedisBroker::on_commands_up() {
  commands_.command({"CLIENT", "SETNAME", "tidewire:" + options_.node_id + ":cmd"}, [](const redisReply*) {});
  // Sent before any EVALSHA on this connection, so the scripts exist when those run (Redis runs a connection's
  // commands in order), after a Redis restart too.
  commands_.command({"SCRIPT", "LOAD", kPublishScript}, [](const redisReply*) {});
  commands_.command({"SCRIPT", "LOAD", kLoadScript}, [this](const redisReply* r) {
    commands_up_ = r && r->type != REDIS_REPLY_ERROR;
    if (!commands_up_) return;
    log(LogLevel::kInfo, "msg=\"broker connected\" node=", options_.node_id);
    // Channels whose read failed while this connection was down read the stream now.
    std::vector<std::string> stale;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (const auto& [channel, state] : channels_)
        if (state.confirmed && !state.ready && !state.loading) stale.push_back(channel);
    }
    for (const std::string& channel : stale) request_load(channel, true);
  });
}

void RedisBroker::reload_scripts_if_flushed(const redisReply* r) {
  // SCRIPT FLUSH, or a failover to a server that never saw the scripts: every EVALSHA fails with NOSCRIPT until
  // they are loaded again. The call that failed was answered `unavailable`; the next ones find them.
  if (std::string_view(r->str, r->len).substr(0, 8) != "NOSCRIPT") return;
  commands_.command({"SCRIPT", "LOAD", kPublishScript}, [](const redisReply*) {});
  commands_.command({"SCRIPT", "LOAD", kLoadScript}, [](const redisReply*) {});
}

void RedisBroker::record_round_trip(std::chrono::steady_clock::time_point start) {
  Metrics::add(metrics_.broker_round_trips);
  Metrics::add(metrics_.broker_round_trip_us,
               static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                              std::chrono::steady_clock::now() - start)
                                              .count()));
}

void RedisBroker::on_pubsub_up() {
  pubsub_.subscribe_command({"CLIENT", "SETNAME", "tidewire:" + options_.node_id + ":pubsub"});
  pubsub_up_ = true;
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto& [channel, state] : channels_) {
    state.listening = pubsub_.subscribe_command({"SUBSCRIBE", pubsub_name(channel)});
    state.confirmed = false;
  }
}

void RedisBroker::on_pubsub_down() {
  pubsub_up_ = false;
  if (options_.on_listening_changed) options_.on_listening_changed("");
  std::vector<Resume> waiting;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& [channel, state] : channels_) {
      state.listening = false;
      state.confirmed = false;
      state.ready = false;
      state.loading = false;
      state.reload = false;
      for (Resume& r : take_waiters(state)) waiting.push_back(std::move(r));
    }
  }
  for (Resume& r : waiting) r(false);
}

void RedisBroker::on_push(const redisReply* r) {
  if (!r || r->type != REDIS_REPLY_ARRAY || r->elements < 3) return;
  const std::string_view kind = str(r->element[0]);
  const std::string channel(channel_of(str(r->element[1])));
  if (channel.empty()) return;
  if ((kind == "subscribe" || kind == "unsubscribe") && options_.on_listening_changed)
    options_.on_listening_changed(channel);
  if (kind == "subscribe") {
    // Listening from now on: read what the stream has (the first time, or what was missed while away).
    bool backfill = false;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      const auto it = channels_.find(channel);
      if (it == channels_.end()) return;
      it->second.confirmed = true;
      backfill = !hub_.position(channel).first.empty();
    }
    return request_load(channel, backfill);
  }
  if (kind != "message") return;
  if (options_.tick) options_.tick->note_read();
  std::string_view in = str(r->element[2]);
  if (in.substr(0, 2) == "p|") {
    if (options_.on_presence) options_.on_presence(channel, in.substr(2));
    return;
  }
  std::string_view offset, epoch, ts, from, client_id, event, binary, payload;
  HistoryEntry e;
  if (!take_piece(in, offset) || !take_piece(in, epoch) || !take_piece(in, ts) || !take_piece(in, from) ||
      !take_piece(in, client_id) || !take_piece(in, event) || !take_piece(in, binary) || !take_piece(in, payload) ||
      !to_u64(offset, e.offset) || !to_u64(ts, e.ts_ms)) {
    Metrics::add(metrics_.broker_errors);
    return log(LogLevel::kWarn, "msg=\"malformed broker message\" channel=", log_quoted(channel));
  }
  e.from = std::string(from);
  e.client_id = std::string(client_id);
  e.event = std::string(event);
  e.payload = std::string(payload);
  e.binary = binary == "1";
  if (hub_.apply_remote(channel, epoch, std::move(e)) == Hub::RemoteApply::kGap) request_load(channel, true);
}

void RedisBroker::request_load(const std::string& channel, bool backfill) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto it = channels_.find(channel);
    if (it == channels_.end()) return;  // released meanwhile
    if (it->second.loading) {
      it->second.reload = true;
      return;
    }
    it->second.loading = true;
  }
  if (backfill) Metrics::add(metrics_.broker_backfills);
  load(channel);
}

void RedisBroker::load(const std::string& channel) {
  const auto [epoch, last] = hub_.position(channel);
  const auto start = std::chrono::steady_clock::now();
  const bool sent = commands_.command(
      {"EVALSHA", load_sha(), "2", key(channel, ":meta"), key(channel, ":s"), make_epoch(), epoch,
       std::to_string(last)},
      [this, channel, start](const redisReply* r) {
        record_round_trip(start);
        on_loaded(channel, r);
      });
  if (!sent) settle(channel, false);
}

void RedisBroker::on_loaded(const std::string& channel, const redisReply* r) {
  if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 3 || r->element[1]->type != REDIS_REPLY_INTEGER ||
      r->element[2]->type != REDIS_REPLY_ARRAY) {
    Metrics::add(metrics_.broker_errors);
    if (r && r->type == REDIS_REPLY_ERROR) {
      log(LogLevel::kWarn, "msg=\"broker read failed\" error=", log_quoted(std::string_view(r->str, r->len)));
      reload_scripts_if_flushed(r);
    }
    return settle(channel, false);
  }
  const std::string epoch(str(r->element[0]));
  const auto last = static_cast<std::uint64_t>(r->element[1]->integer);
  const redisReply* entries = r->element[2];
  std::vector<HistoryEntry> read(entries->elements);
  for (std::size_t i = 0; i < entries->elements; ++i)
    if (!parse_stream_entry(entries->element[i], read[i])) {
      Metrics::add(metrics_.broker_errors);
      return settle(channel, false);
    }
  // What the stream no longer holds is skipped (the history restarts after it); the rest is fanned out in order.
  const std::uint64_t resume_after = read.empty() ? last : read.front().offset - 1;
  const auto [had_epoch, had_last] = hub_.position(channel);
  if (had_epoch == epoch && had_last < resume_after) {
    // This node's subscribers already follow the stream live, and what they missed was trimmed before the node
    // could read it back: tell them, as a failed recovery would (PROTOCOL section 9), so the application
    // refetches. Queued before the entries after the hole.
    protocol::Subscribed gap;
    gap.channel = channel;
    gap.epoch = epoch;
    gap.offset = resume_after;
    gap.has_since = true;
    gap.recovered = false;
    gap.reason = wire::recovery::kWindowExceeded;
    std::string message;
    protocol::encode_subscribed(message, gap);
    hub_.send_raw(channel, std::make_shared<const std::string>(std::move(message)));
    Metrics::add(metrics_.broker_gaps);
    log(LogLevel::kWarn, "msg=\"broker gap: the stream no longer holds what this node missed\" channel=",
        log_quoted(channel), " from=", had_last + 1, " to=", resume_after);
  }
  hub_.reset_remote(channel, epoch, resume_after);
  for (HistoryEntry& e : read) hub_.apply_remote(channel, epoch, std::move(e));
  hub_.reset_remote(channel, epoch, last);
  settle(channel, true);
}

void RedisBroker::settle(const std::string& channel, bool ok) {
  std::vector<Resume> waiting;
  bool reload = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto it = channels_.find(channel);
    if (it == channels_.end()) return;
    ChannelState& state = it->second;
    state.loading = false;
    state.ready = ok;
    waiting = take_waiters(state);
    reload = ok && state.reload;
    state.reload = false;
  }
  // A reload leaves the copy ready: the resumed joins, which ask again, subscribe meanwhile.
  if (reload) request_load(channel, true);
  for (Resume& r : waiting) r(ok);
}

bool RedisBroker::join(std::string_view channel, const std::function<void()>& add, Resume resume) {
  if (!healthy() || stopped_) {
    resume(false);
    return false;
  }
  const std::string name(channel);
  bool subscribe = false;
  bool first = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ChannelState& state = channels_[name];
    if (state.ready && !hub_.position(name).first.empty()) {
      add();
      return true;
    }
    first = state.waiters.empty();
    state.waiters.push_back(std::move(resume));
    subscribe = !state.listening;
    state.listening = true;
  }
  // On the broker thread: at once when the caller is on it (--threads 1), else posted.
  net::dispatch(ioc_, [this, name, subscribe, first] {
    guard("broker join", [&] { start_join(name, subscribe, first); });
  });
  return false;
}

void RedisBroker::start_join(const std::string& channel, bool subscribe, bool first) {
  if (first) {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto it = channels_.find(channel);
    if (it == channels_.end() || it->second.waiters.empty()) return;  // answered meanwhile (a lost connection)
    ChannelState& state = it->second;
    if (!state.timeout) state.timeout = std::make_unique<net::steady_timer>(ioc_);
    state.timeout->expires_after(kJoinTimeout);
    state.timeout->async_wait([this, channel, round = state.round](const boost::system::error_code& ec) {
      if (!ec) guard("broker join timeout", [&] { on_join_timeout(channel, round); });
    });
  }
  if (stopped_) return;
  if (!subscribe) {
    // Listening already: the confirmation of the SUBSCRIBE, or the read in flight, resumes this join when it
    // ends; else (a failed read, a copy the hub dropped) read now.
    bool load = false;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      const auto it = channels_.find(channel);
      load = it != channels_.end() && it->second.confirmed && !it->second.loading;
    }
    return load ? request_load(channel, false) : void();
  }
  if (pubsub_.subscribe_command({"SUBSCRIBE", pubsub_name(channel)})) return;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (const auto it = channels_.find(channel); it != channels_.end()) it->second.listening = false;
  }
  settle(channel, false);
}

void RedisBroker::on_join_timeout(const std::string& channel, std::uint64_t round) {
  std::vector<Resume> waiting;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto it = channels_.find(channel);
    if (it == channels_.end() || it->second.round != round) return;
    waiting = take_waiters(it->second);
  }
  if (waiting.empty()) return;
  Metrics::add(metrics_.broker_errors);
  log(LogLevel::kWarn, "msg=\"broker join timed out\" channel=", log_quoted(channel));
  for (Resume& r : waiting) r(false);
}

void RedisBroker::release_idle() {
  std::vector<std::string> released;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto it = channels_.begin(); it != channels_.end();) {
      ChannelState& state = it->second;
      if (state.waiters.empty() && !state.loading && hub_.drop_if_idle(it->first)) {
        released.push_back(it->first);
        it = channels_.erase(it);
      } else {
        ++it;
      }
    }
  }
  if (released.empty()) return;
  net::post(ioc_, [this, released = std::move(released)] {
    guard("broker release", [&] {
      for (const std::string& channel : released) {
        std::lock_guard<std::mutex> lock(mutex_);
        if (channels_.find(channel) == channels_.end()) pubsub_.subscribe_command({"UNSUBSCRIBE", pubsub_name(channel)});
      }
    });
  });
}

void RedisBroker::publish(const PublishRequest& request, Done done) {
  std::vector<std::string> args{"EVALSHA",
                                publish_sha(),
                                "3",
                                key(request.channel, ":meta"),
                                key(request.channel, ":s"),
                                key(request.channel, ":d:" + std::string(request.from) + "\x1f" +
                                                         std::string(request.client_id)),
                                epochs_.next(),
                                std::to_string(options_.history.max_count),
                                std::to_string(options_.history.ttl_ms),
                                std::to_string(request.ts_ms),
                                std::string(request.from),
                                std::string(request.client_id),
                                std::string(request.event),
                                std::string(request.payload_json),
                                request.binary ? "1" : "0",
                                pubsub_name(request.channel)};
  // On the broker thread: at once when the caller is on it (--threads 1), else posted.
  net::dispatch(ioc_, [this, args = std::move(args), done = std::move(done)] {
    guard("broker publish", [&] {
      const auto start = std::chrono::steady_clock::now();
      auto reply = [this, start, done](const redisReply* r) {
        record_round_trip(start);
        if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 3 || r->element[0]->type != REDIS_REPLY_INTEGER) {
          Metrics::add(metrics_.broker_errors);
          if (r && r->type == REDIS_REPLY_ERROR) {
            log(LogLevel::kWarn, "msg=\"broker publish failed\" error=", log_quoted(std::string_view(r->str, r->len)));
            reload_scripts_if_flushed(r);
          }
          return done(PublishOutcome{0, false, wire::error::kUnavailable});
        }
        done(PublishOutcome{static_cast<std::uint64_t>(r->element[0]->integer), r->element[2]->integer == 1, {}});
      };
      if (stopped_ || !commands_up_ || !commands_.command(args, reply)) {
        Metrics::add(metrics_.broker_errors);
        done(PublishOutcome{0, false, wire::error::kUnavailable});
      }
    });
  });
}

}  // namespace tidewire::server
