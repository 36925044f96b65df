#include "client/chat_room_state.hpp"

#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/json_text.hpp"

using tidewire::client::ChatRoomState;
using tidewire::testing::N;
using tidewire::testing::parsed;

TEST(ChatRoomState, PagesBackwardsAndKeepsOrder) {
  ChatRoomState room;
  room.apply_history(parsed(
      R"({"messages":[{"id":"11","createdAt":110,"text":"c"},{"id":"12","createdAt":120,"text":"d"}],"hasMore":true})"));
  EXPECT_EQ(room.oldest_id(), "11");
  room.apply_message(parsed(R"({"id":"13","createdAt":130,"text":"e"})"));
  room.apply_history(parsed(
      R"({"messages":[{"id":"9","createdAt":90,"text":"a"},{"id":"10","createdAt":100,"text":"b"}],"hasMore":false})"));
  auto m = N(room.messages());
  ASSERT_EQ(m.size(), 5u);
  EXPECT_EQ(m[0]["text"], "a");
  EXPECT_EQ(m[4]["text"], "e");
  EXPECT_FALSE(room.has_more());
  // Edits replace in place; a duplicate delivery does not add a message.
  room.apply_message(parsed(R"({"id":"10","createdAt":100,"text":"b2","editedAt":200})"));
  room.apply_message(parsed(R"({"id":"13","createdAt":130,"text":"e"})"));
  m = N(room.messages());
  ASSERT_EQ(m.size(), 5u);
  EXPECT_EQ(m[1]["text"], "b2");
}

TEST(ChatRoomState, ReactionsUpdateCounts) {
  ChatRoomState room;
  room.apply_message(parsed(R"({"id":"1","createdAt":1,"text":"x"})"));
  room.apply_reaction(parsed(R"({"messageId":"1","emoji":"👍","count":2})"));
  EXPECT_EQ(N(room.messages())[0]["reactions"]["👍"], 2);
  room.apply_reaction(parsed(R"({"messageId":"1","emoji":"👍","count":0})"));
  EXPECT_FALSE(N(room.messages())[0]["reactions"].contains("👍"));
  EXPECT_FALSE(room.apply_reaction(parsed(R"({"messageId":"404","emoji":"x","count":1})")));
}

TEST(ChatRoomState, TypingUsersExpireByThemselves) {
  ChatRoomState room(6000);
  room.apply_typing(parsed(R"({"userId":"bob","typing":true})"), 1000);
  room.apply_typing(parsed(R"({"userId":"eve","typing":true})"), 3000);
  EXPECT_EQ(room.typing_users(5000), (std::vector<std::string>{"bob", "eve"}));
  EXPECT_EQ(room.next_typing_expiry(), 7000);
  EXPECT_EQ(room.typing_users(7000), (std::vector<std::string>{"eve"}));
  room.apply_typing(parsed(R"({"userId":"eve","typing":false})"), 7500);
  EXPECT_TRUE(room.typing_users(7500).empty());
  EXPECT_FALSE(room.apply_typing(parsed(R"({"typing":true})"), 0));
}

TEST(ChatRoomState, OrdersByCreatedAtThenIdAndEditsKeepTheirPlace) {
  ChatRoomState room;
  room.apply_message(parsed(R"({"id":"b","createdAt":5,"text":"1"})"));
  room.apply_message(parsed(R"({"id":"a","createdAt":5,"text":"2"})"));
  room.apply_message(parsed(R"({"id":"z","createdAt":1,"text":"3"})"));
  room.apply_message(parsed(R"({"id":"c","createdAt":9,"text":"4"})"));
  room.apply_message(parsed(R"({"id":"b","createdAt":0,"text":"edited"})"));  // an edit: same place
  ASSERT_TRUE(room.apply_reaction(parsed(R"({"messageId":"a","emoji":"+1","count":2})")));
  EXPECT_FALSE(room.apply_reaction(parsed(R"({"messageId":"nope","emoji":"+1","count":2})")));
  const auto m = N(room.messages());
  ASSERT_EQ(m.size(), 4u);
  EXPECT_EQ(m[0]["id"], "z");
  EXPECT_EQ(m[1]["id"], "a");
  EXPECT_EQ(m[1]["reactions"]["+1"], 2);
  EXPECT_EQ(m[2]["id"], "b");
  EXPECT_EQ(m[2]["text"], "edited");
  EXPECT_EQ(m[3]["id"], "c");
  EXPECT_EQ(room.message_count(), 4u);
  EXPECT_EQ(room.oldest_id(), "z");
}

TEST(ChatRoomState, TypingUsersAreListedByUserIdAndExpireFromAnywhere) {
  ChatRoomState room(1000);
  room.apply_typing(parsed(R"({"userId":"carol","typing":true})"), 0);
  room.apply_typing(parsed(R"({"userId":"alice","typing":true})"), 500);
  room.apply_typing(parsed(R"({"userId":"bob","typing":true})"), 100);
  room.apply_typing(parsed(R"({"userId":"dave","typing":true})"), 50);
  EXPECT_EQ(room.typing_users(10), (std::vector<std::string>{"alice", "bob", "carol", "dave"}));
  EXPECT_EQ(room.next_typing_expiry(), 1000);
  room.apply_typing(parsed(R"({"userId":"carol","typing":true})"), 600);  // refreshed
  EXPECT_EQ(room.typing_users(1060), (std::vector<std::string>{"alice", "bob", "carol"}));  // dave expired
  EXPECT_EQ(room.typing_users(1200), (std::vector<std::string>{"alice", "carol"}));
  room.apply_typing(parsed(R"({"userId":"alice","typing":false})"), 1200);
  EXPECT_EQ(room.typing_users(1200), (std::vector<std::string>{"carol"}));
  EXPECT_EQ(room.typing_users(1600), (std::vector<std::string>{}));
  EXPECT_EQ(room.next_typing_expiry(), std::numeric_limits<double>::infinity());
}
