#include "server/hub.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <vector>

#include "fake_session.hpp"

namespace tidewire::server {
namespace {

using testing::FakeSession;  // records every frame the hub delivers

PublishRequest request(std::string_view channel, std::string_view payload = R"({"x":1})") {
  PublishRequest r;
  r.channel = channel;
  r.event = "chat";
  r.from = "alice";
  r.payload_json = payload;
  r.ts_ms = 1234;
  return r;
}

TEST(Hub, SubscribeIsIdempotentAndPublishCountsOffsetsFromOne) {
  Hub hub;
  auto a = std::make_shared<FakeSession>();
  EXPECT_TRUE(hub.subscribe("room", a));
  EXPECT_FALSE(hub.subscribe("room", a));
  EXPECT_EQ(hub.subscriber_count("room"), 1u);
  EXPECT_EQ(hub.publish(request("room")), 1u);
  EXPECT_EQ(hub.publish(request("room")), 2u);
  ASSERT_EQ(a->frames.size(), 2u);
  const auto j = nlohmann::json::parse(*a->frames[1]);
  EXPECT_EQ(j["type"], "channel_message");
  EXPECT_EQ(j["channel"], "room");
  EXPECT_EQ(j["event"], "chat");
  EXPECT_EQ(j["offset"], 2);
  EXPECT_EQ(j["ts"], 1234);
  EXPECT_EQ(j["from"], "alice");
  EXPECT_EQ(j["payload"], nlohmann::json({{"x", 1}}));
  // payload is the last field (PROTOCOL.md section 2).
  EXPECT_EQ(a->frames[1]->rfind("\"payload\":{\"x\":1}}"), a->frames[1]->size() - 18);
}

TEST(Hub, RevokeEndsOneUsersSubscriptionsOrEveryoneAndTellsEachSubscriber) {
  Hub hub;
  auto a = std::make_shared<FakeSession>();
  auto b1 = std::make_shared<FakeSession>();
  auto b2 = std::make_shared<FakeSession>();
  const std::pair<std::shared_ptr<FakeSession>, const char*> subs[] = {{a, "alice"}, {b1, "bob"}, {b2, "bob"}};
  for (const auto& [s, user] : subs) {
    SubscribeRequest r;
    r.channel = "chat:1";
    r.user = user;
    hub.subscribe(r, s, nullptr);
  }
  hub.subscribe("chat:2", b1);
  const auto notice = std::make_shared<const std::string>(R"({"type":"unsubscribed","channel":"chat:1"})");
  EXPECT_EQ(hub.revoke("chat:1", "bob", notice), 2u);
  EXPECT_TRUE(hub.is_subscribed("chat:1", a.get()));
  EXPECT_FALSE(hub.is_subscribed("chat:1", b1.get()));
  EXPECT_TRUE(hub.is_subscribed("chat:2", b1.get()));  // other channels are untouched
  for (const auto& b : {b1, b2}) {
    ASSERT_EQ(b->frames.size(), 1u);
    EXPECT_EQ(b->frames[0], notice);
    EXPECT_TRUE(b->has_revoked());
    EXPECT_EQ(b->take_revoked(), std::vector<std::string>{"chat:1"});
    EXPECT_FALSE(b->has_revoked());
  }
  hub.publish(request("chat:1"));
  EXPECT_EQ(a->frames.size(), 1u);
  EXPECT_EQ(b1->frames.size(), 1u);  // nothing after the notice
  EXPECT_FALSE(a->has_revoked());
  EXPECT_EQ(hub.revoke("chat:1", "", notice), 1u);  // everyone
  EXPECT_EQ(hub.subscriber_count("chat:1"), 0u);
  EXPECT_EQ(hub.revoke("nowhere", "", notice), 0u);
}

TEST(Hub, EncodesOnceAndSharesTheBytes) {
  Hub hub;
  auto a = std::make_shared<FakeSession>();
  auto b = std::make_shared<FakeSession>();
  hub.subscribe("room", a);
  hub.subscribe("room", b);
  hub.publish(request("room"));
  ASSERT_EQ(a->frames.size(), 1u);
  ASSERT_EQ(b->frames.size(), 1u);
  EXPECT_EQ(a->frames[0].get(), b->frames[0].get());
}

TEST(Hub, ChannelsAreIndependent) {
  Hub hub;
  auto a = std::make_shared<FakeSession>();
  auto b = std::make_shared<FakeSession>();
  hub.subscribe("one", a);
  hub.subscribe("two", b);
  EXPECT_EQ(hub.publish(request("one")), 1u);
  EXPECT_EQ(hub.publish(request("two")), 1u);
  EXPECT_EQ(hub.publish(request("nobody")), 0u);
  EXPECT_EQ(a->frames.size(), 1u);
  EXPECT_EQ(b->frames.size(), 1u);
  EXPECT_EQ(hub.channel_count(), 2u);
}

TEST(Hub, UnsubscribeDropsEmptyChannels) {
  Hub hub;
  auto a = std::make_shared<FakeSession>();
  hub.subscribe("room", a);
  EXPECT_FALSE(hub.unsubscribe("room", nullptr));
  EXPECT_TRUE(hub.unsubscribe("room", a.get()));
  EXPECT_FALSE(hub.unsubscribe("room", a.get()));
  EXPECT_EQ(hub.channel_count(), 0u);
  EXPECT_EQ(hub.publish(request("room")), 0u);
  EXPECT_TRUE(a->frames.empty());
}

TEST(Hub, SkipsSubscribersThatDied) {
  Hub hub;
  auto a = std::make_shared<FakeSession>();
  auto b = std::make_shared<FakeSession>();
  hub.subscribe("room", a);
  hub.subscribe("room", b);
  b.reset();
  EXPECT_EQ(hub.publish(request("room")), 1u);
  EXPECT_EQ(a->frames.size(), 1u);
  EXPECT_EQ(hub.subscriber_count("room"), 1u);
}

TEST(Hub, BeforeFanoutRunsFirstWithTheOffset) {
  Hub hub;
  auto a = std::make_shared<FakeSession>();
  hub.subscribe("room", a);
  std::uint64_t seen = 0;
  std::size_t frames_at_callback = 99;
  hub.publish(request("room"), [&](std::uint64_t offset) {
    seen = offset;
    frames_at_callback = a->frames.size();
  });
  EXPECT_EQ(seen, 1u);
  EXPECT_EQ(frames_at_callback, 0u);
}

}  // namespace
}  // namespace tidewire::server
