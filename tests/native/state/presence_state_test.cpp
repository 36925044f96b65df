#include "state/presence_state.hpp"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "state/state_json.hpp"

using tidewire::state::PresenceState;
using tidewire::testing::N;
using tidewire::testing::parsed;

TEST(PresenceState, BuildsTheMemberMapFromStateAndDiffs) {
  PresenceState p;
  ASSERT_TRUE(p.apply_state(parsed(R"([{"userId":"a","status":"online","joinedAt":1,"info":{"name":"A"}}])")));
  EXPECT_EQ(p.online_count(), 1u);
  p.apply_diff(parsed(R"({"joins":[{"userId":"b","status":"busy","joinedAt":2}],"leaves":[],"updates":[]})"));
  EXPECT_EQ(p.online_count(), 2u);
  p.apply_diff(parsed(R"({"updates":[{"userId":"a","status":"away"}]})"));
  EXPECT_EQ(p.find("a")->status, "away");
  EXPECT_EQ(p.find("a")->joined_at, 1);  // an update keeps the join time
  p.apply_diff(parsed(R"({"leaves":[{"userId":"b"}]})"));
  EXPECT_EQ(p.online_count(), 1u);
  EXPECT_EQ(N(p.members())[0]["info"]["name"], "A");
  // Keys in the (alphabetical) order the nlohmann version wrote them.
  EXPECT_EQ(p.members().dump(),
            R"([{"connections":1,"info":{"name":"A"},"joinedAt":1,"status":"away","userId":"a"}])");
}

TEST(PresenceState, DiffsBeforeTheFirstStateAreBufferedNotLost) {
  PresenceState p;
  p.apply_diff(parsed(R"({"joins":[{"userId":"late","joinedAt":9}]})"));
  EXPECT_EQ(p.online_count(), 0u);
  p.apply_state(parsed(R"([{"userId":"a","joinedAt":1}])"));
  EXPECT_EQ(p.online_count(), 2u);
  EXPECT_EQ(N(p.members())[1]["userId"], "late");
}

// A full state read before a diff that reached the client first (the join reply's members were read on one
// thread while another connection's diff was queued from another): the diff still holds after the state.
TEST(PresenceState, AStateOlderThanADiffAlreadyAppliedLosesNothing) {
  PresenceState p;
  p.apply_state(parsed(R"([{"userId":"a","joinedAt":1},{"userId":"gone","joinedAt":2}])"));
  p.apply_diff(parsed(R"({"joins":[{"userId":"b","joinedAt":3}]})"));
  p.apply_diff(parsed(R"({"leaves":[{"userId":"gone"}]})"));
  p.apply_diff(parsed(R"({"updates":[{"userId":"a","status":"busy"}]})"));
  // The join reply, read before those three diffs.
  p.apply_state(parsed(R"([{"userId":"a","joinedAt":1},{"userId":"gone","joinedAt":2},{"userId":"me","joinedAt":4}])"));
  std::vector<std::string> users;
  for (const auto& m : N(p.members())) users.push_back(m["userId"]);
  EXPECT_EQ(users, (std::vector<std::string>{"a", "b", "me"}));
  EXPECT_EQ(p.find("a")->status, "busy");

  // After a reconnect the old connection's diffs are not applied again: b left meanwhile (no diff reached us).
  p.resubscribed();
  EXPECT_EQ(p.online_count(), 3u) << "the members stay shown until the new state";
  p.apply_state(parsed(R"([{"userId":"a","joinedAt":1},{"userId":"me","joinedAt":4}])"));
  EXPECT_EQ(p.online_count(), 2u);
  EXPECT_EQ(p.find("b"), nullptr);
}

TEST(PresenceState, HostileInputIsIgnored) {
  PresenceState p;
  EXPECT_FALSE(p.apply_state(parsed(R"({"not":"an array"})")));
  p.apply_state(parsed(R"([1,"x",{"userId":5},{"userId":""},{"userId":"ok","status":"weird"}])"));
  ASSERT_EQ(p.online_count(), 1u);
  EXPECT_EQ(p.find("ok")->status, "online");
  EXPECT_FALSE(p.apply_diff(parsed("[]")));
  EXPECT_TRUE(p.apply_diff(parsed(R"({"joins":"x","leaves":[7]})")));
  EXPECT_EQ(p.online_count(), 1u);
}

TEST(PresenceState, MembersAreOrderedByJoinTimeThenUserIdWhateverTheArrivalOrder) {
  PresenceState p;
  // 40 members, join times with many ties (i % 7), arriving in a scrambled order.
  std::string state = "[";
  std::vector<std::pair<int, std::string>> want;
  for (int k = 0; k < 40; ++k) {
    const int i = (k * 17) % 40;
    const std::string id = "u" + std::to_string(100 - i);
    if (k > 0) state += ",";
    state += R"({"userId":")" + id + R"(","joinedAt":)" + std::to_string(i % 7) + "}";
    want.emplace_back(i % 7, id);
  }
  state += "]";
  ASSERT_TRUE(p.apply_state(parsed(state)));
  std::sort(want.begin(), want.end());
  const auto members = N(p.members());
  ASSERT_EQ(members.size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(members[i]["joinedAt"], want[i].first) << i;
    EXPECT_EQ(members[i]["userId"], want[i].second) << i;
  }
}
