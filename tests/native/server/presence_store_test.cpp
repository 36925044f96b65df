// The PresenceStore seam (issue #15): the memory store's bookkeeping that RedisPresenceStore builds on
// (PresenceRegistry's per-connection accessors), Services on an injected store, the message handler's shared
// connection cap (refusal closes 4005 and frees the local slot; a close releases the same entry), and the
// --node-ttl-ms / --presence-grace-ms flags. The Redis store itself runs against a real Redis in
// tests/node/scale-out-presence.test.mjs.
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <random>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "server/config.hpp"
#include "server/jwt_signer.hpp"
#include "server/message_handler.hpp"
#include "server/presence_registry.hpp"
#include "server/presence_store_redis.hpp"
#include "service_fakes.hpp"

namespace tidewire::server {
namespace {

using nlohmann::json;

TEST(PresenceRegistryBookkeeping, CountsConnectionsPerUserAndKeepsTheMemberThroughTheGrace) {
  PresenceRegistry r(1000);
  EXPECT_TRUE(r.join("room:a", "ann", "c1", nullptr, nullptr, 10).joins.size() == 1);
  EXPECT_TRUE(r.join("room:a", "ann", "c2", nullptr, nullptr, 20).empty());
  r.join("room:b", "ann", "c1", nullptr, nullptr, 20);
  EXPECT_EQ(r.user_of("room:a", "c2"), "ann");
  EXPECT_EQ(r.user_of("room:a", "c9"), "");
  EXPECT_EQ(r.connection_count("room:a", "ann"), 2u);
  EXPECT_EQ(r.channels_of("c1"), (std::vector<std::string>{"room:a", "room:b"}));
  EXPECT_EQ(r.channels(), (std::vector<std::string>{"room:a", "room:b"}));

  EXPECT_TRUE(r.leave("room:a", "c1", 30).empty());
  EXPECT_EQ(r.connection_count("room:a", "ann"), 1u);
  EXPECT_TRUE(r.leave("room:a", "c2", 40).empty());  // the last one: the grace starts
  EXPECT_EQ(r.connection_count("room:a", "ann"), 0u);
  EXPECT_EQ(r.channels(), (std::vector<std::string>{"room:a", "room:b"}));  // still listed in its grace
  EXPECT_EQ(r.next_deadline(), 1040u);
  const auto gone = r.expire(1040);
  ASSERT_EQ(gone.size(), 1u);
  EXPECT_EQ(gone[0].leaves, (std::vector<std::string>{"ann"}));
  EXPECT_EQ(r.channels(), (std::vector<std::string>{"room:b"}));
  EXPECT_TRUE(r.channels_of("c2").empty());
}

TEST(PresenceStoreSeam, ServicesUseTheInjectedStore) {
  auto store = std::make_shared<PresenceRegistry>(0);
  ServicesConfig config;
  config.presence_store = store;
  testing::Harness h(config);
  testing::FakeContext ann("ann", "c-ann");
  ann.state.channels.insert("room:x");
  h.ok(ann, json{{"type", "presence_join"}, {"channel", "room:x"}});
  EXPECT_TRUE(store->has_joined("room:x", "c-ann"));
  EXPECT_EQ(h.out.take_raw().size(), 1u);  // the memory store's diff is broadcast by Services
  h.services.on_disconnect("ann", "c-ann");
  EXPECT_FALSE(store->has_joined("room:x", "c-ann"));
  const auto raw = h.out.take_raw();
  ASSERT_EQ(raw.size(), 1u);
  EXPECT_EQ(raw[0].second["leaves"], json::array({json{{"userId", "ann"}}}));
}

// Records what the handler asks; refuses while `full`. Answers at once, or, with `later`, when answer() is called
// (as Redis does, from another thread; the fake session's post() runs inline).
class FakeSharedCap : public SharedConnectionCap {
 public:
  void try_acquire(std::string_view user, std::string_view connection, std::function<void(bool)> done) override {
    const std::string key = std::string(user) + "/" + std::string(connection);
    if (later) {
      waiting.emplace_back(key, std::move(done));
      return;
    }
    if (!full) held.insert(key);
    done(!full);
  }
  void release(std::string_view user, std::string_view connection) override {
    released.push_back(std::string(user) + "/" + std::string(connection));
    held.erase(std::string(user) + "/" + std::string(connection));
  }
  // Answers the oldest waiting acquire.
  void answer(bool admitted) {
    auto [key, done] = std::move(waiting.front());
    waiting.erase(waiting.begin());
    if (admitted) held.insert(key);
    done(admitted);
  }
  bool full = false;
  bool later = false;
  std::vector<std::pair<std::string, std::function<void(bool)>>> waiting;
  std::set<std::string> held;
  std::vector<std::string> released;
};

struct CapFixture {
  const std::string secret = "secret";
  std::uint64_t now = 1'700'000'000'000;
  Hub hub;
  JwtVerifier verifier{secret};
  HandlerLimits limits = [] {
    HandlerLimits l;
    l.max_connections_per_user = 5;
    return l;
  }();
  MessageHandler handler{hub, verifier, limits, [this] { return now; }};
  FakeSharedCap cap;
  CapFixture() { handler.set_shared_connection_cap(&cap); }
  std::string auth(const std::string& user) const {
    return json{{"type", "auth"}, {"token", sign_hs256(secret, {{"sub", user}, {"exp", now / 1000 + 60}})}}.dump();
  }
  testing::FakeConnection connect(const std::string& id, const std::string& frame) {
    testing::FakeConnection c;
    c.state.connection_id = id;
    handler.on_open(c.state, *c.sink, static_cast<const JwtClaims*>(nullptr));
    handler.on_text(c.state, *c.sink, frame);
    return c;
  }
};

TEST(SharedConnectionCapHook, ARefusalAcrossNodesClosesWith4005AndFreesTheLocalSlot) {
  CapFixture f;
  testing::FakeConnection a = f.connect("c-1", f.auth("ann"));
  EXPECT_FALSE(a.sink->closed);
  EXPECT_EQ(f.cap.held, (std::set<std::string>{"ann/c-1"}));
  f.cap.full = true;  // the other nodes hold the rest
  testing::FakeConnection b = f.connect("c-2", f.auth("ann"));
  ASSERT_TRUE(b.sink->closed);
  EXPECT_EQ(b.sink->closed->first, 4005);
  EXPECT_EQ(f.handler.user_connections().count("ann"), 1u);  // the refused one holds no local slot
  f.handler.on_close(b.state, *b.sink);
  EXPECT_TRUE(f.cap.released.empty());  // nothing to release for a refused connection
  f.handler.on_close(a.state, *a.sink);
  EXPECT_EQ(f.cap.released, (std::vector<std::string>{"ann/c-1"}));
  EXPECT_EQ(f.handler.user_connections().count("ann"), 0u);
}

// The check across nodes takes a Redis round trip: the connection's thread does not wait for it, and what the
// client sends meanwhile (after `auth`, in the same frame or later ones, text or binary) runs after auth_success,
// in order.
TEST(SharedConnectionCapHook, MessagesSentWhileTheCapIsCheckedRunAfterAuthSuccessInOrder) {
  CapFixture f;
  f.cap.later = true;
  testing::FakeConnection c = f.connect("c-1", f.auth("ann") + "\n" +
                                                   json{{"type", "ping"}, {"ref", "p1"}}.dump());
  f.handler.on_text(c.state, *c.sink, json{{"type", "subscribe"}, {"channel", "room:a"}, {"ref", "s1"}}.dump());
  f.handler.on_binary(c.state, *c.sink, std::string("\x07", 1));  // not a known binary kind: an error, later
  f.handler.on_auth_timeout(c.state, *c.sink);  // the deadline passing meanwhile does not close it
  EXPECT_TRUE(c.sink->frames.empty());
  EXPECT_FALSE(c.sink->closed);
  ASSERT_EQ(f.cap.waiting.size(), 1u);
  f.cap.answer(true);
  const std::vector<json> out = c.sink->take_all();
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0]["type"], "auth_success");
  EXPECT_EQ(out[1]["type"], "pong");
  EXPECT_EQ(out[1]["ref"], "p1");
  EXPECT_EQ(out[2]["type"], "subscribed");
  EXPECT_EQ(out[2]["ref"], "s1");
  EXPECT_EQ(out[3]["type"], "error");
  EXPECT_EQ(out[3]["code"], "bad_request");
  EXPECT_FALSE(c.sink->closed);
  EXPECT_TRUE(c.state.held.empty());
  EXPECT_EQ(c.state.held_bytes, 0u);
}

TEST(SharedConnectionCapHook, RefusedAfterTheCheckClosesWith4005AndRunsNothingHeld) {
  CapFixture f;
  f.cap.later = true;
  testing::FakeConnection c = f.connect("c-1", f.auth("ann"));
  f.handler.on_text(c.state, *c.sink, json{{"type", "channel_message"}, {"channel", "room:a"}, {"event", "e"},
                                           {"payload", 1}, {"ref", "m1"}}.dump());
  f.cap.answer(false);
  ASSERT_TRUE(c.sink->closed);
  EXPECT_EQ(c.sink->closed->first, 4005);
  EXPECT_TRUE(c.sink->frames.empty());  // neither auth_success nor an ack
  EXPECT_EQ(f.hub.position("room:a").second, 0u);  // nothing was published
  EXPECT_EQ(f.handler.user_connections().count("ann"), 0u);
  f.handler.on_close(c.state, *c.sink);
  EXPECT_TRUE(f.cap.released.empty());
}

// A connection gone before the answer: on_close frees this node's count and tells the cap, which takes its own
// back (the Redis store removes what the script added); the late answer then does nothing.
TEST(SharedConnectionCapHook, AConnectionClosedWhileTheCapIsCheckedReleasesBothCounts) {
  CapFixture f;
  f.cap.later = true;
  testing::FakeConnection c = f.connect("c-1", f.auth("ann"));
  EXPECT_EQ(f.handler.user_connections().count("ann"), 1u);
  f.handler.on_close(c.state, *c.sink);
  EXPECT_EQ(f.handler.user_connections().count("ann"), 0u);
  EXPECT_EQ(f.cap.released, (std::vector<std::string>{"ann/c-1"}));
  f.cap.answer(true);
  EXPECT_TRUE(c.sink->frames.empty());
  EXPECT_EQ(f.handler.user_connections().count("ann"), 0u);
}

TEST(SharedConnectionCapHook, SendingTooMuchWhileTheCapIsCheckedCloses1008) {
  CapFixture f;
  f.cap.later = true;
  testing::FakeConnection c = f.connect("c-1", f.auth("ann"));
  const std::string ping = json{{"type", "ping"}}.dump();
  for (std::size_t i = 0; i < MessageHandler::kMaxHeldMessages; ++i) f.handler.on_text(c.state, *c.sink, ping);
  EXPECT_FALSE(c.sink->closed);
  f.handler.on_text(c.state, *c.sink, ping);
  ASSERT_TRUE(c.sink->closed);
  EXPECT_EQ(c.sink->closed->first, 1008);
  EXPECT_NE(c.sink->closed->second.find("wait for auth_success"), std::string::npos);
  testing::FakeConnection big = f.connect("c-2", f.auth("bob"));
  f.handler.on_binary(big.state, *big.sink, std::string(MessageHandler::kMaxHeldBytes + 1, 'x'));
  ASSERT_TRUE(big.sink->closed);
  EXPECT_EQ(big.sink->closed->first, 1008);
}

// The presence messages the scripts publish ("p|" stripped): len:bytes pieces kind, user, status, info, joinedAt,
// connections. Whoever can write to Redis can send anything there: bad ones are refused, never crash.
TEST(RedisPresenceMessages, ParsesTheScriptsFormatAndRefusesAnythingElse) {
  PresenceDiff d;
  bool silent = true;
  ASSERT_TRUE(RedisPresenceStore::parse_message("room:a", "4:join3:ann6:online9:{\"n\":\"A\"}13:17000000000001:2", d,
                                                silent));
  EXPECT_FALSE(silent);
  EXPECT_EQ(d.to_message(), json({{"type", "presence_diff"}, {"channel", "room:a"},
                                  {"joins", json::array({json{{"userId", "ann"}, {"status", "online"},
                                                              {"info", {{"n", "A"}}}, {"joinedAt", 1700000000000},
                                                              {"connections", 2}}})},
                                  {"leaves", json::array()}, {"updates", json::array()}}));
  PresenceDiff count;
  ASSERT_TRUE(RedisPresenceStore::parse_message("room:a", "5:count3:ann4:away2:{}1:51:1", count, silent));
  EXPECT_TRUE(silent);  // for the nodes' copies only
  PresenceDiff leave;
  ASSERT_TRUE(RedisPresenceStore::parse_message("room:a", "5:leave3:ann6:online2:{}1:51:0", leave, silent));
  EXPECT_EQ(leave.leaves, (std::vector<std::string>{"ann"}));
  for (const char* bad : {"", "4:join", "4:join3:ann6:online5:notjs1:51:1", "4:nope3:ann6:online2:{}1:51:1",
                          "99999999999:x", "4:join3:ann6:online2:[]1:51:1", "-1:x"}) {
    PresenceDiff x;
    EXPECT_FALSE(RedisPresenceStore::parse_message("room:a", bad, x, silent)) << bad;
  }
  std::mt19937 rng(15);
  const std::string alphabet = "0123456789:{}\"joinleavecount ";
  for (int i = 0; i < 20000; ++i) {
    std::string m(rng() % 60, ' ');
    for (char& c : m) c = alphabet[rng() % alphabet.size()];
    PresenceDiff x;
    RedisPresenceStore::parse_message("room:a", m, x, silent);  // must not crash or throw
  }
}

ConfigResult parse(std::vector<const char*> args) {
  args.insert(args.begin(), "tidewire-server");
  return parse_config(static_cast<int>(args.size()), args.data(), [](const char*, std::string&) { return false; });
}

TEST(PresenceFlags, NodeTtlAndGraceHaveProductionDefaultsAndBounds) {
  const ConfigResult d = parse({});
  EXPECT_EQ(d.config.node_ttl_ms, 10000u);
  EXPECT_EQ(d.config.presence_grace_ms, 3000u);
  const ConfigResult r = parse({"--node-ttl-ms", "1000", "--presence-grace-ms", "0"});
  ASSERT_EQ(r.status, ConfigStatus::kOk) << r.error;
  EXPECT_EQ(r.config.node_ttl_ms, 1000u);
  EXPECT_EQ(r.config.presence_grace_ms, 0u);
  EXPECT_EQ(parse({"--node-ttl-ms", "50"}).status, ConfigStatus::kError);  // below 100 ms
  EXPECT_EQ(parse({"--presence-grace-ms", "x"}).status, ConfigStatus::kError);
}

}  // namespace
}  // namespace tidewire::server
