#include "server/presence_store_redis.hpp"
#include "server/redis_script_sha.hpp"

#include <hiredis/hiredis.h>

#include <boost/asio/post.hpp>

#include <algorithm>
#include <cstdio>
#include <future>
#include <memory>

#include "server/guard.hpp"
#include "server/log.hpp"
#include "server/random_id.hpp"
#include "server/run_loop.hpp"

namespace tidewire::server {

namespace net = boost::asio;
using nlohmann::json;

namespace {

// Every script starts here: Redis's clock (one clock for every node), in ms.
constexpr const char* kNow = R"lua(
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
)lua";

// The presence scripts: KEYS[1] the members hash, KEYS[2] the expiry sorted set; ARGV[1] the PUB/SUB channel.
// diff() publishes one change; purge() removes the node tags whose expiry passed and the users only they held.
const std::string kPresencePrelude = std::string(kNow) + R"lua(
local function piece(s) s = tostring(s) return #s .. ':' .. s end
local function total(m) local c = 0 for _, v in pairs(m.n) do c = c + v end return c end
local function diff(kind, user, m)
  redis.call('PUBLISH', ARGV[1], 'p|' .. piece(kind) .. piece(user) .. piece(m.s) .. piece(m.i) .. piece(m.j) ..
             piece(total(m)))
end
local function purge()
  local dead = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)
  if #dead == 0 then return end
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
  local gone = {}
  for _, tag in ipairs(dead) do gone[tag] = true end
  local all = redis.call('HGETALL', KEYS[1])
  for i = 1, #all, 2 do
    local m = cjson.decode(all[i + 1])
    local changed, alive = false, false
    for tag in pairs(m.n) do
      if gone[tag] then m.n[tag] = nil changed = true else alive = true end
    end
    if changed and alive then
      redis.call('HSET', KEYS[1], all[i], cjson.encode(m))
      diff('count', all[i], m)
    end
    if changed and not alive then
      redis.call('HDEL', KEYS[1], all[i])
      diff('leave', all[i], m)
    end
  end
end
)lua";

// ARGV: 2 user, 3 node tag, 4 its connections, 5 status ('' keep), 6 info JSON ('' keep), 7 expiry ms (TTL +
// grace).
const std::string kJoinScript = kPresencePrelude + R"lua(
local ttl = tonumber(ARGV[7])
redis.call('ZADD', KEYS[2], now + ttl, ARGV[3])
purge()
local raw = redis.call('HGET', KEYS[1], ARGV[2])
local m, kind
if raw then
  m = cjson.decode(raw)
  if ARGV[5] ~= '' and ARGV[5] ~= m.s then m.s = ARGV[5] kind = 'update' end
  if ARGV[6] ~= '' and ARGV[6] ~= m.i then m.i = ARGV[6] kind = 'update' end
else
  m = {s = 'online', i = '{}', j = tostring(now), n = {}}
  if ARGV[5] ~= '' then m.s = ARGV[5] end
  if ARGV[6] ~= '' then m.i = ARGV[6] end
  kind = 'join'
end
local before = total(m)
m.n[ARGV[3]] = tonumber(ARGV[4])
if not kind and total(m) ~= before then kind = 'count' end
redis.call('HSET', KEYS[1], ARGV[2], cjson.encode(m))
redis.call('PEXPIRE', KEYS[1], 2 * ttl)
redis.call('PEXPIRE', KEYS[2], 2 * ttl)
if kind then diff(kind, ARGV[2], m) end
return 0
)lua";

// ARGV: 2 user, 3 node tag. The user leaves when no other node holds it.
const std::string kLeaveScript = kPresencePrelude + R"lua(
purge()
local raw = redis.call('HGET', KEYS[1], ARGV[2])
if not raw then return 0 end
local m = cjson.decode(raw)
if m.n[ARGV[3]] == nil then return 0 end
m.n[ARGV[3]] = nil
if next(m.n) == nil then
  redis.call('HDEL', KEYS[1], ARGV[2])
  diff('leave', ARGV[2], m)
  return 1
end
redis.call('HSET', KEYS[1], ARGV[2], cjson.encode(m))
diff('count', ARGV[2], m)
return 0
)lua";

// ARGV: 2 node tag ('' = purge only), 3 expiry ms.
const std::string kRefreshScript = kPresencePrelude + R"lua(
if ARGV[2] ~= '' then
  local ttl = tonumber(ARGV[3])
  redis.call('ZADD', KEYS[2], now + ttl, ARGV[2])
  redis.call('PEXPIRE', KEYS[1], 2 * ttl)
  redis.call('PEXPIRE', KEYS[2], 2 * ttl)
end
purge()
return 0
)lua";

// After Redis came back (or a write failed): this node's entries of the channel become exactly its members.
// ARGV: 2 node tag, 3 expiry ms, then per member: user, connections, status, info. A missing member is created
// (join); a user this node no longer holds loses this node's entry (leave, if it was the last).
const std::string kSyncScript = kPresencePrelude + R"lua(
local ttl = tonumber(ARGV[3])
redis.call('ZADD', KEYS[2], now + ttl, ARGV[2])
purge()
local mine = {}
for k = 4, #ARGV - 3, 4 do
  local user = ARGV[k]
  mine[user] = true
  local raw = redis.call('HGET', KEYS[1], user)
  local m
  if raw then m = cjson.decode(raw) else m = {s = ARGV[k + 2], i = ARGV[k + 3], j = tostring(now), n = {}} end
  m.n[ARGV[2]] = tonumber(ARGV[k + 1])
  redis.call('HSET', KEYS[1], user, cjson.encode(m))
  if raw then diff('count', user, m) else diff('join', user, m) end
end
local all = redis.call('HGETALL', KEYS[1])
for k = 1, #all, 2 do
  if not mine[all[k]] then
    local m = cjson.decode(all[k + 1])
    if m.n[ARGV[2]] ~= nil then
      m.n[ARGV[2]] = nil
      if next(m.n) == nil then
        redis.call('HDEL', KEYS[1], all[k])
        diff('leave', all[k], m)
      else
        redis.call('HSET', KEYS[1], all[k], cjson.encode(m))
        diff('count', all[k], m)
      end
    end
  end
end
redis.call('PEXPIRE', KEYS[1], 2 * ttl)
redis.call('PEXPIRE', KEYS[2], 2 * ttl)
return 0
)lua";

const std::string kMembersScript = kPresencePrelude + R"lua(
purge()
return redis.call('HGETALL', KEYS[1])
)lua";

// The connection cap. KEYS[1] tw:u:{user}:c. ARGV: 1 entry, 2 max, 3 TTL ms. 1: counted, 0: at the maximum.
const std::string kAcquireScript = std::string(kNow) + R"lua(
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZSCORE', KEYS[1], ARGV[1]) == false and redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  return 0
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
)lua";

// ARGV: 1 TTL ms, 2... this node's entries of the user.
const std::string kCapRefreshScript = std::string(kNow) + R"lua(
local args = {}
for i = 2, #ARGV do
  args[#args + 1] = now + tonumber(ARGV[1])
  args[#args + 1] = ARGV[i]
end
redis.call('ZADD', KEYS[1], unpack(args))
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 0
)lua";


struct Script {
  const std::string& text;
  std::string sha;
};
Script& join_script() { static Script s{kJoinScript, redis_script_sha(kJoinScript)}; return s; }
Script& leave_script() { static Script s{kLeaveScript, redis_script_sha(kLeaveScript)}; return s; }
Script& refresh_script() { static Script s{kRefreshScript, redis_script_sha(kRefreshScript)}; return s; }
Script& sync_script() { static Script s{kSyncScript, redis_script_sha(kSyncScript)}; return s; }
Script& members_script() { static Script s{kMembersScript, redis_script_sha(kMembersScript)}; return s; }
Script& acquire_script() { static Script s{kAcquireScript, redis_script_sha(kAcquireScript)}; return s; }
Script& cap_refresh_script() { static Script s{kCapRefreshScript, redis_script_sha(kCapRefreshScript)}; return s; }

std::string channel_key(std::string_view channel, std::string_view suffix) {
  return "tw:{" + std::string(channel) + "}" + std::string(suffix);
}
std::string cap_key(std::string_view user) { return "tw:u:{" + std::string(user) + "}:c"; }

// EVALSHA of a presence script on `channel`, then its other arguments.
std::vector<std::string> presence_call(const Script& script, std::string_view channel) {
  return {"EVALSHA", script.sha, "2", channel_key(channel, ":p"), channel_key(channel, ":pz"), channel_key(channel, "")};
}

std::string_view str(const redisReply* r) {
  return r && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS) ? std::string_view(r->str, r->len)
                                                                              : std::string_view();
}

// Reads one "len:bytes" piece off the front of `in` (the format of the broker's messages).
bool take_piece(std::string_view& in, std::string_view& out) {
  const auto colon = in.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon > 10) return false;
  std::size_t n = 0;
  for (char c : in.substr(0, colon)) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + static_cast<std::size_t>(c - '0');
  }
  if (in.size() - colon - 1 < n) return false;
  out = in.substr(colon + 1, n);
  in.remove_prefix(colon + 1 + n);
  return true;
}

std::uint64_t to_u64(std::string_view s) {
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') break;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return v;
}

// {userId, status, info, joinedAt, connections} from the stored fields; null when malformed.
json member_json(std::string_view user, std::string_view status, std::string_view info, std::uint64_t joined_at,
                 std::uint64_t connections) {
  json i = json::parse(info, nullptr, false);
  if (i.is_discarded() || !i.is_object()) return json();
  return json{{"userId", user}, {"status", status}, {"info", std::move(i)}, {"joinedAt", joined_at},
              {"connections", connections}};
}

// HGETALL of the members hash -> the members array, ordered by user id (a hash field is a user id; std::map).
json parse_members(const redisReply* r) {
  if (!r || r->type != REDIS_REPLY_ARRAY) return json();
  std::map<std::string, json> by_user;
  for (std::size_t k = 0; k + 1 < r->elements; k += 2) {
    const std::string user(str(r->element[k]));
    const json m = json::parse(str(r->element[k + 1]), nullptr, false);
    if (m.is_discarded() || !m.is_object()) continue;
    const auto s = m.find("s"), i = m.find("i"), j = m.find("j"), n = m.find("n");
    if (s == m.end() || !s->is_string() || i == m.end() || !i->is_string() || j == m.end() || !j->is_string())
      continue;
    std::uint64_t connections = 0;
    if (n != m.end() && n->is_object())
      for (const auto& c : n->items())
        if (c.value().is_number_unsigned()) connections += c.value().get<std::uint64_t>();
    json member = member_json(user, s->get<std::string>(), i->get<std::string>(), to_u64(j->get<std::string>()),
                              connections);
    if (!member.is_null()) by_user.emplace(user, std::move(member));
  }
  json out = json::array();
  for (auto& [user, member] : by_user) out.push_back(std::move(member));
  return out;
}

long long parse_integer(const redisReply* r) { return r && r->type == REDIS_REPLY_INTEGER ? r->integer : -1; }

}  // namespace

RedisPresenceStore::RedisPresenceStore(Hub& hub, RedisPresenceOptions options, Metrics& metrics)
    : hub_(hub),
      options_(std::move(options)),
      metrics_(metrics),
      tag_(options_.node_id + "." + make_epoch().substr(2, 8)),
      expiry_ms_(std::to_string(options_.node_ttl_ms + options_.grace_ms)),
      local_(options_.grace_ms),
      work_(net::make_work_guard(ioc_)),
      redis_(ioc_, options_.address),
      refresh_timer_(ioc_) {
  redis_.set_handlers([this] { on_up(); }, [this] { up_ = false; }, nullptr);
  thread_ = std::thread([this] {
    redis_.start();
    schedule_refresh();
    run_loop(ioc_);
  });
}

RedisPresenceStore::~RedisPresenceStore() {
  net::post(ioc_, [this] {
    refresh_timer_.cancel();
    redis_.stop();
    work_.reset();
  });
  thread_.join();
}

void RedisPresenceStore::load_scripts() const {
  // Loaded before any later EVALSHA of this connection (Redis runs a connection's commands in order).
  const Script* scripts[] = {&join_script(),    &leave_script(),   &refresh_script(),     &sync_script(),
                             &members_script(), &acquire_script(), &cap_refresh_script()};
  for (const Script* s : scripts) redis_.command({"SCRIPT", "LOAD", s->text}, [](const redisReply*) {});
}

void RedisPresenceStore::on_failure(const redisReply* r) const {
  Metrics::add(metrics_.presence_errors);
  if (r && r->type == REDIS_REPLY_ERROR) {
    const std::string_view error(r->str, r->len);
    log(LogLevel::kWarn, "msg=\"presence call failed\" error=", log_quoted(error));
    // SCRIPT FLUSH, or a failover to a server that never saw them: load them again, once per burst of errors.
    if (error.substr(0, 8) == "NOSCRIPT" && !reloading_) {
      reloading_ = true;
      load_scripts();
      redis_.command({"PING"}, [this](const redisReply*) { reloading_ = false; });
    }
  }
  std::lock_guard<std::mutex> lock(mutex_);
  resync_ = true;  // Redis may now differ from this node: the next refresh puts it right
}

void RedisPresenceStore::on_up() {
  redis_.command({"CLIENT", "SETNAME", "tidewire:" + options_.node_id + ":presence"}, [](const redisReply*) {});
  reloading_ = false;
  load_scripts();
  redis_.command({"PING"}, [this](const redisReply* r) {
    up_ = r && r->type != REDIS_REPLY_ERROR;
    if (!up_) return;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      resync_ = true;  // what changed while Redis was away (or all of it, if Redis lost its data)
    }
    refresh();
  });
}

void RedisPresenceStore::send(std::vector<std::string> args) {
  net::post(ioc_, [this, args = std::move(args)] {
    guard("presence write", [&] {
      const bool sent = up_ && redis_.command(args, [this](const redisReply* r) {
        if (!r || r->type == REDIS_REPLY_ERROR) on_failure(r);
      });
      if (!sent) on_failure(nullptr);
    });
  });
}

template <typename T>
void RedisPresenceStore::ask_async(std::vector<std::string> args, T (*parse)(const redisReply*),
                                   std::function<void(std::optional<T>)> done) const {
  if (!up_) return done(std::nullopt);
  // Posted like the writes, so Redis runs it after what this node asked before (one connection keeps order).
  net::post(ioc_, [this, args = std::move(args), parse, done = std::move(done)]() mutable {
    guard("presence read", [&] {
      // Answered once: by the reply, or with nullopt after kReadTimeout (a connected Redis that does not answer),
      // or when the command cannot be sent. Everything here runs on the store's thread.
      struct Pending {
        std::function<void(std::optional<T>)> done;
        net::steady_timer timer;
        void answer(std::optional<T> read) {
          if (!done) return;
          auto fn = std::move(done);
          done = nullptr;
          timer.cancel();
          guard("presence reply", [&] { fn(std::move(read)); });
        }
      };
      auto pending = std::make_shared<Pending>(Pending{std::move(done), net::steady_timer(ioc_, kReadTimeout)});
      const bool sent = up_ && redis_.command(args, [this, parse, pending](const redisReply* r) {
        if (r && r->type == REDIS_REPLY_ERROR) on_failure(r);
        std::optional<T> read;
        if (r && r->type != REDIS_REPLY_ERROR) read = parse(r);
        pending->answer(std::move(read));
      });
      if (!sent) return pending->answer(std::nullopt);
      pending->timer.async_wait([this, pending](const boost::system::error_code& ec) {
        if (ec || !pending->done) return;
        Metrics::add(metrics_.presence_errors);
        log(LogLevel::kWarn, "msg=\"presence read timed out\" after_ms=",
            std::chrono::duration_cast<std::chrono::milliseconds>(kReadTimeout).count());
        pending->answer(std::nullopt);
      });
    });
  });
}

template <typename T>
std::optional<T> RedisPresenceStore::ask(std::vector<std::string> args, T (*parse)(const redisReply*)) const {
  auto result = std::make_shared<std::promise<std::optional<T>>>();
  std::future<std::optional<T>> ready = result->get_future();
  ask_async<T>(std::move(args), parse, [result](std::optional<T> read) { result->set_value(std::move(read)); });
  if (ready.wait_for(kReadTimeout) != std::future_status::ready) return std::nullopt;
  return ready.get();
}

void RedisPresenceStore::write_member(std::string_view channel, const std::string& user, const std::string* status,
                                      const json* info) {
  std::vector<std::string> args = presence_call(join_script(), channel);
  args.insert(args.end(), {user, tag_, std::to_string(local_.connection_count(channel, user)),
                           status ? *status : std::string(),
                           info ? info->dump(-1, ' ', false, json::error_handler_t::replace) : std::string(),
                           expiry_ms_});
  send(std::move(args));
}

void RedisPresenceStore::remove_member(std::string_view channel, const std::string& user) {
  std::vector<std::string> args = presence_call(leave_script(), channel);
  args.insert(args.end(), {user, tag_});
  send(std::move(args));
}

PresenceDiff RedisPresenceStore::join(std::string_view channel, std::string_view user, std::string_view connection,
                                      const std::string* status, const json* info, std::uint64_t now) {
  std::lock_guard<std::mutex> lock(mutex_);
  local_.join(channel, user, connection, status, info, now);
  write_member(channel, std::string(user), status, info);
  PresenceDiff none;
  none.channel = std::string(channel);
  return none;
}

bool RedisPresenceStore::update(std::string_view channel, std::string_view connection, const std::string* status,
                                const json* info, PresenceDiff& diff) {
  std::lock_guard<std::mutex> lock(mutex_);
  PresenceDiff local;
  if (!local_.update(channel, connection, status, info, local)) return false;
  diff.channel = std::string(channel);
  write_member(channel, local_.user_of(channel, connection), status, info);
  return true;
}

void RedisPresenceStore::leave_locked(std::string_view channel, std::string_view connection, std::uint64_t now) {
  const std::string user = local_.user_of(channel, connection);
  if (user.empty()) return;
  const PresenceDiff d = local_.leave(channel, connection, now);
  // Grace 0: gone at once. Else the entry stays (with this node's new count, maybe 0) until expire().
  if (!d.leaves.empty()) return remove_member(channel, user);
  write_member(channel, user, nullptr, nullptr);
}

PresenceDiff RedisPresenceStore::leave(std::string_view channel, std::string_view connection, std::uint64_t now) {
  std::lock_guard<std::mutex> lock(mutex_);
  leave_locked(channel, connection, now);
  PresenceDiff none;
  none.channel = std::string(channel);
  return none;
}

std::vector<PresenceDiff> RedisPresenceStore::leave_all(std::string_view connection, std::uint64_t now) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (const std::string& channel : local_.channels_of(connection)) leave_locked(channel, connection, now);
  return {};
}

std::vector<PresenceDiff> RedisPresenceStore::expire(std::uint64_t now) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (const PresenceDiff& d : local_.expire(now))
    for (const std::string& user : d.leaves) remove_member(d.channel, user);
  return {};
}

std::uint64_t RedisPresenceStore::next_deadline() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return local_.next_deadline();
}

bool RedisPresenceStore::has_joined(std::string_view channel, std::string_view connection) const {
  std::lock_guard<std::mutex> lock(mutex_);
  return local_.has_joined(channel, connection);
}

std::optional<json> RedisPresenceStore::accept_members(std::string_view channel, std::optional<json> read) const {
  if (!read || !read->is_array()) {
    Metrics::add(metrics_.presence_errors);
    return std::nullopt;
  }
  if (!read->empty()) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (watched_.find(channel) == watched_.end()) watched_.emplace(channel);
  }
  return read;
}

json RedisPresenceStore::own_members(std::string_view channel) const {
  std::lock_guard<std::mutex> lock(mutex_);
  return local_.members(channel);
}

std::optional<json> RedisPresenceStore::read_members(std::string_view channel) const {
  return accept_members(channel, ask<json>(presence_call(members_script(), channel), &parse_members));
}

void RedisPresenceStore::members_async(std::string_view channel, std::function<void(json)> done) const {
  ask_async<json>(presence_call(members_script(), channel), &parse_members,
                  [this, channel = std::string(channel), done = std::move(done)](std::optional<json> read) {
                    std::optional<json> members = accept_members(channel, std::move(read));
                    done(members ? std::move(*members) : own_members(channel));
                  });
}

json RedisPresenceStore::members(std::string_view channel) const {
  if (std::optional<json> read = read_members(channel)) return std::move(*read);
  return own_members(channel);
}

namespace {

void apply_diff(std::map<std::string, json, std::less<>>& members, const PresenceDiff& d) {
  for (const json& m : d.joins) members[m.value("userId", "")] = m;
  for (const json& m : d.updates) members[m.value("userId", "")] = m;
  for (const std::string& user : d.leaves) members.erase(user);
}

json as_array(const std::map<std::string, json, std::less<>>& members) {
  json out = json::array();
  for (const auto& [user, m] : members) out.push_back(m);
  return out;
}

}  // namespace

void RedisPresenceStore::subscriber_state(std::string_view channel, std::function<void(json)> done) const {
  std::uint64_t generation = 0;
  {
    std::unique_lock<std::mutex> lock(mutex_);
    auto it = copies_.find(channel);
    if (it != copies_.end() && it->second.ready) {
      json members = as_array(it->second.members);
      lock.unlock();
      return done(std::move(members));
    }
    if (it == copies_.end()) {
      it = copies_.emplace(std::string(channel), Copy{}).first;
      it->second.generation = ++generations_;
    }
    generation = it->second.generation;
  }
  // The copy's first read (or a read racing it): on the store's thread, never waiting here.
  ask_async<json>(presence_call(members_script(), channel), &parse_members,
                  [this, channel = std::string(channel), generation, done = std::move(done)](std::optional<json> read) {
                    done(settle_copy(channel, generation, accept_members(channel, std::move(read))));
                  });
}

json RedisPresenceStore::settle_copy(const std::string& channel, std::uint64_t generation,
                                     std::optional<json> read) const {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto it = copies_.find(channel);
  const bool mine = it != copies_.end() && it->second.generation == generation && !it->second.ready;
  if (!read) {
    if (mine) copies_.erase(it);
    return local_.members(channel);  // Redis unreachable: this node's own members
  }
  if (!mine) return std::move(*read);  // dropped (or loaded by another caller) meanwhile: this read stands alone
  Copy& copy = it->second;
  for (const json& m : *read) copy.members[m.value("userId", "")] = m;
  for (const PresenceDiff& d : copy.pending) apply_diff(copy.members, d);
  copy.pending.clear();
  copy.ready = true;
  return as_array(copy.members);
}

void RedisPresenceStore::drop_copy(const std::string& channel) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (channel.empty()) copies_.clear();
  else copies_.erase(channel);
}

std::string RedisPresenceStore::on_message(const std::string& channel, std::string_view message) {
  PresenceDiff d;
  bool silent = false;
  if (!parse_message(channel, message, d, silent)) {
    Metrics::add(metrics_.presence_errors);
    return {};
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (watched_.find(channel) == watched_.end()) watched_.emplace(channel);
    if (const auto it = copies_.find(channel); it != copies_.end()) {
      if (it->second.ready) apply_diff(it->second.members, d);
      else it->second.pending.push_back(d);
    }
  }
  // A change of connection count only: clients see it in the next state or diff (as on one node).
  if (silent) return {};
  return d.to_message().dump(-1, ' ', false, json::error_handler_t::replace);
}

void RedisPresenceStore::try_acquire(std::string_view user, std::string_view connection,
                                     std::function<void(bool)> done) {
  if (options_.max_connections_per_user == 0) return done(true);
  std::string entry = tag_ + "|" + std::string(connection);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    pending_caps_[std::string(user)].insert(entry);
  }
  ask_async<long long>({"EVALSHA", acquire_script().sha, "1", cap_key(user), entry,
                        std::to_string(options_.max_connections_per_user), std::to_string(options_.node_ttl_ms)},
                       &parse_integer,
                       [this, user = std::string(user), entry, done = std::move(done)](std::optional<long long> r) {
                         const bool admitted = !(r && *r == 0);
                         if (admitted && (!r || *r != 1)) Metrics::add(metrics_.presence_errors);  // fail open
                         bool released = false;
                         {
                           std::lock_guard<std::mutex> lock(mutex_);
                           const auto it = pending_caps_.find(user);
                           released = it == pending_caps_.end() || it->second.erase(entry) == 0;
                           if (it != pending_caps_.end() && it->second.empty()) pending_caps_.erase(it);
                           if (admitted && !released) caps_[user].insert(entry);
                         }
                         // The connection closed meanwhile: take back what the script counted.
                         if (admitted && released) send({"ZREM", cap_key(user), entry});
                         done(admitted);
                       });
}

void RedisPresenceStore::release(std::string_view user, std::string_view connection) {
  if (options_.max_connections_per_user == 0) return;
  const std::string entry = tag_ + "|" + std::string(connection);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (const auto p = pending_caps_.find(user); p != pending_caps_.end() && p->second.erase(entry) != 0) {
      if (p->second.empty()) pending_caps_.erase(p);
      return;  // try_acquire's answer sees it gone and removes what the script added
    }
    const auto it = caps_.find(user);
    if (it == caps_.end() || it->second.erase(entry) == 0) return;
    if (it->second.empty()) caps_.erase(it);
  }
  // Posted after the removal: a refresh that still saw the entry was posted before, so this ZREM runs after it.
  send({"ZREM", cap_key(user), entry});
}

void RedisPresenceStore::schedule_refresh() {
  refresh_timer_.expires_after(std::chrono::milliseconds(std::max<std::uint64_t>(options_.node_ttl_ms / 4, 10)));
  refresh_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    guard("presence refresh", [this] { refresh(); });
    schedule_refresh();
  });
}

void RedisPresenceStore::refresh() {
  if (!up_) return;
  std::vector<std::vector<std::string>> calls;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    calls.push_back({"SET", "tw:node:{" + tag_ + "}", options_.node_id, "PX", std::to_string(options_.node_ttl_ms)});
    const std::vector<std::string> mine = local_.channels();
    for (const std::string& channel : mine) {
      if (resync_) {
        // Redis was away, lost everything, or refused a write: this node's entries become its members again.
        std::vector<std::string> args = presence_call(sync_script(), channel);
        args.insert(args.end(), {tag_, expiry_ms_});
        for (const json& m : local_.members(channel)) {
          const std::string user = m.value("userId", "");
          args.insert(args.end(), {user, std::to_string(local_.connection_count(channel, user)),
                                   m.value("status", "online"),
                                   m.value("info", json::object()).dump(-1, ' ', false, json::error_handler_t::replace)});
        }
        calls.push_back(std::move(args));
        continue;
      }
      std::vector<std::string> args = presence_call(refresh_script(), channel);
      args.insert(args.end(), {tag_, expiry_ms_});
      calls.push_back(std::move(args));
    }
    resync_ = false;
    // Channels with subscribers here but no member of this node: only the purge (a dead node's users leave).
    for (auto it = watched_.begin(); it != watched_.end();) {
      if (hub_.subscriber_count(*it) == 0) {
        it = watched_.erase(it);
        continue;
      }
      if (!std::binary_search(mine.begin(), mine.end(), *it)) {
        std::vector<std::string> args = presence_call(refresh_script(), *it);
        args.insert(args.end(), {"", expiry_ms_});
        calls.push_back(std::move(args));
      }
      ++it;
    }
    for (auto it = copies_.begin(); it != copies_.end();) {
      if (it->second.ready && hub_.subscriber_count(it->first) == 0) it = copies_.erase(it);
      else ++it;
    }
    for (const auto& [user, entries] : caps_) {
      std::vector<std::string> args{"EVALSHA", cap_refresh_script().sha, "1", cap_key(user),
                                    std::to_string(options_.node_ttl_ms)};
      args.insert(args.end(), entries.begin(), entries.end());
      calls.push_back(std::move(args));
    }
  }
  for (const auto& args : calls)
    redis_.command(args, [this](const redisReply* r) {
      if (!r || r->type == REDIS_REPLY_ERROR) on_failure(r);
    });
}

bool RedisPresenceStore::parse_message(const std::string& channel, std::string_view message, PresenceDiff& d,
                                       bool& silent) {
  silent = false;
  std::string_view kind, user, status, info, joined_at, connections;
  if (!take_piece(message, kind) || !take_piece(message, user) || !take_piece(message, status) ||
      !take_piece(message, info) || !take_piece(message, joined_at) || !take_piece(message, connections))
    return false;
  d.channel = channel;
  if (kind == "leave") {
    d.leaves.emplace_back(user);
    return true;
  }
  json m = member_json(user, status, info, to_u64(joined_at), to_u64(connections));
  if (m.is_null()) return false;
  if (kind == "join") d.joins.push_back(std::move(m));
  else if (kind == "update") d.updates.push_back(std::move(m));
  else if (kind == "count") d.updates.push_back(std::move(m)), silent = true;  // for the copies only
  else return false;
  return true;
}

}  // namespace tidewire::server
