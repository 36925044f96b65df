#include "state/room_list_state.hpp"

#include <gtest/gtest.h>

using tidewire::state::Json;
using tidewire::state::RoomListState;

namespace {

std::string ids(const RoomListState& list) {
  std::string out;
  for (const Json& r : list.rooms()) out += (out.empty() ? "" : ",") + r["id"].get<std::string>();
  return out;
}

Json room(const char* id, const char* last_id) {
  Json r{{"id", id}, {"name", std::string("room ") + id}};
  r["lastMessage"] = last_id == nullptr ? Json() : Json{{"id", last_id}, {"text", "hi"}};
  r["unreadCount"] = 0;
  return r;
}

}  // namespace

TEST(RoomListState, OrdersByLastMessageThenByIdNewestFirstComparingIdsAsIntegers) {
  RoomListState list;
  ASSERT_TRUE(list.set_rooms(Json::array({room("2", nullptr), room("1", "9"), room("10", nullptr), room("3", "10")})));
  // "10" > "9" as integers (not as strings); rooms without messages after, newest id first.
  EXPECT_EQ(ids(list), "3,1,10,2");
}

TEST(RoomListState, AcceptsTheListRoomsAnswerObjectAndRefusesAnythingElse) {
  RoomListState list;
  ASSERT_TRUE(list.set_rooms(Json{{"rooms", Json::array({room("1", nullptr)})}}));
  EXPECT_EQ(ids(list), "1");
  EXPECT_FALSE(list.set_rooms(Json("nope")));
  EXPECT_FALSE(list.set_rooms(Json{{"rooms", 3}}));
  EXPECT_EQ(ids(list), "1");  // unchanged
}

TEST(RoomListState, ARoomEventMovesTheRoomToItsNewPlace) {
  RoomListState list;
  list.set_rooms(Json::array({room("1", "5"), room("2", "4")}));
  EXPECT_EQ(ids(list), "1,2");
  ASSERT_TRUE(list.upsert(room("2", "6")));
  EXPECT_EQ(ids(list), "2,1");
  EXPECT_EQ(list.size(), 2u);
}

TEST(RoomListState, ABareRoomKeepsTheSummaryFieldsTheListHas) {
  RoomListState list;
  Json summary = room("1", "5");
  summary["unreadCount"] = 3;
  list.set_rooms(Json::array({summary}));
  ASSERT_TRUE(list.upsert(Json{{"id", "1"}, {"name", "renamed"}}));
  const Json r = list.rooms()[0];
  EXPECT_EQ(r["name"], "renamed");
  EXPECT_EQ(r["lastMessage"]["id"], "5");
  EXPECT_EQ(r["unreadCount"], 3);
  // A new bare room starts with no message and nothing unread.
  ASSERT_TRUE(list.upsert(Json{{"id", "7"}, {"name", "new"}}));
  EXPECT_TRUE(list.rooms()[1]["lastMessage"].is_null());
  EXPECT_EQ(list.rooms()[1]["unreadCount"], 0);
}

TEST(RoomListState, RemovesAndRefusesRoomsWithoutAnId) {
  RoomListState list;
  list.set_rooms(Json::array({room("1", nullptr), Json{{"name", "no id"}}, Json(4)}));
  EXPECT_EQ(ids(list), "1");
  EXPECT_FALSE(list.upsert(Json{{"id", 5}}));
  EXPECT_FALSE(list.upsert(Json::array()));
  EXPECT_TRUE(list.remove("1"));
  EXPECT_FALSE(list.remove("1"));
  EXPECT_EQ(list.size(), 0u);
}
