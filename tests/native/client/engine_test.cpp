// The client engine driven by a fake transport and a virtual clock: no sockets, no sleeps.
#include "client/engine.hpp"

#include <gtest/gtest.h>

#include "protocol/compact_batch.hpp"

#include "support/fake_transport.hpp"

using namespace tidewire::client;
using namespace tidewire::testing;
namespace proto = tidewire::protocol;

namespace {

class EngineTest : public ::testing::Test {
 protected:
  ClientConfig config() {
    ClientConfig c;
    c.url = "ws://server/ws";
    return c;
  }
  void make(ClientConfig c) {
    engine = std::make_unique<Engine>(std::move(c), clock, transport, listener, rng);
    engine->set_token("tok");
  }
  // An engine whose token comes from a provider, subscribed to "a": it wants a connection and asks for a token.
  std::uint32_t subscribe_with_token_provider(std::uint32_t max_reconnect_attempts = 0) {
    auto c = config();
    c.token_provider = true;
    c.max_reconnect_attempts = max_reconnect_attempts;
    make(c);
    std::uint32_t id = 0;
    engine->subscribe("a", id);
    return id;
  }
  void SetUp() override { make(config()); }

  // Opens and authenticates the current socket.
  void accept() {
    engine->on_socket_open(transport.current());
    engine->on_socket_message(transport.current(), R"({"type":"auth_success","version":1,"connectionId":"c-1"})",
                              false);
  }
  void tick(double ms) {
    clock.advance(ms);
    engine->advance();
  }

  VirtualClock clock;
  FakeTransport transport;
  RecordingListener listener;
  FixedRandom rng{0.5};
  std::unique_ptr<Engine> engine;
};

}  // namespace

TEST_F(EngineTest, NoSocketUntilTheFirstSubscriber) {
  EXPECT_TRUE(transport.opens.empty());
  EXPECT_EQ(engine->state(), ConnectionState::kIdle);
  std::uint32_t id = 0;
  ASSERT_EQ(engine->subscribe("room:1", id), Status::kOk);
  ASSERT_EQ(transport.opens.size(), 1u);
  EXPECT_EQ(transport.opens[0].url, "ws://server/ws?v=1&binary=1&compact=1");
  EXPECT_EQ(transport.opens[0].protocols, (std::vector<std::string>{"jwt", "tok"}));
  EXPECT_EQ(engine->state(), ConnectionState::kConnecting);
}

TEST_F(EngineTest, AuthenticatesSubscribesAndDispatches) {
  std::uint32_t id = 0;
  engine->subscribe("room:1", id);
  engine->on_socket_open(transport.current());
  EXPECT_EQ(engine->state(), ConnectionState::kAuthenticating);
  // The upgrade carried the token: the subscribe goes at once, without waiting a round trip for auth_success.
  ASSERT_EQ(transport.sent.size(), 1u);
  EXPECT_EQ(transport.sent[0], R"({"type":"subscribe","channel":"room:1","ref":"s1"})");
  std::uint32_t late = 0;
  engine->subscribe("room:2", late);  // while authenticating: waits for auth_success
  EXPECT_EQ(transport.sent.size(), 1u);
  engine->on_socket_message(transport.current(), R"({"type":"auth_success","version":1,"connectionId":"c-9"})",
                            false);
  EXPECT_EQ(engine->state(), ConnectionState::kConnected);
  EXPECT_EQ(engine->connection_id(), "c-9");
  EXPECT_EQ(engine->user_id(), "");  // this auth_success named no user
  ASSERT_EQ(transport.sent.size(), 2u);  // room:1 is not subscribed twice
  EXPECT_EQ(transport.sent[1], R"({"type":"subscribe","channel":"room:2","ref":"s2"})");

  engine->on_socket_message(transport.current(),
                            R"({"type":"subscribed","channel":"room:1","ref":"s1"})"
                            "\n"
                            R"({"type":"channel_message","channel":"room:1","event":"chat","offset":1,"payload":{"a":1}})"
                            "\n"
                            R"({"type":"channel_message","channel":"other","event":"chat","offset":1,"payload":2})",
                            false);
  EXPECT_EQ(listener.subscribed, std::vector<std::uint32_t>{id});
  ASSERT_EQ(listener.messages.size(), 1u);  // "other" is not subscribed
  EXPECT_EQ(listener.messages[0].channel_id, id);
  EXPECT_EQ(listener.messages[0].event, "chat");
  EXPECT_EQ(listener.messages[0].payload, R"({"a":1})");
  EXPECT_EQ(listener.messages[0].offset, 1u);
}

TEST_F(EngineTest, FirstMessageAuthSendsTheTokenAfterOpen) {
  auto c = config();
  c.auth_mode = AuthMode::kFirstMessage;
  make(c);
  std::uint32_t id = 0;
  engine->subscribe("a", id);
  EXPECT_TRUE(transport.opens.back().protocols.empty());
  engine->on_socket_open(transport.current());
  ASSERT_EQ(transport.sent.size(), 2u);
  EXPECT_EQ(transport.sent[0], R"({"type":"auth","token":"tok"})");
  // Right behind it, in the same round trip: the server handles them in order.
  EXPECT_EQ(transport.sent[1], R"({"type":"subscribe","channel":"a","ref":"s1"})");
}

// The engine owns each channel's references and subscribe state (the TS layer reads them, mirrors nothing).
TEST_F(EngineTest, OwnsEachChannelsReferencesAndSubscribeStateAndReportsThemInTheMetrics) {
  std::uint32_t id = 0;
  ASSERT_EQ(engine->subscribe("room:1", id), Status::kOk);
  engine->on_socket_open(transport.current());
  engine->on_socket_message(transport.current(), R"({"type":"auth_success","version":1,"connectionId":"c"})", false);
  engine->on_socket_message(transport.current(), R"({"type":"subscribed","channel":"room:1","ref":"s1"})", false);
  ASSERT_NE(engine->channel(id), nullptr);
  EXPECT_TRUE(engine->channel(id)->subscribed);
  std::uint32_t again = 0;
  engine->subscribe("room:1", again);
  EXPECT_EQ(again, id);
  EXPECT_EQ(engine->channel(id)->refs, 2u);
  EXPECT_EQ(listener.subscribed, std::vector<std::uint32_t>{id});  // once per subscription, not per reference
  Metrics m = engine->metrics_snapshot();
  EXPECT_EQ(m.channel_count, 1);
  EXPECT_EQ(m.subscriber_count, 2);
  EXPECT_EQ(engine->metrics().subscriber_count, 0);  // gauges live in the snapshot only
  engine->unsubscribe(id);
  engine->unsubscribe(id);
  EXPECT_EQ(engine->channel(id), nullptr);
  EXPECT_EQ(engine->metrics_snapshot().channel_count, 0);
}

TEST_F(EngineTest, AChannelReleasedWhileAuthenticatingIsUnsubscribedOnTheServer) {
  std::uint32_t id = 0;
  engine->subscribe("room:1", id);
  engine->on_socket_open(transport.current());
  ASSERT_EQ(transport.sent.size(), 1u);  // the subscribe
  engine->unsubscribe(id);
  ASSERT_EQ(transport.sent.size(), 2u);
  EXPECT_EQ(transport.sent[1], R"({"type":"unsubscribe","channel":"room:1"})");
}

TEST_F(EngineTest, GracePeriodClosesAfterTheLastSubscriberAndAResubscribeInsideItReusesTheSocket) {
  std::uint32_t a = 0, b = 0;
  engine->subscribe("a", a);
  accept();
  engine->unsubscribe(a);
  tick(999);
  EXPECT_EQ(engine->state(), ConnectionState::kConnected);
  engine->subscribe("b", b);  // inside the grace period: same socket
  tick(5000);
  EXPECT_EQ(transport.opens.size(), 1u);
  EXPECT_TRUE(transport.closes.empty());

  engine->unsubscribe(b);
  tick(1000);
  EXPECT_EQ(engine->state(), ConnectionState::kIdle);
  ASSERT_EQ(transport.closes.size(), 1u);
  EXPECT_EQ(transport.closes[0].code, 1000);
}

TEST_F(EngineTest, RefCountedSubscriptionsShareOneChannel) {
  std::uint32_t a1 = 0, a2 = 0;
  engine->subscribe("a", a1);
  engine->subscribe("a", a2);
  EXPECT_EQ(a1, a2);
  EXPECT_EQ(engine->channel_count(), 1u);
  EXPECT_EQ(engine->subscriber_count(), 2u);
  accept();
  EXPECT_EQ(transport.sent.size(), 1u);  // one subscribe for two references
  engine->unsubscribe(a1);
  EXPECT_EQ(transport.sent.size(), 1u);  // still referenced: no unsubscribe yet
  engine->unsubscribe(a2);
  ASSERT_EQ(transport.sent.size(), 2u);
  EXPECT_EQ(transport.sent[1], R"({"type":"unsubscribe","channel":"a"})");
}

TEST_F(EngineTest, ReconnectsWithBackoffAndResubscribes) {
  std::uint32_t id = 0;
  engine->subscribe("a", id);
  accept();
  const auto first = transport.current();
  engine->on_socket_close(first, 1006, "");
  EXPECT_EQ(engine->state(), ConnectionState::kReconnecting);
  // rng 0.5, attempt 0 -> 0.5 * 1000 ms
  tick(499);
  EXPECT_EQ(transport.opens.size(), 1u);
  tick(1);
  ASSERT_EQ(transport.opens.size(), 2u);
  // A second failure doubles the ceiling: 0.5 * 2000.
  engine->on_socket_close(transport.current(), 1006, "");
  tick(999);
  EXPECT_EQ(transport.opens.size(), 2u);
  tick(1);
  ASSERT_EQ(transport.opens.size(), 3u);
  transport.sent.clear();
  accept();
  ASSERT_EQ(transport.sent.size(), 1u);
  EXPECT_EQ(transport.sent[0], R"({"type":"subscribe","channel":"a","ref":"s1"})");
  EXPECT_EQ(engine->reconnect_attempts(), 0u);  // reset on success
}

TEST_F(EngineTest, LateCallbacksFromAReplacedSocketAreIgnored) {
  std::uint32_t id = 0;
  engine->subscribe("a", id);
  accept();
  const auto old = transport.current();
  engine->reconnect();
  ASSERT_EQ(transport.opens.size(), 2u);
  engine->on_socket_message(old, R"({"type":"channel_message","channel":"a","event":"e","payload":1})", false);
  engine->on_socket_close(old, 1006, "late");
  EXPECT_TRUE(listener.messages.empty());
  EXPECT_EQ(engine->state(), ConnectionState::kConnecting);
}

TEST_F(EngineTest, OutboxQueuesInOrderWhileDisconnectedAndFlushesAfterResubscribe) {
  std::uint32_t id = 0, r1 = 0, r2 = 0;
  engine->subscribe("a", id);
  ASSERT_EQ(engine->publish("a", "e", "1", r1), Status::kOk);
  ASSERT_EQ(engine->publish("a", "e", "2", r2), Status::kOk);
  EXPECT_EQ(engine->outbox_size(), 2u);
  EXPECT_TRUE(transport.sent.empty());
  accept();
  ASSERT_EQ(transport.sent.size(), 3u);
  EXPECT_NE(transport.sent[0].find("subscribe"), std::string::npos);
  // Every publish carries a client message id (the server deduplicates resends) and its ref.
  EXPECT_EQ(transport.sent[1],
            R"({"type":"channel_message","channel":"a","event":"e","id":"iiiiiiiiii-p1","ref":"p1","payload":1})");
  EXPECT_EQ(transport.sent[2],
            R"({"type":"channel_message","channel":"a","event":"e","id":"iiiiiiiiii-p2","ref":"p2","payload":2})");
  engine->on_socket_message(transport.current(), R"({"type":"ack","ref":"p1","channel":"a","offset":5})", false);
  ASSERT_EQ(listener.acks.size(), 1u);
  EXPECT_EQ(listener.acks[0].ref, r1);
  EXPECT_TRUE(listener.acks[0].ok);
  EXPECT_EQ(listener.acks[0].offset, 5u);

  // p2 was never acknowledged: after a reconnect it is sent again, before anything newer.
  engine->on_socket_close(transport.current(), 1006, "");
  std::uint32_t r3 = 0;
  engine->publish("a", "e", "3", r3);
  EXPECT_EQ(engine->outbox_size(), 2u);
  tick(10000);
  transport.sent.clear();
  accept();
  ASSERT_EQ(transport.sent.size(), 3u);
  EXPECT_NE(transport.sent[1].find(R"("ref":"p2")"), std::string::npos);
  EXPECT_NE(transport.sent[2].find(R"("ref":"p3")"), std::string::npos);
}

TEST_F(EngineTest, AFullOutboxRefusesNewSends) {
  auto c = config();
  c.outbox_max_messages = 2;
  make(c);
  std::uint32_t r = 0;
  EXPECT_EQ(engine->publish("a", "e", "1", r), Status::kOk);
  EXPECT_EQ(engine->publish("a", "e", "2", r), Status::kOk);
  EXPECT_EQ(engine->publish("a", "e", "3", r), Status::kOutboxFull);
  EXPECT_EQ(engine->outbox_size(), 2u);
  EXPECT_EQ(engine->publish("bad channel!", "e", "1", r), Status::kInvalidChannel);
  EXPECT_EQ(engine->publish("a", "", "1", r), Status::kInvalidEvent);
}

// A persisted outbox resends a message of an earlier page with the client id it had then (the server's dedupe
// key); an id longer than the protocol allows is refused before anything is queued.
TEST_F(EngineTest, PublishWithAGivenIdSendsThatIdAndRefusesTooLongOnes) {
  std::uint32_t id = 0, r1 = 0, r2 = 0, r3 = 0;
  engine->subscribe("a", id);
  ASSERT_EQ(engine->publish("a", "e", "1", r1, 0, "earlier-page-7"), Status::kOk);
  ASSERT_EQ(engine->publish_binary("a", "e", "xy", r2, 0, "earlier-page-8"), Status::kOk);
  EXPECT_EQ(engine->publish("a", "e", "3", r3, 0, std::string(65, 'x')), Status::kInvalidId);
  EXPECT_EQ(engine->publish_binary("a", "e", "3", r3, 0, std::string(65, 'x')), Status::kInvalidId);
  EXPECT_EQ(engine->outbox_size(), 2u);
  accept();
  ASSERT_EQ(transport.sent.size(), 2u);
  EXPECT_EQ(transport.sent[1],
            R"({"type":"channel_message","channel":"a","event":"e","id":"earlier-page-7","ref":"p1","payload":1})");
  ASSERT_EQ(transport.sent_binary.size(), 1u);
  EXPECT_NE(transport.sent_binary[0].find("earlier-page-8"), std::string::npos);
}

// A tab taking over a shared connection starts its channels where the previous engine was: the subscribe asks
// for recovery from that position; a channel that has its own position keeps it.
TEST_F(EngineTest, SetPositionMakesTheFirstSubscribeRecover) {
  std::uint32_t id = 0;
  engine->subscribe("a", id);
  engine->set_position(id, 41, "e1");
  engine->set_position(id, 7, "e0");  // ignored: it has a position
  accept();
  ASSERT_FALSE(transport.sent.empty());
  EXPECT_NE(transport.sent[0].find(R"("since":{"offset":41,"epoch":"e1"})"), std::string::npos) << transport.sent[0];
}

TEST_F(EngineTest, ServerErrorForAPublishIsReportedAsAFailedAck) {
  std::uint32_t id = 0, r = 0;
  engine->subscribe("a", id);
  accept();
  engine->publish("a", "e", "1", r);
  engine->on_socket_message(transport.current(),
                            R"({"type":"error","code":"not_subscribed","message":"x","ref":"p1"})", false);
  ASSERT_EQ(listener.acks.size(), 1u);
  EXPECT_FALSE(listener.acks[0].ok);
  EXPECT_EQ(listener.acks[0].code, "not_subscribed");
  EXPECT_EQ(engine->inflight_count(), 0u);
}

TEST_F(EngineTest, HeartbeatPingsMeasuresLatencyAndProbesASilentSocketBeforeDeclaringItDead) {
  std::uint32_t id = 0;
  engine->subscribe("a", id);
  accept();
  transport.sent.clear();
  tick(30000);
  ASSERT_EQ(transport.sent.size(), 1u);
  EXPECT_NE(transport.sent[0].find(R"("type":"ping")"), std::string::npos);
  engine->on_socket_message(transport.current(), R"({"type":"pong","ts":)" + std::to_string(clock.now_ - 40) + "}",
                            false);
  EXPECT_NEAR(engine->metrics().last_latency_ms, 40, 0.001);
  // 60 s of silence: not dead yet, but a probe goes out...
  tick(30000);
  tick(30000);
  EXPECT_EQ(engine->state(), ConnectionState::kConnected);
  EXPECT_EQ(engine->metrics().probes, 1u);
  // ...and only an unanswered probe declares the socket dead.
  tick(4999);
  EXPECT_EQ(engine->state(), ConnectionState::kConnected);
  tick(1);
  EXPECT_EQ(engine->state(), ConnectionState::kReconnecting);
}

TEST_F(EngineTest, AnAnsweredProbeKeepsTheConnection) {
  std::uint32_t id = 0;
  engine->subscribe("a", id);
  accept();
  engine->set_page_visible(true);  // visible again: probe at once
  EXPECT_EQ(engine->metrics().probes, 1u);
  ASSERT_FALSE(transport.sent.empty());
  EXPECT_NE(transport.sent.back().find(R"("type":"ping")"), std::string::npos);
  tick(1000);
  engine->on_socket_message(transport.current(), R"({"type":"pong","ts":1})", false);
  tick(10000);
  EXPECT_EQ(engine->state(), ConnectionState::kConnected);
}

TEST_F(EngineTest, ThrottledTimersCauseNoFalseTimeout) {
  std::uint32_t id = 0;
  engine->subscribe("a", id);
  accept();
  // A background tab: the timer fires 90 s late, but data kept arriving meanwhile.
  for (int i = 0; i < 9; ++i) {
    clock.advance(10000);
    engine->on_socket_message(transport.current(), R"({"type":"pong"})", false);
  }
  engine->advance();
  EXPECT_EQ(engine->state(), ConnectionState::kConnected);
  EXPECT_EQ(engine->metrics().probes, 0u);
}

TEST_F(EngineTest, ATimeJumpFromSleepTriggersAProbeAndAZombieSocketIsReplaced) {
  std::uint32_t id = 0;
  engine->subscribe("a", id);
  accept();
  tick(1000);
  clock.sleep(10 * 60 * 1000);  // laptop lid closed for 10 minutes: monotonic time stood still
  tick(10);
  EXPECT_EQ(engine->metrics().probes, 1u);
  EXPECT_EQ(engine->state(), ConnectionState::kConnected);
  tick(5000);  // nobody answered: a zombie
  EXPECT_EQ(engine->state(), ConnectionState::kReconnecting);
}

TEST_F(EngineTest, HiddenPageClosesAfterADelayAndVisibleReconnectsWithSubscriptionsAndOutbox) {
  std::uint32_t id = 0, r = 0;
  engine->subscribe("a", id);
  accept();
  engine->set_page_visible(false);
  tick(999);
  EXPECT_EQ(engine->state(), ConnectionState::kConnected);
  tick(1);
  EXPECT_EQ(engine->state(), ConnectionState::kDisconnected);
  EXPECT_EQ(transport.closes.back().reason, "page hidden");
  engine->publish("a", "e", "1", r);  // kept for later
  tick(600000);
  EXPECT_EQ(transport.opens.size(), 1u);  // no reconnect while hidden
  engine->set_page_visible(true);
  ASSERT_EQ(transport.opens.size(), 2u);
  transport.sent.clear();
  accept();
  ASSERT_EQ(transport.sent.size(), 2u);
  EXPECT_NE(transport.sent[0].find(R"("type":"subscribe")"), std::string::npos);
  EXPECT_NE(transport.sent[1].find(R"("ref":"p1")"), std::string::npos);
}

TEST_F(EngineTest, AQuickTabSwitchKeepsTheSocket) {
  std::uint32_t id = 0;
  engine->subscribe("a", id);
  accept();
  engine->set_page_visible(false);
  tick(500);
  engine->set_page_visible(true);  // probes the socket, which answers
  engine->on_socket_message(transport.current(), R"({"type":"pong"})", false);
  tick(5000);
  EXPECT_EQ(engine->state(), ConnectionState::kConnected);
  EXPECT_EQ(transport.opens.size(), 1u);
}

TEST_F(EngineTest, OfflineDisconnectsWithoutBurningAttemptsAndOnlineReconnectsAtOnce) {
  auto c = config();
  c.max_reconnect_attempts = 1;
  make(c);
  std::uint32_t id = 0;
  engine->subscribe("a", id);
  accept();
  engine->set_online(false);
  EXPECT_EQ(engine->state(), ConnectionState::kDisconnected);
  tick(600000);
  EXPECT_EQ(transport.opens.size(), 1u);
  EXPECT_EQ(engine->reconnect_attempts(), 0u);
  engine->set_online(true);
  EXPECT_EQ(transport.opens.size(), 2u);  // at once, no backoff
  EXPECT_EQ(engine->state(), ConnectionState::kConnecting);
}

TEST_F(EngineTest, AServerRetryHintDelaysTheReconnect) {
  std::uint32_t id = 0;
  engine->subscribe("a", id);
  accept();
  engine->on_socket_close(transport.current(), 1001, "server shutting down; retry_after_ms=3000");
  tick(3499);  // hint 3000 + jitter 0.5 * 1000
  EXPECT_EQ(transport.opens.size(), 1u);
  tick(1);
  EXPECT_EQ(transport.opens.size(), 2u);
}

TEST_F(EngineTest, UnackedSendsTimeOutAndQueuedSendsExpireByTtl) {
  std::uint32_t id = 0, r1 = 0, r2 = 0;
  engine->subscribe("a", id);
  ASSERT_EQ(engine->publish("a", "e", "1", r1, 2000), Status::kOk);  // queued with a 2 s TTL
  tick(2000);
  ASSERT_EQ(listener.acks.size(), 1u);
  EXPECT_EQ(listener.acks[0].code, "expired");
  EXPECT_EQ(engine->outbox_size(), 0u);
  accept();
  engine->publish("a", "e", "2", r2);
  tick(9999);
  EXPECT_EQ(listener.acks.size(), 1u);
  tick(1);
  ASSERT_EQ(listener.acks.size(), 2u);
  EXPECT_EQ(listener.acks[1].ref, r2);
  EXPECT_EQ(listener.acks[1].code, "timeout");
  // A late ack for a timed-out message is ignored.
  engine->on_socket_message(transport.current(), R"({"type":"ack","ref":"p2","channel":"a","offset":1})", false);
  EXPECT_EQ(listener.acks.size(), 2u);
}

TEST_F(EngineTest, TheOutboxCanBeInspectedAndCleared) {
  std::uint32_t id = 0, r = 0;
  engine->subscribe("a", id);
  engine->publish("a", "e1", "1", r);
  engine->publish("a", "e2", "[2]", r);
  auto entries = engine->outbox_entries();
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].event, "e1");
  EXPECT_FALSE(entries[0].in_flight);
  EXPECT_EQ(engine->clear_outbox(), 2u);
  ASSERT_EQ(listener.acks.size(), 2u);
  EXPECT_EQ(listener.acks[0].code, "cleared");
  EXPECT_TRUE(engine->outbox_entries().empty());
}

TEST_F(EngineTest, ResubscribesWithItsRecoveryPositionAndReportsGaps) {
  std::uint32_t id = 0;
  engine->subscribe("a", id);
  accept();
  engine->on_socket_message(transport.current(),
                            R"({"type":"subscribed","channel":"a","ref":"s1","offset":4,"epoch":"E1"})", false);
  engine->on_socket_message(
      transport.current(), R"({"type":"channel_message","channel":"a","event":"e","offset":5,"epoch":"E1","payload":1})",
      false);
  engine->on_socket_close(transport.current(), 1006, "");
  tick(10000);
  transport.sent.clear();
  accept();
  ASSERT_EQ(transport.sent.size(), 1u);
  EXPECT_EQ(transport.sent[0],
            R"({"type":"subscribe","channel":"a","ref":"s1","since":{"offset":5,"epoch":"E1"}})");
  // Recovered: the replay overlaps what we have; duplicates are dropped, the rest delivered in order.
  engine->on_socket_message(transport.current(),
                            R"({"type":"subscribed","channel":"a","ref":"s1","offset":7,"epoch":"E1","recovered":true})"
                            "\n"
                            R"({"type":"channel_message","channel":"a","event":"e","offset":5,"epoch":"E1","payload":1})"
                            "\n"
                            R"({"type":"channel_message","channel":"a","event":"e","offset":6,"epoch":"E1","payload":2})"
                            "\n"
                            R"({"type":"channel_message","channel":"a","event":"e","offset":7,"epoch":"E1","payload":3})",
                            false);
  ASSERT_EQ(listener.messages.size(), 3u);
  EXPECT_EQ(listener.messages[1].payload, "2");
  EXPECT_EQ(listener.messages[2].offset, 7u);
  EXPECT_EQ(engine->metrics().duplicates_dropped, 1u);
  EXPECT_TRUE(listener.gaps.empty());

  // Not recovered (the server lost its history): a gap event, and the channel continues from the new position.
  engine->on_socket_close(transport.current(), 1006, "");
  tick(10000);
  accept();
  engine->on_socket_message(
      transport.current(),
      R"({"type":"subscribed","channel":"a","ref":"s1","offset":2,"epoch":"E2","recovered":false,"reason":"epoch_changed"})",
      false);
  ASSERT_EQ(listener.gaps.size(), 1u);
  EXPECT_EQ(listener.gaps[0].first, id);
  EXPECT_EQ(listener.gaps[0].second, "epoch_changed");
  engine->on_socket_message(
      transport.current(), R"({"type":"channel_message","channel":"a","event":"e","offset":3,"epoch":"E2","payload":9})",
      false);
  EXPECT_EQ(listener.messages.back().payload, "9");
  EXPECT_EQ(engine->metrics().gaps, 1u);
}

// A `subscribed` without a ref is a push: the server lost part of the stream for this live subscription (several
// nodes, the missed entries trimmed): a gap, and delivery goes on after the given offset.
TEST_F(EngineTest, ASubscribedPushWithoutRefIsAGapOfALiveSubscription) {
  std::uint32_t id = 0;
  engine->subscribe("a", id);
  accept();
  engine->on_socket_message(transport.current(),
                            R"({"type":"subscribed","channel":"a","ref":"s1","offset":4,"epoch":"E1"})", false);
  engine->on_socket_message(
      transport.current(),
      R"({"type":"subscribed","channel":"a","offset":9,"epoch":"E1","recovered":false,"reason":"window_exceeded"})",
      false);
  ASSERT_EQ(listener.gaps.size(), 1u);
  EXPECT_EQ(listener.gaps[0].second, "window_exceeded");
  EXPECT_EQ(listener.subscribed.size(), 1u);  // not a new subscription
  engine->on_socket_message(
      transport.current(), R"({"type":"channel_message","channel":"a","event":"e","offset":9,"epoch":"E1","payload":1})",
      false);
  EXPECT_TRUE(listener.messages.empty());  // at or before the position given: already accounted for
  engine->on_socket_message(
      transport.current(), R"({"type":"channel_message","channel":"a","event":"e","offset":10,"epoch":"E1","payload":2})",
      false);
  ASSERT_EQ(listener.messages.size(), 1u);
  EXPECT_EQ(engine->metrics().gaps, 1u);
}

// Live traffic in a new epoch while subscribed (a broker lost the stream, e.g. a Redis restart): what came
// between is gone, so the channel reports an epoch_changed gap before the message, once.
TEST_F(EngineTest, LiveTrafficInANewEpochIsAGap) {
  std::uint32_t id = 0;
  engine->subscribe("a", id);
  accept();
  engine->on_socket_message(transport.current(),
                            R"({"type":"subscribed","channel":"a","ref":"s1","offset":4,"epoch":"E1"})", false);
  engine->on_socket_message(
      transport.current(), R"({"type":"channel_message","channel":"a","event":"e","offset":5,"epoch":"E1","payload":1})",
      false);
  EXPECT_TRUE(listener.gaps.empty());
  engine->on_socket_message(
      transport.current(), R"({"type":"channel_message","channel":"a","event":"e","offset":1,"epoch":"E2","payload":2})",
      false);
  ASSERT_EQ(listener.gaps.size(), 1u);
  EXPECT_EQ(listener.gaps[0].second, "epoch_changed");
  ASSERT_EQ(listener.messages.size(), 2u);  // delivered, not taken for a duplicate of offset 1
  EXPECT_EQ(listener.messages[1].payload, "2");
  engine->on_socket_message(
      transport.current(), R"({"type":"channel_message","channel":"a","event":"e","offset":2,"epoch":"E2","payload":3})",
      false);
  EXPECT_EQ(listener.gaps.size(), 1u);
  EXPECT_EQ(engine->metrics().gaps, 1u);
}

TEST_F(EngineTest, RefreshesTheTokenInBandBeforeItExpires) {
  std::uint32_t id = subscribe_with_token_provider();
  engine->set_token("t1");
  engine->on_socket_open(transport.current());
  const double expires = clock.wall_ms() + 600000;  // 10 minutes
  engine->on_socket_message(transport.current(),
                            R"({"type":"auth_success","version":1,"connectionId":"c","expiresAt":)" +
                                std::to_string(static_cast<long long>(expires)) + "}",
                            false);
  EXPECT_EQ(listener.token_requests, 1);
  tick(539999);  // lead = min(60 s, 600 s / 5)
  EXPECT_EQ(listener.token_requests, 1);
  tick(1);
  EXPECT_EQ(listener.token_requests, 2);
  transport.sent.clear();
  engine->set_token("t2");
  ASSERT_EQ(transport.sent.size(), 1u);
  EXPECT_EQ(transport.sent[0], R"({"type":"auth","token":"t2","ref":"a1"})");
  EXPECT_EQ(transport.opens.size(), 1u);  // same socket
}

TEST_F(EngineTest, BinaryMessagesBothWays) {
  std::uint32_t id = 0, r = 0;
  engine->subscribe("a", id);
  accept();
  const std::string bytes("\x00\x01\xff\n", 4);
  ASSERT_EQ(engine->publish_binary("a", "blob", bytes, r), Status::kOk);
  ASSERT_EQ(transport.sent_binary.size(), 1u);
  EXPECT_EQ(transport.sent_binary[0][0], 1);
  EXPECT_EQ(transport.sent_binary[0].substr(transport.sent_binary[0].size() - 4), bytes);

  std::string frame;
  frame.push_back(1);
  frame += std::string("\x01" "a", 2) + std::string("\x04" "blob", 5);
  for (int i = 0; i < 8; ++i) frame.push_back(i == 0 ? 9 : 0);   // offset 9
  for (int i = 0; i < 8; ++i) frame.push_back(0);                 // ts 0
  frame += std::string("\x03" "bob", 4) + std::string("\x02" "E1", 3) + bytes;
  engine->on_socket_message(transport.current(), frame, true);
  ASSERT_EQ(listener.binaries.size(), 1u);
  EXPECT_EQ(listener.binaries[0].event, "blob");
  EXPECT_EQ(listener.binaries[0].payload, bytes);
  EXPECT_EQ(listener.binaries[0].offset, 9u);

  // A truncated binary frame is an error event, not a crash.
  engine->on_socket_message(transport.current(), frame.substr(0, 10), true);
  EXPECT_EQ(listener.errors.back(), "bad_frame");
  // Kind 0x00 carries a JSON batch.
  engine->on_socket_message(transport.current(),
                            std::string("\x00", 1) + R"({"type":"channel_message","channel":"a","event":"e","payload":5})",
                            true);
  EXPECT_EQ(listener.messages.back().payload, "5");
}

// Protocol v2 compact batches (PROTOCOL.md 13.1): records in order, control messages among channel messages,
// the same dedupe by offset as text, spans that locate the payload in the frame's text, bad records reported.
TEST_F(EngineTest, CompactBatchesKeepOrderAndDedupe) {
  std::uint32_t id = 0, r = 0;
  engine->subscribe("a", id);
  accept();
  ASSERT_EQ(engine->publish("a", "e", "1", r), Status::kOk);
  const auto msg = [](std::uint64_t offset, std::string_view payload) {
    proto::CompactMessage m;
    m.channel = "a";
    m.event = "chat";
    m.epoch = "E1";
    m.offset = offset;
    m.ts_ms = 1000;
    m.from = "bob";
    m.payload = payload;
    std::string out;
    proto::encode_compact_message(out, m);
    return out;
  };
  std::string frame(1, '\x02');
  frame += msg(1, "10");
  proto::encode_compact_json(frame, R"({"type":"ack","ref":"p1","channel":"a","offset":2})");
  frame += msg(2, R"({"t":"é"})");
  frame += msg(2, "99");  // a duplicate (replay overlapping live): dropped
  frame += msg(3, "30");
  engine->on_socket_message(transport.current(), frame, true);
  ASSERT_EQ(listener.messages.size(), 3u);
  EXPECT_EQ(listener.messages[0].payload, "10");
  EXPECT_EQ(listener.messages[1].payload, R"({"t":"é"})");
  EXPECT_EQ(listener.messages[2].offset, 3u);
  EXPECT_EQ(listener.messages[1].event, "chat");
  ASSERT_EQ(listener.acks.size(), 1u);
  EXPECT_EQ(listener.messages_before_ack[0], 1u);  // between the first and the second message
  EXPECT_EQ(engine->metrics_snapshot().duplicates_dropped, 1);
  ASSERT_EQ(listener.spans.size(), 3u);
  EXPECT_EQ(listener.spans[0].frame_seq, listener.spans[2].frame_seq);
  EXPECT_EQ(listener.spans[1].payload_units, 9u);  // {"t":"é"}: 10 bytes, é is one UTF-16 unit
  EXPECT_EQ(listener.spans[1].from_units, 3u);

  // The next frame continues from offset 3 (text or compact alike); a truncated record is a bad_frame.
  const std::string next = std::string(1, '\x02') + msg(4, "40");
  engine->on_socket_message(transport.current(), next.substr(0, next.size() - 3), true);
  EXPECT_EQ(listener.errors.back(), "bad_frame");
  engine->on_socket_message(transport.current(), next, true);
  EXPECT_EQ(listener.messages.back().payload, "40");
  EXPECT_NE(listener.spans.back().frame_seq, listener.spans[0].frame_seq);
}

// The registry checks the last channel found first: a removed channel must not be found through it.
TEST_F(EngineTest, AChannelReleasedAndSubscribedAgainIsANewChannel) {
  std::uint32_t first = 0, second = 0;
  engine->subscribe("a", first);
  accept();
  const std::string line = R"({"type":"channel_message","channel":"a","event":"e","payload":1})";
  engine->on_socket_message(transport.current(), line, false);
  ASSERT_EQ(listener.messages.size(), 1u);
  engine->unsubscribe(first);
  engine->on_socket_message(transport.current(), line, false);
  EXPECT_EQ(listener.messages.size(), 1u);  // not subscribed any more
  engine->subscribe("a", second);
  EXPECT_NE(second, first);
  engine->on_socket_message(transport.current(), line, false);
  ASSERT_EQ(listener.messages.size(), 2u);
  EXPECT_EQ(listener.messages.back().channel_id, second);
}

TEST_F(EngineTest, TooManyConnectionsStops) {
  std::uint32_t id = 0;
  engine->subscribe("a", id);
  engine->on_socket_open(transport.current());
  engine->on_socket_close(transport.current(), 4005, "too many connections for this user");
  EXPECT_EQ(engine->state(), ConnectionState::kError);
  EXPECT_EQ(listener.errors.back(), "too_many_connections");
}

TEST_F(EngineTest, AuthFailureWithAStaticTokenStopsWithAnError) {
  std::uint32_t id = 0;
  engine->subscribe("a", id);
  engine->on_socket_close(transport.current(), 4001, "invalid token");
  EXPECT_EQ(engine->state(), ConnectionState::kError);
  ASSERT_EQ(listener.errors.size(), 1u);
  EXPECT_EQ(listener.errors[0], "auth_failed");
  tick(120000);
  EXPECT_EQ(transport.opens.size(), 1u);  // no retry loop
  engine->reconnect();
  EXPECT_EQ(transport.opens.size(), 2u);
}

TEST_F(EngineTest, AuthFailureWithATokenProviderRefreshesOnceThenStops) {
  std::uint32_t id = subscribe_with_token_provider();
  EXPECT_EQ(listener.token_requests, 1);
  EXPECT_TRUE(transport.opens.empty());  // waits for the provider
  engine->set_token("t1");
  ASSERT_EQ(transport.opens.size(), 1u);
  EXPECT_EQ(transport.opens[0].protocols[1], "t1");
  engine->on_socket_close(transport.current(), 4001, "bad");
  EXPECT_EQ(listener.token_requests, 2);
  engine->set_token("t2");
  ASSERT_EQ(transport.opens.size(), 2u);
  engine->on_socket_close(transport.current(), 4001, "bad");
  EXPECT_EQ(engine->state(), ConnectionState::kError);
  EXPECT_EQ(listener.token_requests, 2);
}

TEST_F(EngineTest, TerminalCloseCodesStopAndMaxAttemptsEndInError) {
  auto c = config();
  c.max_reconnect_attempts = 2;
  make(c);
  std::uint32_t id = 0;
  engine->subscribe("a", id);
  engine->on_socket_close(transport.current(), 1006, "");
  tick(100000);
  engine->on_socket_close(transport.current(), 1006, "");
  tick(100000);
  engine->on_socket_close(transport.current(), 1006, "");
  EXPECT_EQ(engine->state(), ConnectionState::kError);
  EXPECT_EQ(transport.opens.size(), 3u);

  make(config());
  engine->subscribe("a", id);
  engine->on_socket_close(transport.current(), 4006, "unsupported version");
  EXPECT_EQ(engine->state(), ConnectionState::kError);
}

TEST_F(EngineTest, AuthTimeoutCountsAsAFailedAttempt) {
  std::uint32_t id = 0;
  engine->subscribe("a", id);
  engine->on_socket_open(transport.current());
  tick(5000);
  EXPECT_EQ(engine->state(), ConnectionState::kReconnecting);
  EXPECT_EQ(engine->metrics().connection_failures, 1u);
}

TEST_F(EngineTest, BadFramesFromTheServerAreReportedNotFatal) {
  std::uint32_t id = 0;
  engine->subscribe("a", id);
  accept();
  engine->on_socket_message(transport.current(), "not json\n{\"type\":\n[1,2]\n{\"no\":\"type\"}", false);
  EXPECT_EQ(listener.errors.size(), 4u);
  engine->on_socket_message(transport.current(),
                            R"({"type":"channel_message","channel":"a","event":"e\u0041","payload":1})", false);
  ASSERT_EQ(listener.messages.size(), 1u);
  EXPECT_EQ(listener.messages[0].event, "eA");  // escaped names take the slow path correctly
  EXPECT_EQ(engine->state(), ConnectionState::kConnected);
}

TEST_F(EngineTest, StateTransitionsAreReportedWithFromAndTo) {
  std::uint32_t id = 0;
  engine->subscribe("a", id);
  accept();
  ASSERT_EQ(listener.transitions.size(), 3u);
  EXPECT_EQ(listener.transitions[0].from, ConnectionState::kIdle);
  EXPECT_EQ(listener.transitions[0].to, ConnectionState::kConnecting);
  EXPECT_EQ(listener.transitions[1].to, ConnectionState::kAuthenticating);
  EXPECT_EQ(listener.transitions[2].to, ConnectionState::kConnected);
  engine->disconnect();
  EXPECT_EQ(listener.transitions.back().to, ConnectionState::kDisconnected);
  tick(100000);
  EXPECT_EQ(transport.opens.size(), 1u);  // a deliberate disconnect does not reconnect
}

TEST_F(EngineTest, RequestsAreAnsweredByReplyOrErrorAndQueueWhileDisconnected) {
  std::uint32_t id = 0, r1 = 0, r2 = 0, r3 = 0;
  engine->subscribe("a", id);
  ASSERT_EQ(engine->request("chat_send", R"({"roomId":"7","text":"hi"})", r1), Status::kOk);
  ASSERT_EQ(engine->request("presence_get", " {} ", r2), Status::kOk);
  EXPECT_EQ(engine->request("Bad Type", "{}", r3), Status::kInvalidRequest);
  EXPECT_EQ(engine->request("chat_send", "[1]", r3), Status::kInvalidRequest);
  accept();
  ASSERT_EQ(transport.sent.size(), 3u);
  EXPECT_EQ(transport.sent[1], R"({"type":"chat_send","ref":"r1","roomId":"7","text":"hi"})");
  EXPECT_EQ(transport.sent[2], R"({"type":"presence_get","ref":"r2"})");
  engine->on_socket_message(transport.current(), R"({"type":"reply","ref":"r1","data":{"message":{"id":"5"}}})",
                            false);
  engine->on_socket_message(transport.current(),
                            R"({"type":"error","code":"forbidden","message":"no","ref":"r2"})", false);
  ASSERT_EQ(listener.replies.size(), 2u);
  EXPECT_TRUE(listener.replies[0].ok);
  EXPECT_EQ(listener.replies[0].ref, r1);
  EXPECT_EQ(listener.replies[0].data, R"({"message":{"id":"5"}})");
  EXPECT_FALSE(listener.replies[1].ok);
  EXPECT_EQ(listener.replies[1].code, "forbidden");
  EXPECT_TRUE(listener.acks.empty());
}

TEST_F(EngineTest, PresenceDiffsReachTheListenerForSubscribedChannelsOnly) {
  std::uint32_t id = 0;
  engine->subscribe("a", id);
  accept();
  engine->on_socket_message(transport.current(),
                            R"({"type":"presence_diff","channel":"a","joins":[{"userId":"u"}]})"
                            "\n"
                            R"({"type":"presence_diff","channel":"zzz","joins":[]})",
                            false);
  ASSERT_EQ(listener.presence_diffs.size(), 1u);
  EXPECT_EQ(listener.presence_diffs[0].first, id);
}

TEST_F(EngineTest, RemembersTheAuthenticatedUser) {
  std::uint32_t id = 0;
  engine->subscribe("a", id);
  engine->on_socket_open(transport.current());
  engine->on_socket_message(transport.current(),
                            R"({"type":"auth_success","version":1,"connectionId":"c-10","userId":"alice"})", false);
  EXPECT_EQ(engine->user_id(), "alice");
  engine->on_socket_close(transport.current(), 1006, "");
  EXPECT_EQ(engine->user_id(), "alice");  // still known while reconnecting
}

TEST_F(EngineTest, NoticesGoOutOnlyWhileConnectedAndAreNeverQueued) {
  std::uint32_t id = 0;
  engine->subscribe("a", id);
  EXPECT_EQ(engine->notify("chat_typing", R"({"roomId":"1","typing":true})"), Status::kNotConnected);
  EXPECT_EQ(engine->outbox_size(), 0u);
  accept();
  transport.sent.clear();
  EXPECT_EQ(engine->notify("chat_typing", R"({"roomId":"1","typing":true})"), Status::kOk);
  ASSERT_EQ(transport.sent.size(), 1u);
  EXPECT_EQ(transport.sent[0], R"({"type":"chat_typing","roomId":"1","typing":true})");
  EXPECT_EQ(engine->inflight_count(), 0u);  // nothing waits for an answer
  EXPECT_EQ(engine->notify("Bad", "{}"), Status::kInvalidRequest);
}

TEST_F(EngineTest, TheConnectUrlKeepsWhatTheApplicationSet) {
  auto c = config();
  c.url = "wss://h/ws?nav=2&binary=0";
  make(c);
  std::uint32_t id = 0;
  engine->subscribe("a", id);
  EXPECT_EQ(transport.opens.back().url, "wss://h/ws?nav=2&binary=0&v=1&compact=1");
}

// The outbox's vector-backed queue: order, byte accounting and removal from anywhere.
namespace {
OutboxItem item(std::uint32_t ref, std::size_t bytes = 1) {
  OutboxItem i;
  i.ref = ref;
  i.frame.assign(bytes, 'x');
  return i;
}
std::vector<std::uint32_t> refs(const Outbox& box) {
  std::vector<std::uint32_t> out;
  box.for_each([&](const OutboxItem& i) { out.push_back(i.ref); });
  return out;
}
}  // namespace

TEST(OutboxQueue, KeepsOrderThroughPopsPushFrontAndReclaim) {
  Outbox box(1000, 1 << 20);
  for (std::uint32_t r = 1; r <= 40; ++r) box.push_back(item(r, r));
  for (std::uint32_t r = 1; r <= 30; ++r) EXPECT_EQ(box.pop_front().ref, r);  // reclaims on the way
  EXPECT_EQ(box.size(), 10u);
  box.push_front(item(30, 30));
  box.push_front(item(29, 29));
  std::vector<std::uint32_t> want;
  for (std::uint32_t r = 29; r <= 40; ++r) want.push_back(r);
  EXPECT_EQ(refs(box), want);
  std::size_t bytes = 0;
  for (std::uint32_t r = 29; r <= 40; ++r) bytes += r;
  EXPECT_EQ(box.bytes(), bytes);
  while (!box.empty()) box.pop_front();
  EXPECT_EQ(box.bytes(), 0u);
  box.push_front(item(7));  // push_front into an empty, reset queue
  box.push_front(item(6));
  EXPECT_EQ(refs(box), (std::vector<std::uint32_t>{6, 7}));
}

TEST(OutboxQueue, PrependPutsItemsAheadInOrderAndEmptiesTheSource) {
  Outbox box(1000, 1 << 20);
  box.push_back(item(10, 2));
  box.push_back(item(11, 2));
  box.pop_front();
  ItemQueue inflight;
  inflight.push_back(item(1, 3));
  inflight.push_back(item(2, 3));
  inflight.push_back(item(3, 3));
  inflight.take_front();
  box.prepend(inflight);
  EXPECT_TRUE(inflight.empty());
  EXPECT_EQ(refs(box), (std::vector<std::uint32_t>{2, 3, 11}));
  EXPECT_EQ(box.bytes(), 8u);
}

TEST(OutboxQueue, RemoveIfTakesFromAnywhereAndVisitsItemsPushedByTheCallback) {
  Outbox box(1000, 1 << 20);
  for (std::uint32_t r = 1; r <= 6; ++r) box.push_back(item(r));
  box.pop_front();
  std::vector<std::uint32_t> removed;
  box.remove_if([](const OutboxItem& i) { return i.ref % 2 == 0 || i.ref == 100; },
                [&](const OutboxItem& i) {
                  removed.push_back(i.ref);
                  if (i.ref == 4) box.push_back(item(100));  // re-entrant push while walking
                });
  EXPECT_EQ(removed, (std::vector<std::uint32_t>{2, 4, 6, 100}));
  EXPECT_EQ(refs(box), (std::vector<std::uint32_t>{3, 5}));
  EXPECT_EQ(box.bytes(), 2u);
}

TEST(OutboxQueue, TakeFromTheMiddleKeepsTheRestInOrder) {
  ItemQueue q;
  for (std::uint32_t r = 1; r <= 5; ++r) q.push_back(item(r));
  EXPECT_EQ(q.take(2).ref, 3u);
  EXPECT_EQ(q.take(0).ref, 1u);
  std::vector<std::uint32_t> got;
  for (const OutboxItem& i : q) got.push_back(i.ref);
  EXPECT_EQ(got, (std::vector<std::uint32_t>{2, 4, 5}));
}

// --- Issue 12: recovery after the server (or the token endpoint) was down ------------------------------------

TEST_F(EngineTest, AFailingTokenProviderIsRetriedWithTheBackoffAndCountsAsAnAttempt) {
  std::uint32_t id = subscribe_with_token_provider(3);
  ASSERT_EQ(listener.token_requests, 1);
  // fetch('/dev/token') failed while the server was down: transient, reported, retried.
  engine->token_failed("TypeError: Failed to fetch");
  EXPECT_EQ(engine->state(), ConnectionState::kReconnecting);
  ASSERT_EQ(listener.errors.size(), 1u);
  EXPECT_EQ(listener.errors[0], "token_provider_failed");
  EXPECT_NE(listener.error_messages[0].find("Failed to fetch"), std::string::npos);
  EXPECT_EQ(engine->reconnect_attempts(), 1u);
  tick(499);  // the socket's backoff: 0.5 * min(30 s, 1 s * 2^0)
  EXPECT_EQ(listener.token_requests, 1);
  tick(1);
  EXPECT_EQ(listener.token_requests, 2);
  engine->token_failed("HTTP 503");
  tick(999);  // 0.5 * 2 s
  EXPECT_EQ(listener.token_requests, 2);
  tick(1);
  EXPECT_EQ(listener.token_requests, 3);
  // The server is back: the token arrives, the socket opens, the attempt counter resets.
  engine->set_token("t1");
  accept();
  EXPECT_EQ(engine->state(), ConnectionState::kConnected);
  EXPECT_EQ(engine->reconnect_attempts(), 0u);
  EXPECT_TRUE(transport.closes.empty());
}

TEST_F(EngineTest, ATokenProviderThatKeepsFailingRespectsMaxReconnectAttemptsThenOnlineStartsAFreshCycle) {
  std::uint32_t id = subscribe_with_token_provider(2);
  engine->token_failed("down");
  tick(100000);
  engine->token_failed("down");
  tick(100000);
  engine->token_failed("down");
  EXPECT_EQ(engine->state(), ConnectionState::kError);
  EXPECT_EQ(listener.errors.back(), "reconnect_failed");
  EXPECT_EQ(listener.token_requests, 3);
  tick(1000000);
  EXPECT_EQ(listener.token_requests, 3);  // stopped
  // The browser's `online` event, although it never reported offline (the server, not the network, was down).
  engine->set_online(true);
  EXPECT_EQ(engine->state(), ConnectionState::kConnecting);
  EXPECT_EQ(listener.token_requests, 4);
  EXPECT_EQ(engine->reconnect_attempts(), 0u);
  engine->set_token("t");
  accept();
  EXPECT_EQ(engine->state(), ConnectionState::kConnected);
}

TEST_F(EngineTest, ATokenProviderThatResolvesToNullIsTerminalUntilVisibleOnlineOrReconnect) {
  auto c = config();
  c.token_provider = true;
  make(c);
  std::uint32_t id = 0, ref = 0;
  engine->subscribe("a", id);
  ASSERT_EQ(engine->publish("a", "e", "1", ref), Status::kOk);
  engine->token_refused("the token provider returned null");
  EXPECT_EQ(engine->state(), ConnectionState::kError);
  ASSERT_EQ(listener.errors.size(), 1u);
  EXPECT_EQ(listener.errors[0], "auth_failed");
  ASSERT_EQ(listener.acks.size(), 1u);  // the queued send fails: nobody to send it as
  EXPECT_EQ(listener.acks[0].code, "auth_failed");
  tick(1000000);
  EXPECT_EQ(listener.token_requests, 1);  // no retry loop

  engine->set_page_visible(true);  // becoming visible starts a fresh cycle
  EXPECT_EQ(listener.token_requests, 2);
  EXPECT_EQ(engine->state(), ConnectionState::kConnecting);
  engine->token_refused("");
  EXPECT_EQ(engine->state(), ConnectionState::kError);

  engine->set_online(false);
  engine->set_online(true);  // so does coming back online
  EXPECT_EQ(listener.token_requests, 3);
  engine->token_refused("");

  engine->reconnect();  // and reconnect()
  EXPECT_EQ(listener.token_requests, 4);
  engine->set_token("t");
  accept();
  EXPECT_EQ(engine->state(), ConnectionState::kConnected);
}

TEST_F(EngineTest, AnAuthFailureAfterAFreshTokenIsTerminalButOnlineStartsAFreshCycle) {
  std::uint32_t id = subscribe_with_token_provider();
  engine->set_token("t1");
  engine->on_socket_close(transport.current(), 4001, "bad");
  engine->set_token("t2");  // the fresh token is refused too
  engine->on_socket_close(transport.current(), 4001, "bad");
  EXPECT_EQ(engine->state(), ConnectionState::kError);
  EXPECT_EQ(listener.errors.back(), "auth_failed");
  engine->set_online(true);
  EXPECT_EQ(listener.token_requests, 3);
  engine->set_token("t3");
  engine->on_socket_close(transport.current(), 4001, "bad");  // one fresh token per cycle again
  EXPECT_EQ(listener.token_requests, 4);
}

TEST_F(EngineTest, AStaleTokenFailureIsIgnored) {
  std::uint32_t id = subscribe_with_token_provider();
  engine->disconnect();
  engine->token_failed("late");
  engine->token_refused("late");
  EXPECT_EQ(engine->state(), ConnectionState::kDisconnected);
  EXPECT_TRUE(listener.errors.empty());
  tick(100000);
  EXPECT_EQ(listener.token_requests, 1);
}

TEST_F(EngineTest, AFailedInBandRefreshIsRetriedWhileTheConnectionStays) {
  std::uint32_t id = subscribe_with_token_provider();
  engine->set_token("t1");
  engine->on_socket_open(transport.current());
  const double expires = clock.wall_ms() + 600000;
  engine->on_socket_message(transport.current(),
                            R"({"type":"auth_success","version":1,"connectionId":"c","expiresAt":)" +
                                std::to_string(static_cast<long long>(expires)) + "}",
                            false);
  tick(540000);
  ASSERT_EQ(listener.token_requests, 2);
  engine->token_failed("HTTP 502");
  EXPECT_EQ(engine->state(), ConnectionState::kConnected);
  EXPECT_EQ(listener.errors.back(), "token_provider_failed");
  tick(1000);
  EXPECT_EQ(listener.token_requests, 3);
  transport.sent.clear();
  engine->set_token("t2");
  ASSERT_EQ(transport.sent.size(), 1u);
  EXPECT_EQ(transport.sent[0], R"({"type":"auth","token":"t2","ref":"a1"})");
  EXPECT_EQ(transport.opens.size(), 1u);
}

TEST_F(EngineTest, OnlineWhileWaitingForARetryConnectsAtOnce) {
  std::uint32_t id = 0;
  engine->subscribe("a", id);
  accept();
  engine->on_socket_close(transport.current(), 1006, "");
  tick(100);
  engine->on_socket_close(transport.current(), 1006, "");  // attempt 2: waits up to 1 s
  ASSERT_EQ(engine->state(), ConnectionState::kReconnecting);
  const std::size_t opens = transport.opens.size();
  engine->set_online(true);
  EXPECT_EQ(transport.opens.size(), opens + 1);
  EXPECT_EQ(engine->reconnect_attempts(), 0u);
}

TEST_F(EngineTest, TheReconnectPolicyCanBeChangedAtRunTime) {
  std::uint32_t id = 0;
  engine->subscribe("a", id);
  engine->set_reconnect_policy(BackoffPolicy{100, 200}, 1);
  engine->on_socket_close(transport.current(), 1006, "");
  tick(49);
  EXPECT_EQ(transport.opens.size(), 1u);
  tick(1);  // 0.5 * 100 ms
  EXPECT_EQ(transport.opens.size(), 2u);
  engine->on_socket_close(transport.current(), 1006, "");
  EXPECT_EQ(engine->state(), ConnectionState::kError);  // at most one attempt
  EXPECT_EQ(listener.errors.back(), "reconnect_failed");
}

// --- Issue 12: the server ends a subscription (contract section 1) ------------------------------------------

TEST_F(EngineTest, AnUnsolicitedUnsubscribedEndsThatChannelAcrossReconnects) {
  std::uint32_t a = 0, b = 0;
  engine->subscribe("chat:7", a);
  engine->subscribe("room:b", b);
  accept();
  engine->on_socket_message(transport.current(),
                            R"({"type":"subscribed","channel":"chat:7","ref":"s1","epoch":"E","offset":0})"
                            "\n"
                            R"({"type":"channel_message","channel":"chat:7","event":"e","offset":4,"epoch":"E","payload":1})",
                            false);
  engine->on_socket_message(
      transport.current(),
      R"({"type":"unsubscribed","channel":"chat:7","reason":"room_left","message":"you left room 7; join it again to follow it"})",
      false);
  ASSERT_EQ(listener.unsubscribed.size(), 1u);
  EXPECT_EQ(listener.unsubscribed[0].channel_id, a);
  EXPECT_EQ(listener.unsubscribed[0].code, "room_left");
  EXPECT_EQ(listener.unsubscribed[0].message, "you left room 7; join it again to follow it");
  EXPECT_EQ(engine->state(), ConnectionState::kConnected);  // the connection and other channels stay

  // A reconnect subscribes room:b again, not chat:7.
  engine->on_socket_close(transport.current(), 1006, "");
  tick(100000);
  transport.sent.clear();
  accept();
  ASSERT_EQ(transport.sent.size(), 1u);
  EXPECT_EQ(transport.sent[0], R"({"type":"subscribe","channel":"room:b","ref":"s2"})");

  // Releasing it sends no unsubscribe (the server already ended it); an explicit subscribe starts afresh.
  transport.sent.clear();
  std::uint32_t again = 0;
  engine->subscribe("chat:7", again);
  EXPECT_EQ(again, a);
  ASSERT_EQ(transport.sent.size(), 1u);
  EXPECT_EQ(transport.sent[0], R"({"type":"subscribe","channel":"chat:7","ref":"s1"})");  // no recovery position
}

TEST_F(EngineTest, ResubscribeRestartsAnEndedChannelWithoutAddingAReference) {
  std::uint32_t a = 0;
  engine->subscribe("chat:7", a);
  accept();
  engine->on_socket_message(transport.current(),
                            R"({"type":"unsubscribed","channel":"chat:7","reason":"access_revoked","message":"m"})",
                            false);
  transport.sent.clear();
  engine->resubscribe(a);
  ASSERT_EQ(transport.sent.size(), 1u);
  EXPECT_EQ(transport.sent[0], R"({"type":"subscribe","channel":"chat:7","ref":"s1"})");
  engine->resubscribe(a);  // not ended: nothing to do
  EXPECT_EQ(transport.sent.size(), 1u);
  EXPECT_EQ(engine->subscriber_count(), 1u);
  engine->unsubscribe(a);
  EXPECT_EQ(transport.sent.back(), R"({"type":"unsubscribe","channel":"chat:7"})");
}

TEST_F(EngineTest, TheAnswerToOurOwnUnsubscribeIsNotARevocation) {
  std::uint32_t a = 0;
  engine->subscribe("room:a", a);
  accept();
  engine->unsubscribe(a);
  engine->subscribe("room:a", a);  // again, before the server answered the unsubscribe
  engine->on_socket_message(transport.current(), R"({"type":"unsubscribed","channel":"room:a"})", false);
  EXPECT_TRUE(listener.unsubscribed.empty());
  engine->on_socket_close(transport.current(), 1006, "");
  tick(100000);
  transport.sent.clear();
  accept();
  ASSERT_EQ(transport.sent.size(), 1u);  // still subscribed after a reconnect
}

// --- Issue 12: publish without subscribing (contract section 8) ---------------------------------------------

TEST_F(EngineTest, ASendWithNoSubscriberOpensTheConnectionHoldsItWhileInFlightThenClosesAfterTheGrace) {
  std::uint32_t r1 = 0, r2 = 0;
  ASSERT_EQ(engine->publish("user:bob", "note", "1", r1), Status::kOk);
  ASSERT_EQ(transport.opens.size(), 1u);  // lazily opened by the send
  accept();
  ASSERT_EQ(transport.sent.size(), 1u);
  tick(5000);  // waiting for the ack: held open
  EXPECT_EQ(engine->state(), ConnectionState::kConnected);
  engine->on_socket_message(transport.current(), R"({"type":"ack","ref":"p1","offset":1})", false);
  tick(999);
  EXPECT_EQ(engine->state(), ConnectionState::kConnected);
  tick(1);
  EXPECT_EQ(engine->state(), ConnectionState::kIdle);
  EXPECT_EQ(transport.closes.size(), 1u);

  // A refused send settles too: the connection still closes after the grace period.
  ASSERT_EQ(engine->publish("chat:1", "note", "1", r2), Status::kOk);
  accept();
  engine->on_socket_message(transport.current(),
                            R"({"type":"error","ref":"p2","code":"forbidden","message":"no"})", false);
  ASSERT_EQ(listener.acks.back().code, "forbidden");
  tick(1000);
  EXPECT_EQ(engine->state(), ConnectionState::kIdle);
  EXPECT_EQ(transport.closes.size(), 2u);
}

TEST_F(EngineTest, ATokenProviderThatNeverAnswersCountsAsAFailedAttemptAfterTheAuthTimeout) {
  std::uint32_t id = subscribe_with_token_provider();
  ASSERT_EQ(listener.token_requests, 1);
  tick(4999);
  EXPECT_EQ(engine->state(), ConnectionState::kConnecting);
  tick(1);  // authTimeoutMs: the fetch hangs (a network black hole); do not wait for it for ever
  EXPECT_EQ(engine->state(), ConnectionState::kReconnecting);
  EXPECT_EQ(listener.errors.back(), "token_provider_failed");
  EXPECT_NE(listener.error_messages.back().find("did not answer"), std::string::npos);
  EXPECT_EQ(engine->reconnect_attempts(), 1u);
  tick(500);
  EXPECT_EQ(listener.token_requests, 2);
  engine->set_token("t");  // this one answers: the socket opens, with its own authentication deadline
  ASSERT_EQ(transport.opens.size(), 1u);
  accept();
  EXPECT_EQ(engine->state(), ConnectionState::kConnected);
  tick(100000);
  EXPECT_EQ(engine->state(), ConnectionState::kConnected);
}

// --- url provider (ClientOptions.url as a list or a function, issue #15) -----------------------------------

TEST_F(EngineTest, AUrlProviderIsAskedBeforeEveryAttemptAndItsFailureIsAFailedAttemptWithBackoff) {
  auto c = config();
  c.url = "";
  c.url_provider = true;
  make(c);
  std::uint32_t id = 0;
  engine->subscribe("a", id);
  EXPECT_EQ(listener.url_requests, 1);
  EXPECT_TRUE(transport.opens.empty());  // nothing opens before the URL is known
  engine->set_url("ws://one/ws");
  ASSERT_EQ(transport.opens.size(), 1u);
  EXPECT_EQ(transport.opens[0].url, "ws://one/ws?v=1&binary=1&compact=1");
  engine->on_socket_close(transport.current(), 1006, "");  // closed before auth: a failed attempt
  EXPECT_EQ(engine->state(), ConnectionState::kReconnecting);
  EXPECT_EQ(listener.url_requests, 1);  // not before the backoff
  tick(10000);
  EXPECT_EQ(listener.url_requests, 2);
  engine->url_failed("Error: boom");  // the provider threw: one more failed attempt, reported, with backoff
  EXPECT_EQ(listener.errors.back(), "url_provider_failed");
  EXPECT_NE(listener.error_messages.back().find("Error: boom"), std::string::npos);
  EXPECT_EQ(engine->state(), ConnectionState::kReconnecting);
  EXPECT_EQ(engine->reconnect_attempts(), 2u);
  EXPECT_EQ(transport.opens.size(), 1u);
  engine->set_url("ws://late/ws");  // a stale answer is ignored
  EXPECT_EQ(transport.opens.size(), 1u);
  tick(10000);
  EXPECT_EQ(listener.url_requests, 3);
  tick(c.auth_timeout_ms);  // a provider that never answers counts as a failure too
  EXPECT_EQ(listener.errors.back(), "url_provider_failed");
  EXPECT_EQ(engine->reconnect_attempts(), 3u);
  tick(20000);
  engine->set_url("ws://two/ws");
  accept();
  EXPECT_EQ(engine->state(), ConnectionState::kConnected);
  EXPECT_EQ(transport.opens.back().url, "ws://two/ws?v=1&binary=1&compact=1");
  EXPECT_EQ(engine->config().url, "ws://two/ws");
  EXPECT_EQ(engine->reconnect_attempts(), 0u);
}

TEST_F(EngineTest, AUrlProviderComesBeforeTheTokenProvider) {
  auto c = config();
  c.url_provider = true;
  c.token_provider = true;
  make(c);
  std::uint32_t id = 0;
  engine->subscribe("a", id);
  EXPECT_EQ(listener.url_requests, 1);
  EXPECT_EQ(listener.token_requests, 0);
  engine->set_url("ws://one/ws");
  EXPECT_EQ(listener.token_requests, 1);
  engine->set_token("t");
  ASSERT_EQ(transport.opens.size(), 1u);
  EXPECT_EQ(transport.opens[0].protocols, (std::vector<std::string>{"jwt", "t"}));
}

// --- changefeed subscriptions (postgres_changes, issue #16) --------------------------------------------------

TEST_F(EngineTest, ChangefeedSubscribesCarryTheirChangesOnEverySubscribe) {
  std::uint32_t id = 0;
  engine->subscribe("db:public.todos", id, "INSERT", "id=eq.4");
  accept();
  ASSERT_EQ(transport.sent.size(), 1u);
  EXPECT_EQ(transport.sent[0],
            R"({"type":"subscribe","channel":"db:public.todos","ref":"s1","changes":{"event":"INSERT","filter":"id=eq.4"}})");
  engine->on_socket_message(transport.current(),
                            R"({"type":"subscribed","channel":"db:public.todos","ref":"s1","offset":3,"epoch":"E"})",
                            false);
  // Another binding widens the spec: sent again at once, without recovery, and its answer is no gap.
  engine->set_changes(id, "*", "");
  ASSERT_EQ(transport.sent.size(), 2u);
  EXPECT_EQ(transport.sent[1], R"({"type":"subscribe","channel":"db:public.todos","ref":"s1","changes":{"event":"*"}})");
  engine->on_socket_message(transport.current(),
                            R"({"type":"subscribed","channel":"db:public.todos","ref":"s1","offset":3,"epoch":"E"})",
                            false);
  EXPECT_TRUE(listener.gaps.empty());
  engine->set_changes(id, "*", "");  // unchanged: nothing sent
  EXPECT_EQ(transport.sent.size(), 2u);
  // A reconnect's recovering subscribe carries the spec too.
  engine->on_socket_close(transport.current(), 1006, "");
  tick(10000);
  transport.sent.clear();
  accept();
  ASSERT_EQ(transport.sent.size(), 1u);
  EXPECT_EQ(transport.sent[0],
            R"({"type":"subscribe","channel":"db:public.todos","ref":"s1","since":{"offset":3,"epoch":"E"},"changes":{"event":"*"}})");
  // Changed while that recovery is in flight: sent once it is confirmed (a second subscribe would read as a gap).
  engine->set_changes(id, "DELETE", "");
  EXPECT_EQ(transport.sent.size(), 1u);
  engine->on_socket_message(
      transport.current(),
      R"({"type":"subscribed","channel":"db:public.todos","ref":"s1","offset":3,"epoch":"E","recovered":true})", false);
  ASSERT_EQ(transport.sent.size(), 2u);
  EXPECT_EQ(transport.sent[1],
            R"({"type":"subscribe","channel":"db:public.todos","ref":"s1","changes":{"event":"DELETE"}})");
  EXPECT_TRUE(listener.gaps.empty());
}

TEST_F(EngineTest, ARefusedSubscribeEndsTheChannelWithTheServersCodeUntilSubscribedAgain) {
  std::uint32_t id = 0;
  engine->subscribe("db:public.todos", id, "*", "nope");
  accept();
  engine->on_socket_message(
      transport.current(), R"({"type":"error","ref":"s1","code":"bad_filter","message":"filter must be col=op.value"})",
      false);
  ASSERT_EQ(listener.unsubscribed.size(), 1u);
  EXPECT_EQ(listener.unsubscribed[0].channel_id, id);
  EXPECT_EQ(listener.unsubscribed[0].code, "bad_filter");
  EXPECT_NE(listener.unsubscribed[0].message.find("filter must be col=op.value"), std::string::npos);
  EXPECT_NE(listener.unsubscribed[0].message.find("subscribe() again"), std::string::npos);
  EXPECT_TRUE(engine->channel(id)->revoked);
  // Not sent again on reconnect (it would be refused again) ...
  engine->on_socket_close(transport.current(), 1006, "");
  tick(10000);
  transport.sent.clear();
  accept();
  EXPECT_TRUE(transport.sent.empty());
  // ... until the application subscribes again, with a fixed spec.
  engine->set_changes(id, "*", "id=eq.1");
  engine->resubscribe(id);
  ASSERT_EQ(transport.sent.size(), 1u);
  EXPECT_NE(transport.sent[0].find(R"("filter":"id=eq.1")"), std::string::npos);

  // A retryable refusal (the broker is down) stays an error of the connection; the channel is not ended.
  engine->on_socket_message(transport.current(),
                            R"({"type":"error","ref":"s1","code":"unavailable","message":"the broker is unreachable"})",
                            false);
  EXPECT_EQ(listener.unsubscribed.size(), 1u);
  EXPECT_EQ(listener.errors.back(), "unavailable");
  EXPECT_FALSE(engine->channel(id)->revoked);
}
