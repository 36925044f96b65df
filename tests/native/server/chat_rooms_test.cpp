// Chat rooms through Services (docs/PROTOCOL.md section 11): creation, DMs, join/leave with notices, the list
// with last message and unread counts, access control, subscription rules, persistence and hostile inputs.
#include <gtest/gtest.h>

#include "service_fakes.hpp"

namespace tidewire::server {
namespace {

using namespace testing;

class ChatRoomsTest : public ::testing::Test {
 protected:
  std::string create(FakeContext& who, const std::string& name, const std::string& visibility = "public",
                     json participants = json::array()) {
    return h.create_room(who, name, participants, visibility);
  }
  json send(FakeContext& who, const std::string& room, const std::string& text) {
    return h.chat_send(who, room, text)["message"];
  }

  Harness h;
  FakeContext alice{"alice", "c-a"};
  FakeContext bob{"bob", "c-b"};
  FakeContext carol{"carol", "c-c"};
};

TEST_F(ChatRoomsTest, CreateRoomListsTheCreatorAndParticipants) {
  const json room = h.ok(alice, json{{"type", "chat_create_room"}, {"name", "General"},
                                     {"participants", {"bob", "bob", "alice"}}})["room"];
  EXPECT_EQ(room, json({{"id", room["id"]},
                        {"name", "General"},
                        {"kind", "room"},
                        {"visibility", "public"},
                        {"participants", {"alice", "bob"}},
                        {"createdBy", "alice"},
                        {"createdAt", kStartMs}}));
  EXPECT_TRUE(room["id"].is_string());
  EXPECT_NE(create(alice, "Other"), room["id"]);
}

TEST_F(ChatRoomsTest, JoinAndLeaveAPublicRoomWithNotices) {
  const std::string id = create(alice, "General");
  const json joined = h.ok(bob, json{{"type", "chat_join"}, {"roomId", id}})["room"];
  EXPECT_EQ(joined["participants"], json({"alice", "bob"}));
  auto events = h.out.take_published();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].channel, "chat:" + id);
  EXPECT_EQ(events[0].event, "member_joined");
  EXPECT_EQ(events[0].from, "bob");
  EXPECT_EQ(events[0].payload, json({{"roomId", id}, {"userId", "bob"}}));

  h.ok(bob, json{{"type", "chat_join"}, {"roomId", id}});  // already in: no second notice
  EXPECT_TRUE(h.out.take_published().empty());

  EXPECT_EQ(h.ok(bob, json{{"type", "chat_leave"}, {"roomId", id}})["room"]["participants"], json({"alice"}));
  events = h.out.take_published();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].event, "member_left");
  EXPECT_EQ(events[0].payload, json({{"roomId", id}, {"userId", "bob"}}));
  h.ok(bob, json{{"type", "chat_leave"}, {"roomId", id}});  // leaving again: no notice
  EXPECT_TRUE(h.out.take_published().empty());
  EXPECT_EQ(h.code(bob, json{{"type", "chat_send"}, {"roomId", id}, {"text", "hi"}}), "forbidden");
}

TEST_F(ChatRoomsTest, PrivateRoomsNeedAnInvitation) {
  const std::string id = create(alice, "Secret", "private", {"bob"});
  EXPECT_EQ(h.code(carol, json{{"type", "chat_join"}, {"roomId", id}}), "forbidden");
  EXPECT_EQ(h.code(carol, json{{"type", "chat_history"}, {"roomId", id}}), "forbidden");
  EXPECT_EQ(h.code(carol, json{{"type", "chat_leave"}, {"roomId", id}}), "forbidden");
  EXPECT_FALSE(h.services.may_subscribe("carol", "chat:" + id));
  EXPECT_TRUE(h.services.may_subscribe("bob", "chat:" + id));
  h.ok(bob, json{{"type", "chat_leave"}, {"roomId", id}});
  EXPECT_FALSE(h.services.may_subscribe("bob", "chat:" + id));
  h.ok(bob, json{{"type", "chat_join"}, {"roomId", id}});  // a former participant may come back
  EXPECT_TRUE(h.services.may_subscribe("bob", "chat:" + id));
}

TEST_F(ChatRoomsTest, MaySubscribeOnlyConcernsChatChannels) {
  const std::string id = create(alice, "General");
  EXPECT_TRUE(h.services.may_subscribe("alice", "chat:" + id));
  EXPECT_FALSE(h.services.may_subscribe("bob", "chat:" + id));  // public, but not joined yet
  EXPECT_FALSE(h.services.may_subscribe("alice", "chat:999"));
  EXPECT_FALSE(h.services.may_subscribe("alice", "chat:abc"));
  EXPECT_FALSE(h.services.may_subscribe("alice", "chat:"));
  EXPECT_FALSE(h.services.may_subscribe("alice", "chat:01"));
  EXPECT_TRUE(h.services.may_subscribe("bob", "room:lobby"));
  EXPECT_TRUE(h.services.may_subscribe("bob", "chatroom"));
}

TEST_F(ChatRoomsTest, OneDirectMessageRoomPerPair) {
  const json a = h.ok(alice, json{{"type", "chat_open_dm"}, {"userId", "bob"}})["room"];
  const json b = h.ok(bob, json{{"type", "chat_open_dm"}, {"userId", "alice"}})["room"];
  EXPECT_EQ(a, b);
  EXPECT_EQ(a["kind"], "dm");
  EXPECT_EQ(a["visibility"], "private");
  EXPECT_EQ(a["participants"], json({"alice", "bob"}));
  const std::string id = a["id"];
  EXPECT_EQ(h.code(carol, json{{"type", "chat_join"}, {"roomId", id}}), "forbidden");
  EXPECT_NE(h.ok(carol, json{{"type", "chat_open_dm"}, {"userId", "bob"}})["room"]["id"], id);
  EXPECT_EQ(h.code(alice, json{{"type", "chat_open_dm"}, {"userId", "alice"}}), "bad_request");
  // Leaving a DM and opening it again brings the same room back.
  h.ok(alice, json{{"type", "chat_leave"}, {"roomId", id}});
  EXPECT_EQ(h.ok(alice, json{{"type", "chat_open_dm"}, {"userId", "bob"}})["room"]["id"], id);
}

TEST_F(ChatRoomsTest, ListRoomsWithLastMessageAndUnreadCount) {
  const std::string quiet = create(alice, "Quiet", "public", {"bob"});
  const std::string busy = create(alice, "Busy", "public", {"bob"});
  send(alice, busy, "one");
  const json two = send(alice, busy, "two");
  send(bob, busy, "mine");  // own messages are never unread
  create(carol, "Not mine");

  json rooms = h.ok(bob, json{{"type", "chat_list_rooms"}})["rooms"];
  ASSERT_EQ(rooms.size(), 2u);
  EXPECT_EQ(rooms[0]["id"], busy);  // most recent activity first
  EXPECT_EQ(rooms[0]["lastMessage"]["text"], "mine");
  EXPECT_EQ(rooms[0]["unreadCount"], 2);
  EXPECT_EQ(rooms[1]["id"], quiet);
  EXPECT_TRUE(rooms[1]["lastMessage"].is_null());
  EXPECT_EQ(rooms[1]["unreadCount"], 0);
  EXPECT_EQ(rooms[0]["participants"], json({"alice", "bob"}));

  EXPECT_EQ(h.ok(bob, json{{"type", "chat_mark_read"}, {"roomId", busy}, {"messageId", two["id"]}}),
            json({{"unreadCount", 0}}));
  EXPECT_EQ(h.ok(carol, json{{"type", "chat_list_rooms"}})["rooms"].size(), 1u);
}

TEST_F(ChatRoomsTest, RoomsAndMessagesSurviveAReopen) {
  TempDir dir;
  ServicesConfig config;
  config.db_path = dir.file("chat.db");
  std::string id;
  {
    Harness first(config);
    ASSERT_TRUE(first.services.ok()) << first.services.open_error();
    id = first.ok(alice, json{{"type", "chat_create_room"}, {"name", "Kept"}, {"participants", {"bob"}}})["room"]["id"];
    first.ok(alice, json{{"type", "chat_send"}, {"roomId", id}, {"text", "persisted"}});
  }
  Harness second(config);
  ASSERT_TRUE(second.services.ok()) << second.services.open_error();
  const json rooms = second.ok(bob, json{{"type", "chat_list_rooms"}})["rooms"];
  ASSERT_EQ(rooms.size(), 1u);
  EXPECT_EQ(rooms[0]["lastMessage"]["text"], "persisted");
  EXPECT_EQ(rooms[0]["unreadCount"], 1);
  EXPECT_TRUE(second.services.may_subscribe("bob", "chat:" + id));
  EXPECT_NE(second.ok(alice, json{{"type", "chat_create_room"}, {"name", "New"}})["room"]["id"], id);  // no reuse
}

TEST_F(ChatRoomsTest, HostileInputsGetClearErrors) {
  const std::string id = create(alice, "General");
  const std::vector<std::pair<json, std::string>> cases = {
      {{{"type", "chat_create_room"}}, "bad_request"},
      {{{"type", "chat_create_room"}, {"name", ""}}, "bad_request"},
      {{{"type", "chat_create_room"}, {"name", 7}}, "bad_request"},
      {{{"type", "chat_create_room"}, {"name", std::string(101, 'n')}}, "bad_request"},
      {{{"type", "chat_create_room"}, {"name", "x"}, {"visibility", "secret"}}, "bad_request"},
      {{{"type", "chat_create_room"}, {"name", "x"}, {"participants", "bob"}}, "bad_request"},
      {{{"type", "chat_create_room"}, {"name", "x"}, {"participants", {1, 2}}}, "bad_request"},
      {{{"type", "chat_create_room"}, {"name", "x"}, {"participants", {"a\nb"}}}, "bad_request"},
      {{{"type", "chat_create_room"}, {"name", "x"}, {"participants", json::array({""})}}, "bad_request"},
      {{{"type", "chat_open_dm"}}, "bad_request"},
      {{{"type", "chat_open_dm"}, {"userId", json::array()}}, "bad_request"},
      {{{"type", "chat_join"}}, "bad_request"},
      {{{"type", "chat_join"}, {"roomId", "abc"}}, "bad_request"},
      {{{"type", "chat_join"}, {"roomId", "-1"}}, "bad_request"},
      {{{"type", "chat_join"}, {"roomId", -1}}, "bad_request"},
      {{{"type", "chat_join"}, {"roomId", 1.5}}, "bad_request"},
      {{{"type", "chat_join"}, {"roomId", "99999999999999999999"}}, "bad_request"},
      {{{"type", "chat_join"}, {"roomId", "12345"}}, "not_found"},
      {{{"type", "chat_leave"}, {"roomId", "12345"}}, "not_found"},
      {{{"type", "chat_history"}, {"roomId", "12345"}}, "not_found"},
      {{{"type", "chat_frobnicate"}, {"roomId", id}}, "unknown_type"},
  };
  for (const auto& [msg, code] : cases) EXPECT_EQ(h.code(alice, msg), code) << msg.dump();
  // Ids are strings (section 11): a JSON number is refused with a message that shows the right form.
  const json answer = h.call(alice, json{{"type", "chat_join"}, {"roomId", std::stoll(id)}});
  EXPECT_EQ(answer["code"], "bad_request");
  EXPECT_NE(answer["message"].get<std::string>().find("roomId must be a string of digits, like \"12\""),
            std::string::npos);
}

}  // namespace
}  // namespace tidewire::server
