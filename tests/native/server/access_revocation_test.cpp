// Access revocation (docs/PROTOCOL.md section 3.1): the server ends a subscription the moment the connection
// loses access to its channel, with an `unsubscribed` push carrying a reason. Leaving a chat room ends that
// user's `chat:<id>` subscriptions on all their connections; deleting a room ends everyone's; an in-band token
// refresh that narrows `channels` ends that connection's now-forbidden ones. The real MessageHandler, Hub and
// ServiceBridge, with recording sinks instead of sockets.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "fake_session.hpp"
#include "server/jwt_signer.hpp"
#include "server/message_handler.hpp"
#include "server/service_bridge.hpp"

namespace tidewire::server {
namespace {

using nlohmann::json;

const std::string kSecret = "secret";

std::vector<std::string> types_of(const std::vector<json>& messages) {
  std::vector<std::string> out;
  for (const json& m : messages)
    out.push_back(m.value("type", "") + (m.contains("event") ? ":" + m["event"].get<std::string>() : ""));
  return out;
}

class AccessRevocation : public ::testing::Test {
 protected:
  using Conn = testing::FakeConnection;

  static ServicesConfig services_config() {
    ServicesConfig c;
    c.presence_grace_ms = 0;  // a leave shows at once
    c.worker_threads = 0;     // chat requests and the chat: subscribe check answer at once (no worker threads)
    return c;
  }
  std::string token(const std::string& sub, json extra = json::object()) {
    json claims{{"sub", sub}, {"exp", static_cast<std::int64_t>(now / 1000) + 3600}};
    claims.update(extra);
    return sign_hs256(kSecret, claims);
  }
  Conn connect(const std::string& user, json extra = json::object()) {
    Conn c;
    c.state.connection_id = "c-" + std::to_string(++connections);
    handler.on_open(c.state, *c.sink, static_cast<const JwtClaims*>(nullptr));
    send(c, {{"type", "auth"}, {"token", token(user, extra)}});
    EXPECT_EQ(c.sink->take("auth_success")["userId"], user);
    return c;
  }
  void send(Conn& c, const json& j) { handler.on_text(c.state, *c.sink, j.dump()); }
  // Sends a request with ref "q" and returns its reply's data (or the error).
  json request(Conn& c, json j) {
    j["ref"] = "q";
    send(c, j);
    for (const json& m : c.sink->take_all())
      if (m.value("ref", "") == "q") return m.value("type", "") == "reply" ? m["data"] : m;
    return json();
  }
  json subscribe(Conn& c, const std::string& channel) {
    send(c, {{"type", "subscribe"}, {"channel", channel}, {"ref", "s"}});
    for (const json& m : c.sink->take_all())
      if (m.value("ref", "") == "s") return m;
    return json();
  }
  std::string create_room(Conn& creator, const std::vector<std::string>& participants) {
    const json data = request(creator, {{"type", "chat_create_room"},
                                        {"name", "Team"},
                                        {"visibility", "private"},
                                        {"participants", participants}});
    return data["room"]["id"];
  }

  std::uint64_t now = 1'700'000'000'000;
  int connections = 0;
  Hub hub;
  JwtVerifier verifier{kSecret};
  MessageHandler handler{hub, verifier, HandlerLimits{}, [this] { return now; }};
  ServiceBridge bridge{hub, handler, services_config(), [this] { return now; }};
};

TEST_F(AccessRevocation, LeavingARoomEndsThatUsersSubscriptionsOnAllTheirConnections) {
  Conn alice = connect("alice");
  Conn bob1 = connect("bob");
  Conn bob2 = connect("bob");
  const std::string room = create_room(alice, {"bob"});
  const std::string channel = "chat:" + room;
  for (Conn* c : {&alice, &bob1, &bob2}) ASSERT_EQ(subscribe(*c, channel)["type"], "subscribed");

  for (Conn* c : {&alice, &bob1, &bob2}) c->sink->take_all();
  send(bob1, {{"type", "chat_leave"}, {"roomId", room}, {"ref", "l"}});
  // Both of bob's connections: member_left, then the push, and nothing after it.
  for (Conn* c : {&bob1, &bob2}) {
    std::vector<json> got = c->sink->take_all();
    if (c == &bob1) {  // the requester's reply comes last: after the request's broadcasts (connection_context.hpp)
      ASSERT_FALSE(got.empty());
      EXPECT_EQ(got.back()["data"]["room"]["participants"], json({"alice"}));
      got.pop_back();
    }
    ASSERT_EQ(types_of(got), (std::vector<std::string>{"channel_message:member_left", "unsubscribed"}));
    const json& last = got.back();
    EXPECT_EQ(types_of(got).back(), "unsubscribed");
    EXPECT_EQ(last["channel"], channel);
    EXPECT_EQ(last["reason"], "room_left");
    EXPECT_TRUE(last["message"].is_string());
    EXPECT_FALSE(last.contains("ref"));
    EXPECT_EQ(hub.is_subscribed(channel, c->sink.get()), false);
  }
  EXPECT_EQ(hub.subscriber_count(channel), 1u);  // alice's

  EXPECT_EQ(request(alice, {{"type", "chat_send"}, {"roomId", room}, {"text", "after bob left"}})["message"]["text"],
            "after bob left");
  for (Conn* c : {&bob1, &bob2}) EXPECT_TRUE(c->sink->take_all().empty()) << "bob still receives the room";

  // The connection's own state follows: unsubscribing again is not_subscribed, resubscribing is forbidden.
  send(bob2, {{"type", "unsubscribe"}, {"channel", channel}, {"ref", "u"}});
  EXPECT_EQ(bob2.sink->take("error", "u")["code"], "not_subscribed");
  EXPECT_EQ(subscribe(bob2, channel)["code"], "forbidden");
  // Rejoining (still invited) allows a fresh subscription.
  request(bob2, {{"type", "chat_join"}, {"roomId", room}});
  EXPECT_EQ(subscribe(bob2, channel)["type"], "subscribed");
}

TEST_F(AccessRevocation, DeletingARoomEndsEverySubscriptionAfterTheRoomDeletedEvent) {
  Conn alice = connect("alice");
  Conn bob = connect("bob");
  const std::string room = create_room(alice, {"bob"});
  const std::string channel = "chat:" + room;
  ASSERT_EQ(subscribe(alice, channel)["type"], "subscribed");
  ASSERT_EQ(subscribe(bob, channel)["type"], "subscribed");

  EXPECT_EQ(request(bob, {{"type", "chat_delete_room"}, {"roomId", room}})["code"], "forbidden");  // not the creator
  alice.sink->take_all();
  send(alice, {{"type", "chat_delete_room"}, {"roomId", room}, {"ref", "d"}});
  const std::vector<json> got = alice.sink->take_all();
  // The reply leaves after the request's broadcasts (connection_context.hpp, SnapshotContext).
  ASSERT_EQ(types_of(got), (std::vector<std::string>{"channel_message:room_deleted", "unsubscribed", "reply"}));
  EXPECT_EQ(got[2]["data"], json({{"roomId", room}}));
  EXPECT_EQ(got[0]["payload"], json({{"roomId", room}}));
  EXPECT_EQ(got[1]["reason"], "room_deleted");
  EXPECT_EQ(types_of(bob.sink->take_all()),
            (std::vector<std::string>{"channel_message:room_deleted", "unsubscribed"}));
  EXPECT_EQ(hub.subscriber_count(channel), 0u);
  EXPECT_EQ(request(bob, {{"type", "chat_history"}, {"roomId", room}})["code"], "not_found");
  EXPECT_EQ(subscribe(bob, channel)["code"], "forbidden");

  const std::string dm = request(alice, {{"type", "chat_open_dm"}, {"userId", "bob"}})["room"]["id"];
  EXPECT_EQ(request(alice, {{"type", "chat_delete_room"}, {"roomId", dm}})["code"], "bad_request");
}

TEST_F(AccessRevocation, ARefreshThatNarrowsChannelsEndsTheForbiddenSubscriptionsOfThatConnection) {
  Conn alice = connect("alice", {{"channels", {"room:*"}}});
  Conn other = connect("alice", {{"channels", {"room:*"}}});  // another connection keeps its own token
  Conn bob = connect("bob");
  for (const char* ch : {"room:a", "room:b"}) ASSERT_EQ(subscribe(alice, ch)["type"], "subscribed");
  ASSERT_EQ(subscribe(other, "room:b")["type"], "subscribed");
  ASSERT_EQ(subscribe(bob, "room:b")["type"], "subscribed");
  EXPECT_TRUE(request(alice, {{"type", "presence_join"}, {"channel", "room:b"}}).contains("members"));
  bob.sink->take_all();

  send(alice, {{"type", "auth"}, {"token", token("alice", {{"channels", {"room:a"}}})}, {"ref", "r"}});
  const std::vector<json> got = alice.sink->take_all();
  ASSERT_EQ(types_of(got), (std::vector<std::string>{"auth_refreshed", "unsubscribed"}));
  EXPECT_EQ(got[1]["channel"], "room:b");
  EXPECT_EQ(got[1]["reason"], "access_revoked");
  EXPECT_FALSE(got[1].contains("ref"));
  EXPECT_FALSE(hub.is_subscribed("room:b", alice.sink.get()));
  EXPECT_TRUE(hub.is_subscribed("room:a", alice.sink.get()));
  EXPECT_TRUE(hub.is_subscribed("room:b", other.sink.get()));
  // Her presence there left, as on unsubscribe (grace 0 here): bob sees the leave.
  const json diff = bob.sink->take("presence_diff");
  ASSERT_EQ(diff["leaves"].size(), 1u);
  EXPECT_EQ(diff["leaves"][0]["userId"], "alice");

  // Nothing works there any more, and it says why.
  EXPECT_EQ(request(alice, {{"type", "presence_join"}, {"channel", "room:b"}})["code"], "forbidden");
  EXPECT_EQ(request(alice, {{"type", "sync_insert"}, {"channel", "room:b"}, {"resource", "t"}, {"data", json::object()}})
                ["code"],
            "forbidden");
  EXPECT_EQ(request(alice, {{"type", "channel_message"}, {"channel", "room:b"}, {"event", "e"}, {"payload", 1}})
                ["code"],
            "forbidden");
  EXPECT_EQ(subscribe(alice, "room:b")["code"], "forbidden");
  // The kept subscription still works.
  EXPECT_EQ(request(alice, {{"type", "channel_message"}, {"channel", "room:a"}, {"event", "e"}, {"payload", 1}})
                ["type"],
            "ack");
}

TEST_F(AccessRevocation, PublishWithoutSubscribingWhereTheRulesAllow) {
  Conn alice = connect("alice", {{"channels", {"room:*", "user:alice"}}});
  Conn bob = connect("bob");
  ASSERT_EQ(subscribe(bob, "room:x")["type"], "subscribed");
  const json ack = request(alice, {{"type", "channel_message"}, {"channel", "room:x"}, {"event", "e"}, {"payload", 7}});
  EXPECT_EQ(ack["type"], "ack");
  EXPECT_EQ(ack["offset"], 1);
  const json got = bob.sink->take("channel_message");
  EXPECT_EQ(got["payload"], 7);
  EXPECT_EQ(got["from"], "alice");
  EXPECT_TRUE(alice.sink->take_all().empty());  // not subscribed: no copy
  // A channel nobody uses yet is created (its stream starts at offset 1) and kept for recovery.
  EXPECT_EQ(request(alice, {{"type", "channel_message"}, {"channel", "room:new"}, {"event", "e"}, {"payload", 1}})
                ["offset"],
            1);
  EXPECT_EQ(request(alice, {{"type", "channel_message"}, {"channel", "user:alice"}, {"event", "e"}, {"payload", 1}})
                ["type"],
            "ack");
  // Still refused: what the claims refuse, someone else's user channel, and chat: channels.
  EXPECT_EQ(request(alice, {{"type", "channel_message"}, {"channel", "doc:1"}, {"event", "e"}, {"payload", 1}})
                ["code"],
            "forbidden");
  EXPECT_EQ(request(bob, {{"type", "channel_message"}, {"channel", "user:alice"}, {"event", "e"}, {"payload", 1}})
                ["code"],
            "forbidden");
  EXPECT_EQ(request(bob, {{"type", "channel_message"}, {"channel", "chat:1"}, {"event", "e"}, {"payload", 1}})
                ["code"],
            "forbidden");
}

TEST_F(AccessRevocation, PresenceAndSyncOnChatChannelsAreForbidden) {
  Conn alice = connect("alice");
  const std::string channel = "chat:" + create_room(alice, {});
  ASSERT_EQ(subscribe(alice, channel)["type"], "subscribed");
  for (const char* type : {"presence_join", "presence_get", "presence_update", "presence_leave"}) {
    const json e = request(alice, {{"type", type}, {"channel", channel}, {"status", "away"}});
    EXPECT_EQ(e["code"], "forbidden") << type;
    EXPECT_NE(e["message"].get<std::string>().find("chat"), std::string::npos);
  }
  for (const char* type : {"sync_snapshot", "sync_insert", "sync_update", "sync_delete"})
    EXPECT_EQ(request(alice, {{"type", type}, {"channel", channel}, {"resource", "todos"}, {"data", json::object()},
                              {"id", "1"}, {"version", 1}})["code"],
              "forbidden")
        << type;
}

TEST_F(AccessRevocation, TheRoomListIsPushedOnTheUsersOwnChannel) {
  Conn alice = connect("alice");
  Conn bob = connect("bob");
  ASSERT_EQ(subscribe(bob, "user:bob")["type"], "subscribed");
  EXPECT_EQ(subscribe(alice, "user:bob")["code"], "forbidden");  // private to bob
  const std::string room = create_room(alice, {"bob"});
  json got = bob.sink->take("channel_message");
  EXPECT_EQ(got["channel"], "user:bob");
  EXPECT_EQ(got["event"], "room");
  EXPECT_EQ(got["from"], "");
  EXPECT_EQ(got["offset"], 1);
  EXPECT_EQ(got["payload"]["room"]["id"], room);
  EXPECT_EQ(got["payload"]["room"]["unreadCount"], 0);
  EXPECT_TRUE(got["payload"]["room"]["lastMessage"].is_null());

  request(alice, {{"type", "chat_send"}, {"roomId", room}, {"text", "hi"}});
  got = bob.sink->take("channel_message");
  EXPECT_EQ(got["payload"]["room"]["unreadCount"], 1);
  EXPECT_EQ(got["payload"]["room"]["lastMessage"]["text"], "hi");

  send(bob, {{"type", "chat_leave"}, {"roomId", room}, {"ref", "l"}});
  got = bob.sink->take("channel_message");
  EXPECT_EQ(got["event"], "room_removed");
  EXPECT_EQ(got["payload"], json({{"roomId", room}, {"reason", "room_left"}}));
}

}  // namespace
}  // namespace tidewire::server
