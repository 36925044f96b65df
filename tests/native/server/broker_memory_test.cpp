// The broker seam (src/server/broker.hpp) without a Redis: the memory broker, the hub's remote copy of a stream
// (apply_remote / reset_remote / drop_if_idle, what the Redis broker drives), --broker / --node-id and the Redis
// URL. The Redis broker itself runs against a real redis-server in tests/node/scale-out.test.mjs.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "fake_session.hpp"
#include "protocol/wire.hpp"
#include "server/broker.hpp"
#include "server/config.hpp"
#include "server/redis_address.hpp"

namespace tidewire::server {
namespace {

using testing::FakeSession;

HistoryEntry entry(std::uint64_t offset, std::string payload = "1") {
  HistoryEntry e;
  e.offset = offset;
  e.ts_ms = 1000 + offset;
  e.from = "alice";
  e.event = "n";
  e.payload = std::move(payload);
  return e;
}

std::vector<std::uint64_t> offsets(const FakeSession& s) {
  std::vector<std::uint64_t> out;
  for (const auto& f : s.frames) out.push_back(nlohmann::json::parse(*f)["offset"].get<std::uint64_t>());
  return out;
}

TEST(MemoryBroker, AcksBeforeTheFanOutAndDedupesLikeTheHub) {
  Hub hub;
  MemoryBroker broker(hub);
  auto sub = std::make_shared<FakeSession>();
  ASSERT_TRUE(broker.join("room", [&] { hub.subscribe("room", sub); }));
  PublishRequest r;
  r.channel = "room";
  r.event = "n";
  r.from = "alice";
  r.payload_json = "1";
  r.client_id = "m1";
  std::vector<PublishOutcome> outcomes;
  std::size_t frames_at_ack = 99;
  broker.publish(r, [&](const PublishOutcome& o) {
    frames_at_ack = sub->frames.size();
    outcomes.push_back(o);
  });
  broker.publish(r, [&](const PublishOutcome& o) { outcomes.push_back(o); });
  ASSERT_EQ(outcomes.size(), 2u);
  EXPECT_EQ(frames_at_ack, 0u);  // the sender's ack precedes every copy
  EXPECT_EQ(outcomes[0].offset, 1u);
  EXPECT_FALSE(outcomes[0].duplicate);
  EXPECT_EQ(outcomes[1].offset, 1u);
  EXPECT_TRUE(outcomes[1].duplicate);
  EXPECT_EQ(sub->frames.size(), 1u);
  EXPECT_TRUE(broker.healthy());
}

TEST(HubRemote, AppliesTheNextOffsetIgnoresSeenOnesAndReportsGaps) {
  Hub hub;
  auto sub = std::make_shared<FakeSession>();
  EXPECT_EQ(hub.apply_remote("room", "e-1", entry(1)), Hub::RemoteApply::kGap);  // not copied yet
  hub.reset_remote("room", "e-1", 0);
  hub.subscribe("room", sub);
  EXPECT_EQ(hub.apply_remote("room", "e-1", entry(1)), Hub::RemoteApply::kApplied);
  EXPECT_EQ(hub.apply_remote("room", "e-1", entry(1)), Hub::RemoteApply::kSeen);
  EXPECT_EQ(hub.apply_remote("room", "e-1", entry(3)), Hub::RemoteApply::kGap);
  EXPECT_EQ(hub.apply_remote("room", "e-1", entry(2)), Hub::RemoteApply::kApplied);
  EXPECT_EQ(hub.apply_remote("room", "e-1", entry(3)), Hub::RemoteApply::kApplied);
  EXPECT_EQ(offsets(*sub), (std::vector<std::uint64_t>{1, 2, 3}));
  EXPECT_EQ(hub.position("room"), (std::pair<std::string, std::uint64_t>{"e-1", 3}));
  EXPECT_EQ(nlohmann::json::parse(*sub->frames[0])["epoch"], "e-1");
}

TEST(HubRemote, ANewEpochFromOffsetOneReplacesTheStreamAndRecoveryFromTheOldOneSaysEpochChanged) {
  Hub hub;
  hub.reset_remote("room", "e-1", 5);
  auto sub = std::make_shared<FakeSession>();
  hub.subscribe("room", sub);
  EXPECT_EQ(hub.apply_remote("room", "e-2", entry(4)), Hub::RemoteApply::kGap);  // new epoch, not from 1
  EXPECT_EQ(hub.apply_remote("room", "e-2", entry(1)), Hub::RemoteApply::kApplied);
  EXPECT_EQ(hub.position("room").first, "e-2");
  auto late = std::make_shared<FakeSession>();
  SubscribeRequest req;
  req.channel = "room";
  req.has_since = true;
  req.since_offset = 5;
  req.since_epoch = "e-1";
  const SubscribeResult r = hub.subscribe(req, late, nullptr);
  EXPECT_EQ(r.reason, wire::recovery::kEpochChanged);
}

TEST(HubRemote, ResetSkipsWhatTheStreamNoLongerHoldsAndRecoveryFromBeforeIsWindowExceeded) {
  Hub hub;
  hub.reset_remote("room", "e-1", 0);
  hub.apply_remote("room", "e-1", entry(1));
  hub.reset_remote("room", "e-1", 1);  // same epoch, not behind: nothing changes
  EXPECT_EQ(hub.position("room").second, 1u);
  hub.reset_remote("room", "e-1", 9);  // 2..9 are gone from the stream
  EXPECT_EQ(hub.apply_remote("room", "e-1", entry(10)), Hub::RemoteApply::kApplied);
  SubscribeRequest req;
  req.channel = "room";
  req.has_since = true;
  req.since_offset = 1;
  req.since_epoch = "e-1";
  const SubscribeResult r = hub.subscribe(req, std::make_shared<FakeSession>(), nullptr);
  EXPECT_EQ(r.reason, wire::recovery::kWindowExceeded);
}

TEST(HubRemote, DropIfIdleKeepsChannelsWithSubscribers) {
  Hub hub;
  hub.reset_remote("room", "e-1", 0);
  auto sub = std::make_shared<FakeSession>();
  hub.subscribe("room", sub);
  EXPECT_FALSE(hub.drop_if_idle("room"));
  hub.unsubscribe("room", sub.get());
  hub.reset_remote("room", "e-1", 0);
  EXPECT_TRUE(hub.drop_if_idle("room"));
  EXPECT_EQ(hub.position("room").first, "");
  EXPECT_TRUE(hub.drop_if_idle("never"));
}

TEST(RedisAddress, ParsesHostPortAndDatabase) {
  RedisAddress a;
  ASSERT_TRUE(parse_redis_url("redis://10.0.0.2:6380/3", a));
  EXPECT_EQ(a.host, "10.0.0.2");
  EXPECT_EQ(a.port, 6380);
  EXPECT_EQ(a.db, 3u);
  ASSERT_TRUE(parse_redis_url("redis://cache", a));
  EXPECT_EQ(a.host, "cache");
  EXPECT_EQ(a.port, 6379);
  EXPECT_EQ(a.db, 0u);
  for (const char* bad : {"", "redis://", "http://x:1", "redis://x:", "redis://x:0", "redis://x:70000",
                          "redis://x:1/", "redis://x:1/db", "redis://x:-1", "redis://:6379"})
    EXPECT_FALSE(parse_redis_url(bad, a)) << bad;
}

ConfigResult parse(std::vector<const char*> args) {
  args.insert(args.begin(), "tidewire-server");
  return parse_config(static_cast<int>(args.size()), args.data(), [](const char*, std::string&) { return false; });
}

TEST(BrokerConfig, MemoryByDefaultRedisWithInMemoryStoresAndARandomNodeId) {
  const ConfigResult d = parse({});
  EXPECT_EQ(d.config.broker, "memory");
  EXPECT_EQ(d.config.node_id.substr(0, 2), "n-");
  EXPECT_NE(parse({}).config.node_id, d.config.node_id);
  const ConfigResult r = parse({"--broker", "redis://127.0.0.1:6379", "--data-dir", ":memory:", "--node-id", "a1"});
  ASSERT_EQ(r.status, ConfigStatus::kOk) << r.error;
  EXPECT_EQ(r.config.broker, "redis://127.0.0.1:6379");
  EXPECT_EQ(r.config.node_id, "a1");
}

TEST(BrokerConfig, RedisWithTheSqliteStoresIsRefusedPointingAtDatabase) {
  const ConfigResult r = parse({"--broker", "redis://127.0.0.1:6379"});
  ASSERT_EQ(r.status, ConfigStatus::kError);
  EXPECT_NE(r.error.find("--database postgres://"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("--data-dir :memory:"), std::string::npos) << r.error;
  // With a shared Postgres store, a data directory (history) is fine.
  const ConfigResult shared =
      parse({"--broker", "redis://127.0.0.1:6379", "--database", "postgres://u@127.0.0.1:5432/db", "--data-dir", "/tmp/x"});
  ASSERT_EQ(shared.status, ConfigStatus::kOk) << shared.error;
  EXPECT_EQ(shared.config.database_pool, 4u);
  EXPECT_EQ(parse({"--database-pool", "9"}).config.database_pool, 9u);
  EXPECT_EQ(parse({"--database-pool", "0"}).status, ConfigStatus::kError);
  EXPECT_EQ(parse({"--database", "mysql://x"}).status, ConfigStatus::kError);
  EXPECT_EQ(parse({"--broker", "nats://x:1"}).status, ConfigStatus::kError);
  EXPECT_EQ(parse({"--node-id", "a b"}).status, ConfigStatus::kError);
  EXPECT_EQ(parse({"--node-id", "a:b"}).status, ConfigStatus::kError);
}

}  // namespace
}  // namespace tidewire::server
