// The PresenceStore seam (issue #15): the memory store's bookkeeping that RedisPresenceStore builds on
// (PresenceRegistry's per-connection accessors), Services on an injected store, the message handler's shared
// connection cap (refusal closes 4005 and frees the local slot; a close releases the same entry), and the
// --node-ttl-ms / --presence-grace-ms flags. The Redis store itself runs against a real Redis in
// tests/node/scale-out-presence.test.mjs.
#include <gtest/gtest.h>

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

// Records what the handler asks; refuses while `full`.
class FakeSharedCap : public SharedConnectionCap {
 public:
  bool try_acquire(std::string_view user, std::string_view connection) override {
    if (full) return false;
    held.insert(std::string(user) + "/" + std::string(connection));
    return true;
  }
  void release(std::string_view user, std::string_view connection) override {
    released.push_back(std::string(user) + "/" + std::string(connection));
    held.erase(std::string(user) + "/" + std::string(connection));
  }
  bool full = false;
  std::set<std::string> held;
  std::vector<std::string> released;
};

TEST(SharedConnectionCapHook, ARefusalAcrossNodesClosesWith4005AndFreesTheLocalSlot) {
  const std::string secret = "secret";
  std::uint64_t now = 1'700'000'000'000;
  Hub hub;
  JwtVerifier verifier{secret};
  HandlerLimits limits;
  limits.max_connections_per_user = 5;
  MessageHandler handler{hub, verifier, limits, [&] { return now; }};
  FakeSharedCap cap;
  handler.set_shared_connection_cap(&cap);
  auto connect = [&](const std::string& id) {
    testing::FakeConnection c;
    c.state.connection_id = id;
    handler.on_open(c.state, *c.sink, static_cast<const JwtClaims*>(nullptr));
    const json token{{"type", "auth"}, {"token", sign_hs256(secret, {{"sub", "ann"}, {"exp", now / 1000 + 60}})}};
    handler.on_text(c.state, *c.sink, token.dump());
    return c;
  };
  testing::FakeConnection a = connect("c-1");
  EXPECT_FALSE(a.sink->closed);
  EXPECT_EQ(cap.held, (std::set<std::string>{"ann/c-1"}));
  cap.full = true;  // the other nodes hold the rest
  testing::FakeConnection b = connect("c-2");
  ASSERT_TRUE(b.sink->closed);
  EXPECT_EQ(b.sink->closed->first, 4005);
  EXPECT_EQ(handler.user_connections().count("ann"), 1u);  // the refused one holds no local slot
  handler.on_close(b.state, *b.sink);
  EXPECT_TRUE(cap.released.empty());  // nothing to release for a refused connection
  handler.on_close(a.state, *a.sink);
  EXPECT_EQ(cap.released, (std::vector<std::string>{"ann/c-1"}));
  EXPECT_EQ(handler.user_connections().count("ann"), 0u);
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
