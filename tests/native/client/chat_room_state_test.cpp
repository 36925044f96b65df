#include "client/chat_room_state.hpp"

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
