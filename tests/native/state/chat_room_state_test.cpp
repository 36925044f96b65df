#include "state/chat_room_state.hpp"

#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "state/state_json.hpp"

using tidewire::state::ChatRoomState;
using tidewire::testing::N;
using tidewire::testing::parsed;

namespace {
// A room whose first page (a chat_history reply) is `page`.
ChatRoomState room_with(std::string_view page) {
  ChatRoomState room;
  EXPECT_TRUE(room.apply_history(parsed(page)));
  return room;
}
}  // namespace

TEST(ChatRoomState, PagesBackwardsAndKeepsOrder) {
  ChatRoomState room =
      room_with(R"({"messages":[{"id":"11","createdAt":110,"text":"c"},{"id":"12","createdAt":120,"text":"d"}],"hasMore":true})");
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

// Issue #12: the room resumes after its newest message on every (re)subscribe (chat_history `after`); what it
// fetches merges with what arrived live meanwhile: no duplicates, order kept, older paging untouched.
TEST(ChatRoomState, ResumeAfterNewestMergesWithoutDuplicates) {
  ChatRoomState room =
      room_with(R"({"messages":[{"id":"8","createdAt":80,"text":"a"},{"id":"9","createdAt":90,"text":"b"}],"hasMore":true})");
  EXPECT_EQ(room.newest_id(), "9");
  // Live while resuming: 11 arrived by event before the resume's page (which holds 10, 11 and 12).
  room.apply_message(parsed(R"({"id":"11","createdAt":110,"text":"d"})"));
  EXPECT_EQ(room.newest_id(), "11");
  ASSERT_TRUE(room.apply_newer(parsed(R"({"messages":[{"id":"10","createdAt":100,"text":"c"},)"
                                      R"({"id":"11","createdAt":110,"text":"d"},{"id":"12","createdAt":120,"text":"e"}],)"
                                      R"("hasMore":false})")));
  const auto m = N(room.messages());
  ASSERT_EQ(m.size(), 5u);
  std::string texts;
  for (const auto& x : m) texts += x["text"].get<std::string>();
  EXPECT_EQ(texts, "abcde");
  EXPECT_TRUE(room.has_more()) << "a forward page says nothing about older messages";
  EXPECT_EQ(room.newest_id(), "12");
  EXPECT_FALSE(room.apply_newer(parsed(R"({"nope":1})")));
}

TEST(ChatRoomState, DecimalIdsCompareAsIntegers) {
  ChatRoomState room;
  room.apply_message(parsed(R"({"id":"10","createdAt":5,"text":"second"})"));
  room.apply_message(parsed(R"({"id":"9","createdAt":5,"text":"first"})"));
  EXPECT_EQ(N(room.messages())[0]["text"], "first");
  EXPECT_EQ(room.newest_id(), "10");
}

// Issue #12: own messages show at once while offline (pending), then the server's message replaces them
// (matched by client message id), or they are marked failed and may be retried.
TEST(ChatRoomState, PendingOwnMessagesConfirmFailAndRetry) {
  ChatRoomState room;
  room.apply_message(parsed(R"({"id":"1","createdAt":10,"text":"hi","senderId":"bob"})"));
  ASSERT_TRUE(room.add_pending(parsed(R"({"id":"pending-c1","clientId":"c1","senderId":"me","text":"one","createdAt":20})")));
  ASSERT_TRUE(room.add_pending(parsed(R"({"id":"pending-c2","clientId":"c2","senderId":"me","text":"two","createdAt":21})")));
  EXPECT_FALSE(room.add_pending(parsed(R"({"clientId":"c2","text":"again"})"))) << "one entry per client id";
  EXPECT_FALSE(room.add_pending(parsed(R"({"text":"no id"})")));
  auto m = N(room.messages());
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m[1]["id"], "pending-c1");
  EXPECT_EQ(m[1]["status"], "pending");
  EXPECT_EQ(m[1]["clientId"], "c1");
  EXPECT_EQ(room.message_count(), 1u);
  EXPECT_EQ(room.newest_id(), "1") << "pending messages are not a resume point";

  // A message from someone else arrives meanwhile: pending ones stay last.
  room.apply_message(parsed(R"({"id":"2","createdAt":30,"text":"live","senderId":"bob"})"));
  EXPECT_EQ(N(room.messages())[2]["id"], "pending-c1");

  const auto confirmed = parsed(R"({"id":"3","createdAt":40,"text":"one","senderId":"me"})");
  ASSERT_TRUE(room.settle_pending("c1", &confirmed));
  ASSERT_TRUE(room.mark_pending("c2", "offline too long"));
  m = N(room.messages());
  ASSERT_EQ(m.size(), 4u);
  EXPECT_EQ(m[2]["id"], "3");
  EXPECT_FALSE(m[2].contains("status"));
  EXPECT_EQ(m[3]["status"], "failed");
  EXPECT_EQ(m[3]["error"], "offline too long");
  ASSERT_TRUE(room.mark_pending("c2", ""));
  EXPECT_EQ(N(room.messages())[3]["status"], "pending");
  EXPECT_FALSE(N(room.messages())[3].contains("error"));
  // The reply after an event already brought the message: no duplicate.
  const auto two = parsed(R"({"id":"4","createdAt":50,"text":"two","senderId":"me"})");
  room.apply_message(two);
  ASSERT_TRUE(room.settle_pending("c2", &two));
  EXPECT_EQ(room.pending_count(), 0u);
  EXPECT_EQ(N(room.messages()).size(), 4u);
  EXPECT_FALSE(room.settle_pending("c2", &two));
  // The event with the client id comes before the reply: it settles the pending copy (never shown twice), and
  // the reply then changes nothing. Another sender's message with the same client id is not that echo.
  ASSERT_TRUE(room.add_pending(parsed(R"({"id":"pending-c5","clientId":"c5","senderId":"me","text":"five"})")));
  room.apply_message(parsed(R"({"id":"5","createdAt":60,"text":"other","senderId":"bob","clientId":"c5"})"));
  EXPECT_EQ(room.pending_count(), 1u);
  const auto five = parsed(R"({"id":"6","createdAt":61,"text":"five","senderId":"me","clientId":"c5"})");
  room.apply_message(five);
  EXPECT_EQ(room.pending_count(), 0u);
  ASSERT_EQ(N(room.messages()).size(), 6u);
  EXPECT_EQ(N(room.messages())[5]["id"], "6");
  EXPECT_FALSE(room.settle_pending("c5", &five));
  EXPECT_EQ(N(room.messages()).size(), 6u);
  ASSERT_TRUE(room.add_pending(parsed(R"({"clientId":"c3","text":"drop me"})")));
  EXPECT_TRUE(room.settle_pending("c3", nullptr));
  EXPECT_FALSE(room.settle_pending("c3", nullptr));
  EXPECT_EQ(N(room.messages()).size(), 6u);
}

// Issue #12: who reacted, so the client can mark its own reaction and toggle it off.
TEST(ChatRoomState, ReactionsTrackWhoReacted) {
  ChatRoomState room;
  room.apply_message(parsed(R"({"id":"1","createdAt":1,"text":"x","reactedBy":{"👍":["bob"]},"reactions":{"👍":1}})"));
  room.apply_reaction(parsed(R"({"messageId":"1","emoji":"👍","userId":"me","add":true,"count":2})"));
  room.apply_reaction(parsed(R"({"messageId":"1","emoji":"👍","userId":"me","add":true,"count":2})"));  // replay
  auto m = N(room.messages())[0];
  EXPECT_EQ(m["reactions"]["👍"], 2);
  EXPECT_EQ(m["reactedBy"]["👍"], (nlohmann::json{"bob", "me"}));
  room.apply_reaction(parsed(R"({"messageId":"1","emoji":"👍","userId":"me","add":false,"count":1})"));
  EXPECT_EQ(N(room.messages())[0]["reactedBy"]["👍"], (nlohmann::json{"bob"}));
  room.apply_reaction(parsed(R"({"messageId":"1","emoji":"👍","userId":"bob","add":false,"count":0})"));
  m = N(room.messages())[0];
  EXPECT_FALSE(m["reactions"].contains("👍"));
  EXPECT_FALSE(m["reactedBy"].contains("👍"));
}

// Issue #12: member_joined / member_left keep the participants and leave a line in the room.
TEST(ChatRoomState, MembersJoinAndLeave) {
  ChatRoomState room;
  ASSERT_TRUE(room.set_participants(parsed(R"(["me","bob","me"])")));
  EXPECT_EQ(N(room.participants()), (nlohmann::json{"bob", "me"}));
  ASSERT_TRUE(room.apply_member(parsed(R"({"roomId":"1","userId":"eve"})"), true, 100));
  ASSERT_TRUE(room.apply_member(parsed(R"({"roomId":"1","userId":"eve"})"), true, 101));  // replay: no line
  ASSERT_TRUE(room.apply_member(parsed(R"({"roomId":"1","userId":"bob"})"), false, 200));
  EXPECT_FALSE(room.apply_member(parsed(R"({"roomId":"1"})"), true, 300));
  EXPECT_EQ(N(room.participants()), (nlohmann::json{"eve", "me"}));
  const auto e = N(room.member_events());
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(e[0]["userId"], "eve");
  EXPECT_EQ(e[0]["joined"], true);
  EXPECT_EQ(e[0]["at"], 100);
  EXPECT_EQ(e[1]["userId"], "bob");
  EXPECT_EQ(e[1]["joined"], false);
  EXPECT_FALSE(room.set_participants(parsed(R"({"no":1})")));
}
