#include "state/sync_collection.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "state/state_json.hpp"

using tidewire::state::SyncCollection;
using Json = nlohmann::ordered_json;
using tidewire::testing::N;
using tidewire::testing::parsed;
using tidewire::testing::V;
using json = nlohmann::json;

namespace {
json item(const std::string& id, int version, json data) {
  return {{"id", id}, {"version", version}, {"data", std::move(data)}};
}
}  // namespace

TEST(SyncCollection, SnapshotThenEventsInOrderAndIdempotent) {
  SyncCollection c;
  c.apply_snapshot(V(json::array({item("1", 1, {{"t", "a"}}), item("2", 3, {{"t", "b"}})})));
  c.apply_upsert(V(item("3", 1, {{"t", "c"}})));
  c.apply_upsert(V(item("2", 2, {{"t", "stale"}})));  // older than what we have: ignored
  c.apply_delete("1");
  auto items = N(c.items());
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0]["data"]["t"], "b");
  EXPECT_EQ(items[1]["id"], "3");
  EXPECT_EQ(c.version_of("2"), 3);
}

TEST(SyncCollection, OptimisticInsertShowsAtOnceAndTakesTheServerId) {
  SyncCollection c;
  const std::string temp = c.optimistic_insert(7, V({{"title", "x"}}));
  auto items = N(c.items());
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0]["id"], temp);
  EXPECT_TRUE(items[0]["pending"].get<bool>());
  // The pending item has the shape (and key order) the nlohmann version wrote.
  EXPECT_EQ(c.items().dump(), R"([{"data":{"title":"x"},"id":")" + temp + R"(","pending":true,"version":0}])");
  // The broadcast may arrive before the reply: still one item.
  c.apply_upsert(V(item("42", 1, {{"title", "x"}})));
  c.confirm(7, V({{"item", item("42", 1, {{"title", "x"}})}}));
  items = N(c.items());
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0]["id"], "42");
  EXPECT_EQ(c.pending_count(), 0u);
}

TEST(SyncCollection, ARefusedUpdateRollsBackAndAVersionConflictTakesTheCurrentItem) {
  SyncCollection c;
  c.apply_snapshot(V(json::array({item("1", 1, {{"done", false}, {"title", "t"}})})));
  c.optimistic_update(8, "1", V({{"done", true}}));
  EXPECT_EQ(N(c.items())[0]["data"]["done"], true);
  EXPECT_EQ(N(c.items())[0]["data"]["title"], "t");  // a shallow merge
  const Json current = V(item("1", 2, {{"done", false}, {"title", "renamed"}}));
  c.reject(8, &current);
  auto items = N(c.items());
  EXPECT_EQ(items[0]["data"]["done"], false);
  EXPECT_EQ(items[0]["data"]["title"], "renamed");
  EXPECT_FALSE(items[0].contains("pending"));

  c.optimistic_delete(9, "1");
  EXPECT_TRUE(N(c.items()).empty());
  c.reject(9, nullptr);  // refused: the item is back
  EXPECT_EQ(c.items().size(), 1u);
  const std::string temp = c.optimistic_insert(10, V({{"x", 1}}));
  c.reject(10, nullptr);
  EXPECT_EQ(c.items().size(), 1u);
  (void)temp;
}

TEST(SyncCollection, AnUpdateMergesIntoTheDataAndNewFieldsGoLast) {
  SyncCollection c;
  c.apply_upsert(parsed(R"({"id":"1","version":1,"data":{"title":"t","done":false}})"));
  c.optimistic_update(3, "1", V({{"done", true}, {"tag", "x"}}));
  EXPECT_EQ(c.items().dump(),
            R"([{"id":"1","version":1,"data":{"title":"t","done":true,"tag":"x"},"pending":true}])");
  c.confirm(3, V({{"item", {{"id", "1"}, {"version", 2}, {"data", {{"done", true}}}}}}));
  EXPECT_EQ(c.items().dump(), R"([{"data":{"done":true},"id":"1","version":2}])");
  EXPECT_EQ(c.version_of("1"), 2);
}

TEST(SyncCollection, ItemsKeepCreationOrderWhateverTheIds) {
  SyncCollection c;
  const std::vector<std::string> ids = {"m", "b", "z", "a", "k", "c"};
  for (const auto& id : ids) c.apply_upsert(V(item(id, 1, {{"t", id}})));
  c.apply_delete("z");
  c.apply_delete("nope");
  c.optimistic_delete(1, "a");
  c.optimistic_update(2, "k", V({{"u", 1}}));
  c.apply_upsert(V(item("z", 2, {{"t", "back"}})));  // a deleted id comes back at its first place
  auto items = N(c.items());
  std::vector<std::string> got;
  for (const auto& i : items) got.push_back(i["id"].get<std::string>());
  EXPECT_EQ(got, (std::vector<std::string>{"m", "b", "z", "k", "c"}));
  EXPECT_EQ(items[3]["data"]["u"], 1);
  EXPECT_TRUE(items[3]["pending"].get<bool>());
  EXPECT_EQ(c.version_of("z"), 2);
  EXPECT_EQ(c.version_of("a"), 1);  // the pending delete is not confirmed yet
  EXPECT_EQ(c.version_of("q"), 0);
  c.confirm(1, V(json::object()));
  EXPECT_EQ(c.version_of("a"), 0);
  EXPECT_EQ(N(c.items()).size(), 5u);
}

// Issue #12: two users ticked the same box at once; the second update is refused (version_conflict) although
// the stored item already holds what it asked for. reject() says so, and the client drops the refusal quietly.
TEST(SyncCollection, ARefusedUpdateThatTheCurrentItemAlreadyHoldsIsRedundant) {
  SyncCollection c;
  c.apply_snapshot(V(json::array({item("1", 1, {{"done", false}, {"title", "t"}, {"tags", {"a"}}})})));
  c.optimistic_update(8, "1", V({{"done", true}, {"tags", {"a"}}}));
  const Json same = V(item("1", 2, {{"tags", {"a"}}, {"title", "t"}, {"done", true}}));
  EXPECT_TRUE(c.reject(8, &same));
  EXPECT_EQ(N(c.items())[0]["data"]["done"], true);
  EXPECT_EQ(c.version_of("1"), 2);

  c.optimistic_update(9, "1", V({{"title", "mine"}}));
  const Json other = V(item("1", 3, {{"tags", {"a"}}, {"title", "theirs"}, {"done", true}}));
  EXPECT_FALSE(c.reject(9, &other)) << "a real conflict is reported";
  EXPECT_EQ(N(c.items())[0]["data"]["title"], "theirs");

  c.optimistic_update(10, "1", V({{"done", true}}));
  EXPECT_FALSE(c.reject(10, nullptr)) << "a refusal without `current` is reported";
  c.optimistic_delete(11, "1");
  EXPECT_FALSE(c.reject(11, &other)) << "only updates compare";
  EXPECT_FALSE(c.reject(99, &other)) << "unknown op";
}
