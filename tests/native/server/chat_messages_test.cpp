// Chat messages through Services (docs/PROTOCOL.md section 11): send with client-id dedupe, history paging,
// edits, reactions, typing that expires by itself, read markers, participant-only access and hostile inputs.
#include <gtest/gtest.h>

#include "service_fakes.hpp"

namespace tidewire::server {
namespace {

using namespace testing;

class ChatMessagesTest : public ChatRoomTest {
 protected:
  json history(json extra = json::object()) {
    json msg{{"type", "chat_history"}, {"roomId", room}};
    msg.update(extra);
    return h.ok(alice, msg);
  }
  static std::vector<std::string> texts(const json& messages) {
    std::vector<std::string> out;
    for (const json& m : messages) out.push_back(m["text"]);
    return out;
  }

  FakeContext mallory{"mallory", "c-m"};
};

TEST_F(ChatMessagesTest, SendStoresAndBroadcastsTheMessage) {
  h.now += 5;
  const json data = send(alice, "hello");
  const json& m = data["message"];
  EXPECT_EQ(m, json({{"id", m["id"]},
                     {"roomId", room},
                     {"senderId", "alice"},
                     {"text", "hello"},
                     {"createdAt", kStartMs + 5},
                     {"editedAt", nullptr},
                     {"reactions", json::object()},
                     {"reactedBy", json::object()}}));
  EXPECT_FALSE(data.contains("duplicate"));
  const auto events = h.out.take_published();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].channel, channel);
  EXPECT_EQ(events[0].event, "message");
  EXPECT_EQ(events[0].from, "alice");
  EXPECT_EQ(events[0].payload, m);
  // Ids grow: compare them as integers.
  EXPECT_GT(std::stoll(send(bob, "next")["message"]["id"].get<std::string>()), std::stoll(m["id"].get<std::string>()));
}

TEST_F(ChatMessagesTest, ClientIdMakesSendIdempotent) {
  const json first = send(alice, "once", {{"id", "k-1"}});
  h.out.take_published();
  const json again = send(alice, "once", {{"id", "k-1"}});
  EXPECT_EQ(again["message"], first["message"]);
  EXPECT_EQ(again["duplicate"], true);
  EXPECT_TRUE(h.out.take_published().empty());  // not broadcast twice
  EXPECT_NE(send(bob, "same id, other sender", {{"id", "k-1"}})["message"]["id"], first["message"]["id"]);
  EXPECT_EQ(texts(history()["messages"]), (std::vector<std::string>{"once", "same id, other sender"}));
}

TEST_F(ChatMessagesTest, TextIsOneTo4000Characters) {
  EXPECT_EQ(h.code(alice, json{{"type", "chat_send"}, {"roomId", room}, {"text", ""}}), "bad_request");
  EXPECT_EQ(h.code(alice, json{{"type", "chat_send"}, {"roomId", room}, {"text", std::string(4001, 'a')}}),
            "bad_request");
  EXPECT_EQ(h.code(alice, json{{"type", "chat_send"}, {"roomId", room}, {"text", 42}}), "bad_request");
  EXPECT_EQ(h.code(alice, json{{"type", "chat_send"}, {"roomId", room}}), "bad_request");
  send(alice, std::string(4000, 'a'));
  std::string accents;
  for (int i = 0; i < 4000; ++i) accents += "\xC3\xA9";  // 4000 characters, 8000 bytes
  send(alice, accents);
  EXPECT_EQ(h.code(alice, json{{"type", "chat_send"}, {"roomId", room}, {"text", accents + "\xC3\xA9"}}),
            "bad_request");
}

TEST_F(ChatMessagesTest, HistoryPagesBackwardsOldestFirst) {
  for (int i = 1; i <= 120; ++i) send(i % 2 ? alice : bob, "m" + std::to_string(i));
  json page = history();
  ASSERT_EQ(page["messages"].size(), 50u);  // the default limit
  EXPECT_EQ(page["messages"][0]["text"], "m71");
  EXPECT_EQ(page["messages"][49]["text"], "m120");
  EXPECT_EQ(page["hasMore"], true);

  page = history({{"before", page["messages"][0]["id"]}, {"limit", 60}});
  ASSERT_EQ(page["messages"].size(), 60u);
  EXPECT_EQ(page["messages"][0]["text"], "m11");
  EXPECT_EQ(page["messages"][59]["text"], "m70");
  EXPECT_EQ(page["hasMore"], true);

  page = history({{"before", page["messages"][0]["id"]}, {"limit", 10}});  // exactly what is left
  ASSERT_EQ(page["messages"].size(), 10u);
  EXPECT_EQ(page["messages"][0]["text"], "m1");
  EXPECT_EQ(page["hasMore"], false);

  page = history({{"before", page["messages"][0]["id"]}});
  EXPECT_EQ(page["messages"], json::array());
  EXPECT_EQ(page["hasMore"], false);

  EXPECT_EQ(history({{"limit", 1000}})["messages"].size(), 120u);
  EXPECT_EQ(h.code(alice, json{{"type", "chat_history"}, {"roomId", room}, {"limit", 0}}), "bad_request");
  EXPECT_EQ(h.code(alice, json{{"type", "chat_history"}, {"roomId", room}, {"limit", "10"}}), "bad_request");
  EXPECT_EQ(h.code(alice, json{{"type", "chat_history"}, {"roomId", room}, {"before", "x"}}), "bad_request");
}

TEST_F(ChatMessagesTest, HistoryLimitIsCappedAt200) {
  for (int i = 1; i <= 205; ++i) send(alice, "m" + std::to_string(i));
  const json page = history({{"limit", 1000}});
  ASSERT_EQ(page["messages"].size(), 200u);
  EXPECT_EQ(page["messages"][0]["text"], "m6");
  EXPECT_EQ(page["hasMore"], true);
}

TEST_F(ChatMessagesTest, OnlyTheSenderEditsAndEveryoneSeesIt) {
  const std::string id = send(alice, "tpyo")["message"]["id"];
  h.out.take_published();
  EXPECT_EQ(h.code(bob, json{{"type", "chat_edit"}, {"roomId", room}, {"messageId", id}, {"text", "hacked"}}),
            "forbidden");
  h.now += 100;
  const json edited = h.ok(alice, json{{"type", "chat_edit"}, {"roomId", room}, {"messageId", id}, {"text", "typo"}});
  EXPECT_EQ(edited["message"]["text"], "typo");
  EXPECT_EQ(edited["message"]["editedAt"], kStartMs + 100);
  EXPECT_EQ(edited["message"]["createdAt"], kStartMs);
  const auto events = h.out.take_published();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].event, "message_edited");
  EXPECT_EQ(events[0].payload, edited["message"]);
  EXPECT_EQ(history()["messages"][0]["text"], "typo");
  EXPECT_EQ(h.code(alice, json{{"type", "chat_edit"}, {"roomId", room}, {"messageId", "999"}, {"text", "x"}}),
            "not_found");
}

TEST_F(ChatMessagesTest, ReactionsAreCountedPerUserAndPersisted) {
  const std::string id = send(alice, "react to me")["message"]["id"];
  h.out.take_published();
  auto react = [&](FakeContext& who, const std::string& emoji, bool add) {
    return h.ok(who, json{{"type", "chat_react"}, {"roomId", room}, {"messageId", id}, {"emoji", emoji}, {"add", add}});
  };
  react(alice, "👍", true);
  react(alice, "👍", true);  // the same user twice counts once
  EXPECT_EQ(react(bob, "👍", true),
            json({{"messageId", id}, {"reactions", {{"👍", 2}}}, {"reactedBy", {{"👍", {"alice", "bob"}}}}}));
  react(bob, "🎉", true);
  EXPECT_EQ(react(alice, "👍", false)["reactions"], json({{"👍", 1}, {"🎉", 1}}));
  const auto events = h.out.take_published();
  ASSERT_EQ(events.size(), 4u);  // the repeated add changed nothing and was not broadcast
  EXPECT_EQ(events[3].event, "reaction");
  EXPECT_EQ(events[3].payload,
            json({{"messageId", id}, {"emoji", "👍"}, {"userId", "alice"}, {"add", false}, {"count", 1}}));
  EXPECT_EQ(history()["messages"][0]["reactions"], json({{"👍", 1}, {"🎉", 1}}));
  EXPECT_EQ(h.code(alice, json{{"type", "chat_react"}, {"roomId", room}, {"messageId", id}, {"emoji", "x"}}),
            "bad_request");  // add is required
  EXPECT_EQ(h.code(alice, json{{"type", "chat_react"}, {"roomId", room}, {"messageId", id},
                               {"emoji", std::string(65, 'e')}, {"add", true}}),
            "bad_request");
}

TEST_F(ChatMessagesTest, TypingExpiresByItself) {
  EXPECT_TRUE(h.call(alice, json{{"type", "chat_typing"}, {"roomId", room}, {"typing", true}}).is_null());  // no reply
  auto events = h.out.take_published();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].event, "typing");
  EXPECT_EQ(events[0].payload, json({{"userId", "alice"}, {"typing", true}, {"expiresAt", kStartMs + 5000}}));
  EXPECT_TRUE(events[0].transient);  // stale seconds later: no need to replay it on recovery
  EXPECT_EQ(h.services.next_deadline_ms(), kStartMs + 5000);

  h.advance(3000);
  h.call(alice, json{{"type", "chat_typing"}, {"roomId", room}, {"typing", true}});  // renewed
  h.out.take_published();
  h.advance(4999);  // 5 s after the first, but not after the renewal
  EXPECT_TRUE(h.out.take_published().empty());
  h.advance(1);
  events = h.out.take_published();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].channel, channel);
  EXPECT_EQ(events[0].from, "alice");
  EXPECT_EQ(events[0].payload, json({{"userId", "alice"}, {"typing", false}, {"expiresAt", kStartMs + 8000}}));
  EXPECT_TRUE(events[0].transient);
  h.advance(10'000);
  EXPECT_TRUE(h.out.take_published().empty());
  EXPECT_EQ(h.services.next_deadline_ms(), 0u);
}

TEST_F(ChatMessagesTest, TypingStopsOnFalseAndOnSend) {
  h.call(bob, json{{"type", "chat_typing"}, {"roomId", room}, {"typing", true}});
  h.call(bob, json{{"type", "chat_typing"}, {"roomId", room}, {"typing", false}});
  h.call(bob, json{{"type", "chat_typing"}, {"roomId", room}, {"typing", false}});  // nothing live: no event
  auto events = h.out.take_published();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].payload["typing"], false);

  h.call(bob, json{{"type", "chat_typing"}, {"roomId", room}, {"typing", true}});
  h.out.take_published();
  send(bob, "done typing");
  events = h.out.take_published();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].event, "typing");
  EXPECT_EQ(events[0].payload["typing"], false);
  EXPECT_EQ(events[1].event, "message");
  EXPECT_FALSE(events[1].transient);  // messages stay in the channel's history
  h.advance(60'000);
  EXPECT_TRUE(h.out.take_published().empty());
  EXPECT_EQ(h.code(bob, json{{"type", "chat_typing"}, {"roomId", room}, {"typing", "yes"}}), "bad_request");
}

TEST_F(ChatMessagesTest, MarkReadMovesForwardOnly) {
  std::vector<std::string> ids;
  for (int i = 0; i < 4; ++i) ids.push_back(send(alice, "m" + std::to_string(i))["message"]["id"]);
  send(bob, "own");
  auto mark = [&](const std::string& id) {
    return h.ok(bob, json{{"type", "chat_mark_read"}, {"roomId", room}, {"messageId", id}})["unreadCount"];
  };
  EXPECT_EQ(mark(ids[1]), 2);
  EXPECT_EQ(mark(ids[0]), 2);  // never backwards
  EXPECT_EQ(mark(ids[3]), 0);
  EXPECT_EQ(h.code(bob, json{{"type", "chat_mark_read"}, {"roomId", room}, {"messageId", "424242"}}), "not_found");
}

TEST_F(ChatMessagesTest, NonParticipantsCannotReadOrWrite) {
  const std::string id = send(alice, "private talk")["message"]["id"];
  h.out.take_published();
  const std::vector<json> requests = {
      {{"type", "chat_history"}, {"roomId", room}},
      {{"type", "chat_send"}, {"roomId", room}, {"text", "let me in"}},
      {{"type", "chat_edit"}, {"roomId", room}, {"messageId", id}, {"text", "x"}},
      {{"type", "chat_react"}, {"roomId", room}, {"messageId", id}, {"emoji", "x"}, {"add", true}},
      {{"type", "chat_typing"}, {"roomId", room}, {"typing", true}},
      {{"type", "chat_mark_read"}, {"roomId", room}, {"messageId", id}},
  };
  for (const json& msg : requests) EXPECT_EQ(h.code(mallory, msg), "forbidden") << msg.dump();
  EXPECT_TRUE(h.out.take_published().empty());
  EXPECT_FALSE(h.services.may_subscribe("mallory", channel));
}

TEST_F(ChatMessagesTest, MessagesOfAnotherRoomAreNotFound) {
  const std::string other =
      h.ok(bob, json{{"type", "chat_create_room"}, {"name", "Other"}})["room"]["id"];
  const std::string foreign = h.ok(bob, json{{"type", "chat_send"}, {"roomId", other}, {"text", "x"}})["message"]["id"];
  EXPECT_EQ(h.code(alice, json{{"type", "chat_edit"}, {"roomId", room}, {"messageId", foreign}, {"text", "y"}}),
            "not_found");
  EXPECT_EQ(h.code(alice, json{{"type", "chat_mark_read"}, {"roomId", room}, {"messageId", foreign}}), "not_found");
  EXPECT_EQ(h.code(alice, json{{"type", "chat_react"}, {"roomId", room}, {"messageId", true}, {"emoji", "x"},
                               {"add", true}}),
            "bad_request");
}

TEST(ChatUnavailableTest, ABrokenDatabaseAnswersInternalAndPresenceStillWorks) {
  ServicesConfig config;
  config.db_path = "/nonexistent-dir/sub/services.db";
  Harness h(config);
  EXPECT_FALSE(h.services.ok());
  EXPECT_NE(h.services.open_error().find("/nonexistent-dir"), std::string::npos);
  FakeContext alice{"alice", "c-a"};
  alice.state.channels.insert("room:x");
  EXPECT_EQ(h.code(alice, json{{"type", "chat_list_rooms"}}), "internal");
  EXPECT_EQ(h.code(alice, json{{"type", "sync_snapshot"}, {"channel", "room:x"}, {"resource", "todos"}}), "internal");
  EXPECT_FALSE(h.services.may_subscribe("alice", "chat:1"));
  h.ok(alice, json{{"type", "presence_join"}, {"channel", "room:x"}});
}

}  // namespace
}  // namespace tidewire::server
