// Chat through Services with fakes (docs/PROTOCOL.md section 11): the live room
// list on user:<id>, chat_delete_room, chat_history with `after`, reactedBy, the emoji and text rules, and ids
// that must be strings.
#include <gtest/gtest.h>

#include "service_fakes.hpp"

namespace tidewire::server {
namespace {

using namespace testing;

class ChatRoomListAndRules : public ChatRoomTest {
 protected:
  ChatRoomListAndRules() {
    h.out.take_published();
    h.out.take_pushes();
  }
  // The message `who` sent.
  json send(FakeContext& who, const std::string& text) { return ChatRoomTest::send(who, text)["message"]; }
  // The pushes since the last call, as "channel event" strings.
  std::vector<std::string> pushes() {
    std::vector<std::string> out;
    last_pushes = h.out.take_pushes();
    for (const Published& p : last_pushes) out.push_back(p.channel + " " + p.event);
    return out;
  }
  const json& push_payload(const std::string& channel_name) {
    for (const Published& p : last_pushes)
      if (p.channel == channel_name) return p.payload;
    static const json none;
    return none;
  }

  std::vector<Published> last_pushes;
};

using Strings = std::vector<std::string>;

TEST_F(ChatRoomListAndRules, RoomListPushesFollowEveryChangeOfTheSummary) {
  // Created: each participant.
  const std::string r2 = h.ok(alice, json{{"type", "chat_create_room"}, {"name", "Two"}, {"participants", {"bob"}}})
                             ["room"]["id"];
  EXPECT_EQ(pushes(), (Strings{"user:alice room", "user:bob room"}));
  EXPECT_EQ(push_payload("user:bob")["room"]["id"], r2);
  EXPECT_EQ(push_payload("user:bob")["room"]["unreadCount"], 0);
  EXPECT_TRUE(push_payload("user:bob")["room"]["lastMessage"].is_null());
  for (const Published& p : last_pushes) EXPECT_EQ(p.from, "");

  // A new message: each participant; the sender's unread stays 0. The summary is chat_list_rooms's object.
  const json m = send(alice, "hello");
  EXPECT_EQ(pushes(), (Strings{"user:alice room", "user:bob room"}));
  EXPECT_EQ(push_payload("user:alice")["room"]["unreadCount"], 0);
  EXPECT_EQ(push_payload("user:bob")["room"]["unreadCount"], 1);
  EXPECT_EQ(push_payload("user:bob")["room"]["lastMessage"], m);
  const json listed = h.ok(bob, json{{"type", "chat_list_rooms"}})["rooms"];
  json same;
  for (const json& r : listed)
    if (r["id"] == room) same = r;
  EXPECT_EQ(push_payload("user:bob")["room"], same);

  // Read marker: only that user, and only when it moved.
  h.ok(bob, json{{"type", "chat_mark_read"}, {"roomId", room}, {"messageId", m["id"]}});
  EXPECT_EQ(pushes(), (Strings{"user:bob room"}));
  EXPECT_EQ(push_payload("user:bob")["room"]["unreadCount"], 0);
  h.ok(bob, json{{"type", "chat_mark_read"}, {"roomId", room}, {"messageId", m["id"]}});
  EXPECT_EQ(pushes(), Strings{});

  // Editing the last message changes the preview; editing an older one does not.
  const json m2 = send(alice, "second");
  pushes();
  h.ok(alice, json{{"type", "chat_edit"}, {"roomId", room}, {"messageId", m["id"]}, {"text", "older"}});
  EXPECT_EQ(pushes(), Strings{});
  h.ok(alice, json{{"type", "chat_edit"}, {"roomId", room}, {"messageId", m2["id"]}, {"text", "second!"}});
  EXPECT_EQ(pushes(), (Strings{"user:alice room", "user:bob room"}));
  EXPECT_EQ(push_payload("user:bob")["room"]["lastMessage"]["text"], "second!");

  // Join: everyone, the joiner included. Leave: room_removed to the leaver, room to the rest.
  h.ok(carol, json{{"type", "chat_join"}, {"roomId", room}});
  EXPECT_EQ(pushes(), (Strings{"user:alice room", "user:bob room", "user:carol room"}));
  h.ok(carol, json{{"type", "chat_leave"}, {"roomId", room}});
  EXPECT_EQ(pushes(), (Strings{"user:carol room_removed", "user:alice room", "user:bob room"}));
  EXPECT_EQ(push_payload("user:carol"), json({{"roomId", room}, {"reason", "room_left"}}));
  ASSERT_EQ(h.out.ended.size(), 1u);
  EXPECT_EQ(h.out.ended[0].channel, channel);
  EXPECT_EQ(h.out.ended[0].user, "carol");
  EXPECT_EQ(h.out.ended[0].reason, "room_left");

  // A DM: both.
  h.ok(alice, json{{"type", "chat_open_dm"}, {"userId", "carol"}});
  EXPECT_EQ(pushes(), (Strings{"user:alice room", "user:carol room"}));
}

TEST_F(ChatRoomListAndRules, DeleteRoomIsForTheCreatorOnlyAndTellsEveryone) {
  send(bob, "bye");
  h.out.take_published();
  pushes();
  EXPECT_EQ(h.code(bob, json{{"type", "chat_delete_room"}, {"roomId", room}}), "forbidden");
  EXPECT_EQ(h.code(alice, json{{"type", "chat_delete_room"}, {"roomId", 1}}), "bad_request");
  EXPECT_EQ(h.ok(alice, json{{"type", "chat_delete_room"}, {"roomId", room}}), json({{"roomId", room}}));
  const auto events = h.out.take_published();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].channel, channel);
  EXPECT_EQ(events[0].event, "room_deleted");
  EXPECT_EQ(events[0].payload, json({{"roomId", room}}));
  ASSERT_EQ(h.out.ended.size(), 1u);
  EXPECT_EQ(h.out.ended[0].user, "");  // every subscriber
  EXPECT_EQ(h.out.ended[0].reason, "room_deleted");
  EXPECT_EQ(pushes(), (Strings{"user:alice room_removed", "user:bob room_removed"}));
  EXPECT_EQ(push_payload("user:bob"), json({{"roomId", room}, {"reason", "room_deleted"}}));
  // Gone: messages and membership with it.
  EXPECT_EQ(h.code(alice, json{{"type", "chat_history"}, {"roomId", room}}), "not_found");
  EXPECT_EQ(h.code(alice, json{{"type", "chat_delete_room"}, {"roomId", room}}), "not_found");
  EXPECT_TRUE(h.ok(bob, json{{"type", "chat_list_rooms"}})["rooms"].empty());
  EXPECT_FALSE(h.services.may_subscribe("bob", channel));
  // DMs cannot be deleted.
  const std::string dm = h.ok(alice, json{{"type", "chat_open_dm"}, {"userId", "bob"}})["room"]["id"];
  const json e = h.call(alice, json{{"type", "chat_delete_room"}, {"roomId", dm}});
  EXPECT_EQ(e["code"], "bad_request");
  EXPECT_NE(e["message"].get<std::string>().find("chat_leave"), std::string::npos);
}

TEST_F(ChatRoomListAndRules, HistoryAfterReturnsNewerMessagesOldestFirst) {
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(send(alice, "m" + std::to_string(i))["id"]);
  json page = h.ok(bob, json{{"type", "chat_history"}, {"roomId", room}, {"after", ids[1]}, {"limit", 2}});
  ASSERT_EQ(page["messages"].size(), 2u);
  EXPECT_EQ(page["messages"][0]["text"], "m2");
  EXPECT_EQ(page["messages"][1]["text"], "m3");
  EXPECT_EQ(page["hasMore"], true);
  page = h.ok(bob, json{{"type", "chat_history"}, {"roomId", room}, {"after", ids[3]}});
  ASSERT_EQ(page["messages"].size(), 1u);
  EXPECT_EQ(page["messages"][0]["text"], "m4");
  EXPECT_EQ(page["hasMore"], false);
  page = h.ok(bob, json{{"type", "chat_history"}, {"roomId", room}, {"after", ids[4]}});
  EXPECT_TRUE(page["messages"].empty());
  EXPECT_EQ(page["hasMore"], false);
  EXPECT_EQ(h.code(bob, json{{"type", "chat_history"}, {"roomId", room}, {"after", ids[1]}, {"before", ids[4]}}),
            "bad_request");
  EXPECT_EQ(h.code(bob, json{{"type", "chat_history"}, {"roomId", room}, {"after", 2}}), "bad_request");
  EXPECT_EQ(h.code(bob, json{{"type", "chat_history"}, {"roomId", room}, {"before", 2}}), "bad_request");
}

TEST_F(ChatRoomListAndRules, ReactedByNamesWhoReactedAndTogglesBack) {
  const json m = send(alice, "react");
  const std::string id = m["id"];
  EXPECT_EQ(m["reactedBy"], json::object());
  auto react = [&](FakeContext& who, const std::string& emoji, bool add) {
    return h.ok(who, json{{"type", "chat_react"}, {"roomId", room}, {"messageId", id}, {"emoji", emoji}, {"add", add}});
  };
  react(bob, "👍", true);
  EXPECT_EQ(react(alice, "👍", true)["reactedBy"], json({{"👍", {"alice", "bob"}}}));
  const json off = react(alice, "👍", false);  // a second click removes mine
  EXPECT_EQ(off["reactions"], json({{"👍", 1}}));
  EXPECT_EQ(off["reactedBy"], json({{"👍", {"bob"}}}));
  const json stored = h.ok(bob, json{{"type", "chat_history"}, {"roomId", room}})["messages"][0];
  EXPECT_EQ(stored["reactedBy"], json({{"👍", {"bob"}}}));
  EXPECT_EQ(stored["reactions"], json({{"👍", 1}}));
  // The reaction on the last message changes the room list's preview.
  pushes();
  react(bob, "🎉", true);
  EXPECT_EQ(pushes(), (Strings{"user:alice room", "user:bob room"}));
  EXPECT_EQ(push_payload("user:alice")["room"]["lastMessage"]["reactedBy"]["🎉"], json({"bob"}));
  // Emoji: at most 32 bytes.
  EXPECT_EQ(react(bob, std::string(32, 'e'), true)["reactions"][std::string(32, 'e')], 1);
  const json e = h.call(bob, json{{"type", "chat_react"}, {"roomId", room}, {"messageId", id},
                                  {"emoji", std::string(33, 'e')}, {"add", true}});
  EXPECT_EQ(e["code"], "bad_request");
  EXPECT_NE(e["message"].get<std::string>().find("32 bytes"), std::string::npos);
}

TEST_F(ChatRoomListAndRules, TextMustBeVisibleAndAtMost4000CharactersNeverCut) {
  for (const std::string& blank : {std::string(""), std::string("   "), std::string("\t\n\r"),
                                   std::string("\u200b\u200c\u200d"), std::string("\u2060\ufeff"),
                                   std::string("\u00a0\u3000\u2003 \u200b"), std::string("\u2028\u0085")}) {
    const json e = h.call(alice, json{{"type", "chat_send"}, {"roomId", room}, {"text", blank}});
    EXPECT_EQ(e["code"], "bad_request") << json(blank).dump();
    EXPECT_NE(e["message"].get<std::string>().find("whitespace"), std::string::npos);
  }
  EXPECT_EQ(send(alice, " \u200bx\u200b ")["text"], " \u200bx\u200b ");  // nothing is stripped
  std::string max;
  for (int i = 0; i < 4000; ++i) max += "\xF0\x9F\x98\x80";  // 4000 four-byte characters
  EXPECT_EQ(send(alice, max)["text"], max);
  for (const std::size_t n : {std::size_t{4001}, std::size_t{10000}}) {
    const json e = h.call(alice, json{{"type", "chat_send"}, {"roomId", room}, {"text", std::string(n, 'a')}});
    EXPECT_EQ(e["code"], "bad_request");
    EXPECT_NE(e["message"].get<std::string>().find(std::to_string(n) + " characters; the limit is 4000"),
              std::string::npos)
        << e.dump();
  }
  h.out.take_published();
  const json m = send(alice, "fine");
  EXPECT_EQ(h.code(alice, json{{"type", "chat_edit"}, {"roomId", room}, {"messageId", m["id"]}, {"text", " \u200b"}}),
            "bad_request");
  EXPECT_EQ(h.code(alice, json{{"type", "chat_edit"}, {"roomId", room}, {"messageId", m["id"]},
                               {"text", std::string(4001, 'b')}}),
            "bad_request");
  const json page = h.ok(alice, json{{"type", "chat_history"}, {"roomId", room}, {"limit", 1}});
  EXPECT_EQ(page["messages"][0]["text"], "fine");
  EXPECT_EQ(h.code(alice, json{{"type", "chat_create_room"}, {"name", " \u200b "}}), "bad_request");
}

TEST_F(ChatRoomListAndRules, IdsMustBeStringsOfDigits) {
  const std::string mid = send(alice, "x")["id"];
  const json cases[] = {
      {{"type", "chat_send"}, {"roomId", std::stoll(room)}, {"text", "x"}},
      {{"type", "chat_history"}, {"roomId", true}},
      {{"type", "chat_edit"}, {"roomId", room}, {"messageId", std::stoll(mid)}, {"text", "y"}},
      {{"type", "chat_react"}, {"roomId", room}, {"messageId", json::array({mid})}, {"emoji", "a"}, {"add", true}},
      {{"type", "chat_mark_read"}, {"roomId", room}, {"messageId", std::stod(mid)}},
      {{"type", "chat_history"}, {"roomId", room}, {"before", json::object()}},
  };
  for (const json& msg : cases) {
    const json e = h.call(alice, msg);
    EXPECT_EQ(e["code"], "bad_request") << msg.dump();
    EXPECT_NE(e["message"].get<std::string>().find("must be a string of digits, like \"12\""), std::string::npos)
        << e.dump();
  }
  FakeContext sub{"alice", "c-s"};
  sub.state.channels.insert("doc:1");
  const std::string item = h.ok(sub, json{{"type", "sync_insert"}, {"channel", "doc:1"}, {"resource", "t"},
                                          {"data", json::object()}})["item"]["id"];
  const json e = h.call(sub, json{{"type", "sync_update"}, {"channel", "doc:1"}, {"resource", "t"},
                                  {"id", std::stoll(item)}, {"version", 1}, {"data", json::object()}});
  EXPECT_EQ(e["code"], "bad_request");
  EXPECT_NE(e["message"].get<std::string>().find("id must be a string of digits"), std::string::npos);
  EXPECT_EQ(h.code(sub, json{{"type", "sync_delete"}, {"channel", "doc:1"}, {"resource", "t"}, {"id", 1}}),
            "bad_request");
}

TEST_F(ChatRoomListAndRules, PresenceAndSyncRefuseChatChannelsEvenWhenSubscribed) {
  FakeContext sub{"alice", "c-s"};
  sub.state.channels.insert(channel);
  EXPECT_EQ(h.code(sub, json{{"type", "presence_join"}, {"channel", channel}}), "forbidden");
  EXPECT_EQ(h.code(sub, json{{"type", "sync_insert"}, {"channel", channel}, {"resource", "t"},
                             {"data", json::object()}}),
            "forbidden");
  EXPECT_TRUE(h.out.take_published().empty());
  EXPECT_TRUE(h.out.take_raw().empty());
}

}  // namespace
}  // namespace tidewire::server
