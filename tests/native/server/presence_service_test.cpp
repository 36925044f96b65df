// Presence through Services (docs/PROTOCOL.md section 10): full state on join, diffs to the channel, one member
// per user, one leave after the grace period, no flicker on a quick rejoin, and hostile inputs.
#include <gtest/gtest.h>

#include "service_fakes.hpp"

namespace tidewire::server {
namespace {

using namespace testing;

constexpr const char* kChannel = "room:lobby";

json join(std::string status = "online") {
  return json{{"type", "presence_join"}, {"channel", kChannel}, {"status", status}, {"info", {{"name", "A"}}}};
}

class PresenceServiceTest : public ::testing::Test {
 protected:
  PresenceServiceTest() {
    for (FakeContext* c : {&alice1, &alice2, &bob}) c->state.channels.insert(kChannel);
  }
  // The one presence_diff sent to kChannel since the last call.
  json take_diff() {
    auto raw = h.out.take_raw();
    EXPECT_EQ(raw.size(), 1u);
    if (raw.size() != 1) return json();
    EXPECT_EQ(raw[0].first, kChannel);
    return raw[0].second;
  }

  Harness h;
  FakeContext alice1{"alice", "c-a1"};
  FakeContext alice2{"alice", "c-a2"};
  FakeContext bob{"bob", "c-b1"};
};

TEST_F(PresenceServiceTest, JoinRepliesWithFullStateAndBroadcastsTheJoin) {
  h.ok(bob, json{{"type", "presence_join"}, {"channel", kChannel}});
  h.out.take_raw();
  h.now += 10;
  const json data = h.ok(alice1, join("away"));
  ASSERT_EQ(data["members"].size(), 2u);
  EXPECT_EQ(data["members"][0],
            json({{"userId", "alice"}, {"status", "away"}, {"info", {{"name", "A"}}}, {"joinedAt", kStartMs + 10},
                  {"connections", 1}}));
  EXPECT_EQ(data["members"][1]["userId"], "bob");
  EXPECT_EQ(data["members"][1]["status"], "online");  // the default
  EXPECT_EQ(data["members"][1]["info"], json::object());

  const json diff = take_diff();
  EXPECT_EQ(diff["type"], "presence_diff");
  EXPECT_EQ(diff["channel"], kChannel);
  ASSERT_EQ(diff["joins"].size(), 1u);
  EXPECT_EQ(diff["joins"][0]["userId"], "alice");
  EXPECT_EQ(diff["leaves"], json::array());
  EXPECT_EQ(diff["updates"], json::array());
  EXPECT_EQ(h.ok(bob, json{{"type", "presence_get"}, {"channel", kChannel}})["members"], data["members"]);
}

TEST_F(PresenceServiceTest, EveryRequestNeedsTheSubscription) {
  FakeContext carol{"carol", "c-c1"};
  for (const char* type : {"presence_join", "presence_update", "presence_leave", "presence_get"})
    EXPECT_EQ(h.code(carol, json{{"type", type}, {"channel", kChannel}, {"status", "away"}}), "not_subscribed")
        << type;
  EXPECT_TRUE(h.out.take_raw().empty());
}

TEST_F(PresenceServiceTest, SeveralConnectionsOfOneUserAreOneMember) {
  h.ok(alice1, join());
  take_diff();
  const json data = h.ok(alice2, join());
  ASSERT_EQ(data["members"].size(), 1u);
  EXPECT_EQ(data["members"][0]["connections"], 2);
  EXPECT_TRUE(h.out.take_raw().empty());  // nothing visible changed

  h.services.on_disconnect("alice", "c-a1");  // one of two connections: still present
  h.advance(10'000);
  EXPECT_TRUE(h.out.take_raw().empty());
  EXPECT_EQ(h.ok(bob, json{{"type", "presence_get"}, {"channel", kChannel}})["members"][0]["connections"], 1);
}

TEST_F(PresenceServiceTest, LastConnectionLeavingGivesOneLeaveAfterTheGrace) {
  h.ok(alice1, join());
  h.ok(alice2, join());
  h.out.take_raw();
  h.services.on_disconnect("alice", "c-a1");
  h.services.on_unsubscribe("alice", "c-a2", kChannel);
  EXPECT_EQ(h.services.next_deadline_ms(), kStartMs + 3000);
  h.advance(2999);
  EXPECT_TRUE(h.out.take_raw().empty());
  EXPECT_EQ(h.ok(bob, json{{"type", "presence_get"}, {"channel", kChannel}})["members"].size(), 1u);  // in grace
  h.advance(1);
  const json diff = take_diff();
  EXPECT_EQ(diff["leaves"], json::array({{{"userId", "alice"}}}));
  EXPECT_EQ(diff["joins"], json::array());
  h.advance(10'000);
  EXPECT_TRUE(h.out.take_raw().empty());  // exactly one leave
  EXPECT_EQ(h.services.next_deadline_ms(), 0u);
  EXPECT_EQ(h.ok(bob, json{{"type", "presence_get"}, {"channel", kChannel}})["members"], json::array());
}

TEST_F(PresenceServiceTest, QuickRejoinInsideTheGraceDoesNotFlicker) {
  const std::uint64_t joined_at = h.now;
  h.ok(alice1, join());
  h.out.take_raw();
  h.services.on_disconnect("alice", "c-a1");
  h.advance(2000);
  FakeContext reconnected{"alice", "c-a3"};
  reconnected.state.channels.insert(kChannel);
  const json data = h.ok(reconnected, join());
  EXPECT_EQ(data["members"][0]["joinedAt"], joined_at);  // the same membership went on
  h.advance(60'000);
  EXPECT_TRUE(h.out.take_raw().empty());  // no leave, no join
}

TEST_F(PresenceServiceTest, RejoinWithAnotherStatusIsAnUpdate) {
  h.ok(alice1, join());
  h.out.take_raw();
  h.services.on_disconnect("alice", "c-a1");
  h.ok(alice2, join("busy"));
  const json diff = take_diff();
  EXPECT_EQ(diff["joins"], json::array());
  ASSERT_EQ(diff["updates"].size(), 1u);
  EXPECT_EQ(diff["updates"][0]["status"], "busy");
}

TEST_F(PresenceServiceTest, UpdateAndExplicitLeave) {
  EXPECT_EQ(h.code(alice1, json{{"type", "presence_update"}, {"channel", kChannel}, {"status", "away"}}),
            "bad_request");  // join first
  h.ok(alice1, join());
  h.out.take_raw();
  h.ok(alice1, json{{"type", "presence_update"}, {"channel", kChannel}, {"info", {{"name", "B"}}}});
  EXPECT_EQ(take_diff()["updates"][0]["info"], json({{"name", "B"}}));
  h.ok(alice1, json{{"type", "presence_update"}, {"channel", kChannel}, {"status", "online"}});
  EXPECT_TRUE(h.out.take_raw().empty());  // no change, no diff

  h.ok(alice1, json{{"type", "presence_leave"}, {"channel", kChannel}});
  h.ok(alice1, json{{"type", "presence_leave"}, {"channel", kChannel}});  // idempotent
  EXPECT_TRUE(h.out.take_raw().empty());
  h.advance(3000);
  EXPECT_EQ(take_diff()["leaves"][0]["userId"], "alice");
}

TEST(PresenceGraceTest, ZeroGraceLeavesAtOnce) {
  ServicesConfig config;
  config.presence_grace_ms = 0;
  Harness h(config);
  FakeContext alice{"alice", "c-1"};
  alice.state.channels.insert(kChannel);
  h.ok(alice, join());
  h.out.take_raw();
  h.services.on_disconnect("alice", "c-1");
  auto raw = h.out.take_raw();
  ASSERT_EQ(raw.size(), 1u);
  EXPECT_EQ(raw[0].second["leaves"][0]["userId"], "alice");
}

TEST_F(PresenceServiceTest, HostileInputsGetClearErrors) {
  const std::string big(1100, 'x');
  const std::vector<std::pair<json, std::string>> cases = {
      {{{"type", "presence_join"}}, "bad_request"},
      {{{"type", "presence_join"}, {"channel", 5}}, "bad_request"},
      {{{"type", "presence_join"}, {"channel", "bad channel!"}}, "bad_request"},
      {{{"type", "presence_join"}, {"channel", std::string(129, 'a')}}, "bad_request"},
      {{{"type", "presence_join"}, {"channel", kChannel}, {"status", "sleeping"}}, "bad_request"},
      {{{"type", "presence_join"}, {"channel", kChannel}, {"status", 1}}, "bad_request"},
      {{{"type", "presence_join"}, {"channel", kChannel}, {"info", json::array()}}, "bad_request"},
      {{{"type", "presence_join"}, {"channel", kChannel}, {"info", "x"}}, "bad_request"},
      {{{"type", "presence_join"}, {"channel", kChannel}, {"info", {{"bio", big}}}}, "bad_request"},
      {{{"type", "presence_update"}, {"channel", kChannel}}, "bad_request"},
      {{{"type", "presence_update"}, {"channel", kChannel}, {"status", nullptr}}, "bad_request"},
      {{{"type", "presence_get"}, {"channel", json::object()}}, "bad_request"},
      {{{"type", "presence_bogus"}, {"channel", kChannel}}, "unknown_type"},
  };
  for (const auto& [msg, code] : cases) EXPECT_EQ(h.code(alice1, msg), code) << msg.dump();
  EXPECT_TRUE(h.out.take_raw().empty());
  EXPECT_FALSE(Services::handles("presence_diff"));  // a server message, not a request
  EXPECT_TRUE(Services::handles("presence_join"));
  // Exactly 1 KiB of info is accepted.
  json info = {{"b", ""}};
  info["b"] = std::string(1024 - info.dump().size(), 'y');
  ASSERT_EQ(info.dump().size(), 1024u);
  h.ok(alice1, json{{"type", "presence_join"}, {"channel", kChannel}, {"info", info}});
}

}  // namespace
}  // namespace tidewire::server
