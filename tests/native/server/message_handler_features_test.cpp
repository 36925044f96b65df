// The message handler's sections 8-14: recovery and idempotent publishing over the wire, token refresh and
// expiry, the per-user connection cap, the rate limit, channel access rules and binary publishing.
#include "server/message_handler.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "protocol/binary_frame.hpp"
#include "fake_session.hpp"
#include "server/jwt_signer.hpp"

namespace tidewire::server {
namespace {

using nlohmann::json;

const std::string kSecret = "secret";

class HandlerFeatures : public ::testing::Test {
 protected:
  using Conn = testing::FakeConnection;

  static HandlerLimits limits() {
    HandlerLimits l;
    l.rate_per_second = 10;
    l.rate_burst = 5;
    l.max_connections_per_user = 2;
    return l;
  }
  std::string token(const std::string& sub, std::int64_t exp_in_s = 3600, json extra = json::object()) {
    json claims = {{"sub", sub}, {"exp", static_cast<std::int64_t>(now / 1000) + exp_in_s}};
    claims.update(extra);
    return sign_hs256(kSecret, claims);
  }
  Conn connect(const std::string& sub, std::int64_t exp_in_s = 3600, json extra = json::object()) {
    Conn c;
    c.state.connection_id = "c-1";
    handler.on_open(c.state, *c.sink, static_cast<const JwtClaims*>(nullptr));
    text(c, json({{"type", "auth"}, {"token", token(sub, exp_in_s, extra)}}));
    return c;
  }
  void text(Conn& c, const json& j) { handler.on_text(c.state, *c.sink, j.dump()); }

  std::uint64_t now = 1'700'000'000'000;
  Hub hub;
  JwtVerifier verifier{kSecret};
  MessageHandler handler{hub, verifier, limits(), [this] { return now; }};
};

TEST_F(HandlerFeatures, AuthSuccessCarriesExpiryAndLimitsAndArmsTheExpiryTimer) {
  Conn c = connect("alice", 60);
  const json a = c.sink->take();
  EXPECT_EQ(a["expiresAt"], (now / 1000 + 60) * 1000);
  EXPECT_EQ(a["limits"]["rateLimit"], json({{"messagesPerSecond", 10}, {"burst", 5}}));
  EXPECT_EQ(a["limits"]["maxConnectionsPerUser"], 2);
  EXPECT_EQ(c.sink->expiry_at, (now / 1000 + 60) * 1000);
}

TEST_F(HandlerFeatures, ExpiryClosesWith4003UnlessRefreshed) {
  Conn c = connect("alice", 60);
  c.sink->take();
  text(c, {{"type", "auth"}, {"token", token("alice", 600)}, {"ref", "r1"}});
  const json refreshed = c.sink->take();
  EXPECT_EQ(refreshed, json({{"type", "auth_refreshed"}, {"ref", "r1"}, {"expiresAt", (now / 1000 + 600) * 1000}}));
  EXPECT_EQ(c.sink->expiry_at, (now / 1000 + 600) * 1000);
  now += 61'000;  // the old exp passed: the timer re-arms instead of closing
  handler.on_expiry_timer(c.state, *c.sink);
  EXPECT_FALSE(c.sink->closed);
  now += 600'000;
  handler.on_expiry_timer(c.state, *c.sink);
  ASSERT_TRUE(c.sink->closed);
  EXPECT_EQ(c.sink->closed->first, 4003);
}

TEST_F(HandlerFeatures, RefreshWithAnotherUserOrABadTokenFailsAndKeepsTheConnection) {
  Conn c = connect("alice");
  c.sink->take();
  text(c, {{"type", "auth"}, {"token", token("mallory")}, {"ref", "r"}});
  json e = c.sink->take();
  EXPECT_EQ(e["code"], "auth_failed");
  EXPECT_EQ(e["ref"], "r");
  text(c, {{"type", "auth"}, {"token", "garbage"}, {"ref", "r2"}});
  e = c.sink->take();
  EXPECT_EQ(e["code"], "auth_failed");
  EXPECT_EQ(e["ref"], "r2");
  EXPECT_FALSE(c.sink->closed);
  EXPECT_EQ(c.state.user_id, "alice");
}

TEST_F(HandlerFeatures, ThirdConnectionOfAUserClosesWith4005) {
  Conn a = connect("alice");
  Conn b = connect("alice");
  Conn c = connect("alice");
  ASSERT_TRUE(c.sink->closed);
  EXPECT_EQ(c.sink->closed->first, 4005);
  EXPECT_NE(c.sink->closed->second.find("limit 2"), std::string::npos);
  EXPECT_FALSE(a.sink->closed);
  handler.on_close(c.state, *c.sink);  // the refused one does not free a slot
  EXPECT_EQ(handler.user_connections().count("alice"), 2u);
  handler.on_close(a.state, *a.sink);
  Conn d = connect("alice");
  EXPECT_FALSE(d.sink->closed);
}

TEST_F(HandlerFeatures, OverTheRateGetsRateLimitedWithTheRefThenAbuseCloses1008) {
  Conn c = connect("alice");
  c.sink->take();
  for (int i = 0; i < 5; ++i) text(c, {{"type", "ping"}, {"ref", "p"}});
  for (int i = 0; i < 5; ++i) EXPECT_EQ(c.sink->take()["type"], "pong");
  text(c, {{"type", "ping"}, {"ref", "over"}});
  const json e = c.sink->take();
  EXPECT_EQ(e["code"], "rate_limited");
  EXPECT_EQ(e["ref"], "over");
  EXPECT_EQ(e["retryAfterMs"], 100);
  for (int i = 0; i < 200 && !c.sink->closed; ++i) text(c, {{"type", "ping"}});
  ASSERT_TRUE(c.sink->closed);
  EXPECT_EQ(c.sink->closed->first, 1008);
}

TEST_F(HandlerFeatures, ChannelsClaimAndPrivateUserChannelsAreEnforced) {
  Conn c = connect("alice", 3600, {{"channels", {"room:*", "news"}}});
  c.sink->take();
  text(c, {{"type", "subscribe"}, {"channel", "room:1"}, {"ref", "a"}});
  EXPECT_EQ(c.sink->take()["type"], "subscribed");
  text(c, {{"type", "subscribe"}, {"channel", "news"}, {"ref", "b"}});
  EXPECT_EQ(c.sink->take()["type"], "subscribed");
  for (const char* channel : {"newsroom", "other", "user:alice"}) {
    text(c, {{"type", "subscribe"}, {"channel", channel}, {"ref", "x"}});
    const json e = c.sink->take();
    EXPECT_EQ(e["code"], "forbidden") << channel;
    EXPECT_EQ(e["ref"], "x");
  }
  Conn d = connect("bob");
  d.sink->take();
  text(d, {{"type", "subscribe"}, {"channel", "user:alice"}, {"ref", "x"}});
  EXPECT_EQ(d.sink->take()["code"], "forbidden");
  text(d, {{"type", "subscribe"}, {"channel", "user:bob"}, {"ref", "y"}});
  EXPECT_EQ(d.sink->take()["type"], "subscribed");
  text(d, {{"type", "subscribe"}, {"channel", "anything"}, {"ref", "z"}});  // no claim: unrestricted
  EXPECT_EQ(d.sink->take()["type"], "subscribed");
}

TEST_F(HandlerFeatures, AChatSubscribeThatRacedWithLosingAccessIsEndedAtOnce) {
  int checks = 0;  // a participant at the first check, gone (left on another connection) by the second
  handler.set_chat_membership([&](std::string_view, std::string_view) { return ++checks == 1; });
  Conn c = connect("alice");
  c.sink->take();
  text(c, json({{"type", "subscribe"}, {"channel", "chat:5"}, {"ref", "s"}}));
  EXPECT_EQ(c.sink->take()["type"], "subscribed");
  const json ended = c.sink->take();
  EXPECT_EQ(ended["type"], "unsubscribed");
  EXPECT_EQ(ended["reason"], "access_revoked");
  EXPECT_FALSE(ended.contains("ref"));
  EXPECT_EQ(hub.subscriber_count("chat:5"), 0u);
  EXPECT_TRUE(c.state.channels.empty());
}

// The asynchronous chat membership check (#16: a database query, answered by a service worker): the subscribe
// waits for the answer, requests on the same channel wait behind it and run in order, other channels carry on.
class AsyncChatMembership : public HandlerFeatures {
 protected:
  void SetUp() override {
    handler.set_chat_membership_async(
        [this](std::string user, std::string room, std::function<void(std::optional<bool>)> done) {
          asked.push_back(user + "@" + room);
          answers.push_back(std::move(done));
        });
  }
  void answer(std::optional<bool> member) {
    ASSERT_FALSE(answers.empty());
    auto done = std::move(answers.front());
    answers.erase(answers.begin());
    done(member);  // FakeSession::post runs the continuation at once
  }
  std::vector<std::string> asked;
  std::vector<std::function<void(std::optional<bool>)>> answers;
};

TEST_F(AsyncChatMembership, TheSubscribeWaitsForTheAnswerAndTheChannelsLaterRequestsWaitBehindIt) {
  Conn c = connect("alice");
  c.sink->take();
  text(c, {{"type", "subscribe"}, {"channel", "chat:5"}, {"ref", "s1"}});
  text(c, {{"type", "unsubscribe"}, {"channel", "chat:5"}, {"ref", "u1"}});
  text(c, {{"type", "subscribe"}, {"channel", "room:other"}, {"ref", "o"}});  // not held up
  EXPECT_EQ(c.sink->take()["ref"], "o");
  EXPECT_TRUE(c.sink->frames.empty()) << "nothing of chat:5 before the answer";
  EXPECT_EQ(asked, std::vector<std::string>{"alice@5"});
  answer(true);
  // subscribed, then (the recheck after hub.subscribe asks again) the deferred unsubscribe.
  ASSERT_EQ(asked.size(), 2u);
  answer(true);
  const std::vector<json> got = c.sink->take_all();
  ASSERT_EQ(got.size(), 2u) << json(got).dump();
  EXPECT_EQ(got[0]["type"], "subscribed");
  EXPECT_EQ(got[1]["type"], "unsubscribed");
  EXPECT_EQ(got[1]["ref"], "u1");
  EXPECT_EQ(hub.subscriber_count("chat:5"), 0u);
  EXPECT_TRUE(c.state.pending_subscribes.empty());
}

TEST_F(AsyncChatMembership, NoMemberIsForbiddenADatabaseErrorIsUnavailableAClosedConnectionIsLeftAlone) {
  Conn c = connect("alice");
  c.sink->take();
  text(c, {{"type", "subscribe"}, {"channel", "chat:5"}, {"ref", "a"}});
  answer(false);
  EXPECT_EQ(c.sink->take("error", "a")["code"], "forbidden");
  text(c, {{"type", "subscribe"}, {"channel", "chat:5"}, {"ref", "b"}});
  answer(std::nullopt);
  EXPECT_EQ(c.sink->take("error", "b")["code"], "unavailable");
  text(c, {{"type", "subscribe"}, {"channel", "chat:5"}, {"ref", "c"}});
  handler.on_close(c.state, *c.sink);
  c.sink->take_all();
  answer(true);
  EXPECT_TRUE(c.sink->frames.empty());
  EXPECT_EQ(hub.subscriber_count("chat:5"), 0u);
}

TEST_F(AsyncChatMembership, ALeaveBetweenTheAnswerAndTheSubscribeIsCaughtByTheRecheck) {
  Conn c = connect("alice");
  c.sink->take();
  text(c, {{"type", "subscribe"}, {"channel", "chat:5"}, {"ref", "s"}});
  answer(true);   // a member when asked...
  answer(false);  // ...gone by the recheck after the hub listed the subscriber
  EXPECT_EQ(c.sink->take()["type"], "subscribed");
  const json ended = c.sink->take();
  EXPECT_EQ(ended["type"], "unsubscribed");
  EXPECT_EQ(ended["reason"], "access_revoked");
  EXPECT_EQ(hub.subscriber_count("chat:5"), 0u);
}

TEST_F(HandlerFeatures, SubscribeSinceReplaysMissedMessagesAfterSubscribed) {
  Conn a = connect("alice");
  a.sink->take();
  text(a, {{"type", "subscribe"}, {"channel", "room"}});
  const std::string epoch = a.sink->take()["epoch"];
  for (int i = 1; i <= 3; ++i) text(a, {{"type", "channel_message"}, {"channel", "room"}, {"event", "e"}, {"payload", i}});
  Conn b = connect("bob");
  b.sink->take();
  text(b, {{"type", "subscribe"}, {"channel", "room"}, {"ref", "s"}, {"since", {{"offset", 1}, {"epoch", epoch}}}});
  EXPECT_EQ(b.sink->take(), json({{"type", "subscribed"}, {"channel", "room"}, {"ref", "s"}, {"offset", 3},
                                  {"epoch", epoch}, {"recovered", true}}));
  EXPECT_EQ(b.sink->take()["offset"], 2);
  EXPECT_EQ(b.sink->take()["offset"], 3);
  EXPECT_TRUE(b.sink->frames.empty());
  Conn c = connect("carol");
  c.sink->take();
  text(c, {{"type", "subscribe"}, {"channel", "room"}, {"since", {{"offset", 1}, {"epoch", "e-gone"}}}});
  const json s = c.sink->take();
  EXPECT_EQ(s["recovered"], false);
  EXPECT_EQ(s["reason"], "epoch_changed");
  text(c, {{"type", "subscribe"}, {"channel", "room2"}, {"ref", "bad"}, {"since", {{"offset", -1}, {"epoch", "e"}}}});
  EXPECT_EQ(c.sink->take()["code"], "bad_request");
}

TEST_F(HandlerFeatures, ResentIdIsAckedAsDuplicateAndNotBroadcast) {
  Conn a = connect("alice");
  a.sink->take();
  text(a, {{"type", "subscribe"}, {"channel", "room"}});
  a.sink->take();
  const json msg = {{"type", "channel_message"}, {"channel", "room"}, {"event", "e"}, {"payload", 1}, {"id", "m1"}, {"ref", "p"}};
  text(a, msg);
  EXPECT_EQ(a.sink->take(), json({{"type", "ack"}, {"ref", "p"}, {"channel", "room"}, {"offset", 1}}));
  EXPECT_EQ(a.sink->take()["type"], "channel_message");
  text(a, msg);
  EXPECT_EQ(a.sink->take(), json({{"type", "ack"}, {"ref", "p"}, {"channel", "room"}, {"offset", 1}, {"duplicate", true}}));
  EXPECT_TRUE(a.sink->frames.empty());
}

TEST_F(HandlerFeatures, BinaryPublishIsAckedAsJsonAndBroadcastAsBinary) {
  Conn a = connect("alice");
  a.sink->take();
  text(a, {{"type", "subscribe"}, {"channel", "room"}});
  const std::string epoch = a.sink->take()["epoch"];
  std::string frame;
  protocol::BinaryPublish p;
  p.channel = "room";
  p.event = "blob";
  p.ref = "b1";
  p.id = "x";
  p.payload = std::string_view("\x00\x01\xfe", 3);
  ASSERT_TRUE(protocol::encode_binary_publish(frame, p));
  handler.on_binary(a.state, *a.sink, frame);
  EXPECT_EQ(a.sink->take(), json({{"type", "ack"}, {"ref", "b1"}, {"channel", "room"}, {"offset", 1}}));
  ASSERT_FALSE(a.sink->frames.empty());
  protocol::BinaryBroadcast b;
  ASSERT_TRUE(protocol::decode_binary_broadcast(*a.sink->frames.front(), b));
  EXPECT_EQ(b.event, "blob");
  EXPECT_EQ(b.from, "alice");
  EXPECT_EQ(b.epoch, epoch);
  EXPECT_EQ(b.payload, std::string_view("\x00\x01\xfe", 3));
  a.sink->frames.pop_front();
  handler.on_binary(a.state, *a.sink, std::string_view("\x07zz", 3));
  EXPECT_EQ(a.sink->take()["code"], "bad_request");
  handler.on_binary(a.state, *a.sink, std::string_view("\x01\x09ro", 4));  // truncated
  EXPECT_EQ(a.sink->take()["code"], "bad_request");
  p.channel = "other";  // not subscribed: allowed (section 3), acked
  frame.clear();
  protocol::encode_binary_publish(frame, p);
  handler.on_binary(a.state, *a.sink, frame);
  const json acked = a.sink->take();
  EXPECT_EQ(acked["type"], "ack");
  EXPECT_EQ(acked["channel"], "other");
  p.channel = "chat:1";
  now += 1000;  // refill the rate limit's burst
  frame.clear();
  protocol::encode_binary_publish(frame, p);
  handler.on_binary(a.state, *a.sink, frame);
  const json e = a.sink->take();
  EXPECT_EQ(e["code"], "forbidden");
  EXPECT_EQ(e["ref"], "b1");
  EXPECT_FALSE(a.sink->closed);
}

}  // namespace
}  // namespace tidewire::server
