#include "client/sync_collection.hpp"

#include <gtest/gtest.h>

using tidewire::client::SyncCollection;
using json = nlohmann::json;

namespace {
json item(const std::string& id, int version, json data) {
  return {{"id", id}, {"version", version}, {"data", std::move(data)}};
}
}  // namespace

TEST(SyncCollection, SnapshotThenEventsInOrderAndIdempotent) {
  SyncCollection c;
  c.apply_snapshot(json::array({item("1", 1, {{"t", "a"}}), item("2", 3, {{"t", "b"}})}));
  c.apply_upsert(item("3", 1, {{"t", "c"}}));
  c.apply_upsert(item("2", 2, {{"t", "stale"}}));  // older than what we have: ignored
  c.apply_delete("1");
  auto items = c.items();
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0]["data"]["t"], "b");
  EXPECT_EQ(items[1]["id"], "3");
  EXPECT_EQ(c.version_of("2"), 3);
}

TEST(SyncCollection, OptimisticInsertShowsAtOnceAndTakesTheServerId) {
  SyncCollection c;
  const std::string temp = c.optimistic_insert(7, {{"title", "x"}});
  auto items = c.items();
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0]["id"], temp);
  EXPECT_TRUE(items[0]["pending"].get<bool>());
  // The broadcast may arrive before the reply: still one item.
  c.apply_upsert(item("42", 1, {{"title", "x"}}));
  c.confirm(7, {{"item", item("42", 1, {{"title", "x"}})}});
  items = c.items();
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0]["id"], "42");
  EXPECT_EQ(c.pending_count(), 0u);
}

TEST(SyncCollection, ARefusedUpdateRollsBackAndAVersionConflictTakesTheCurrentItem) {
  SyncCollection c;
  c.apply_snapshot(json::array({item("1", 1, {{"done", false}, {"title", "t"}})}));
  c.optimistic_update(8, "1", {{"done", true}});
  EXPECT_EQ(c.items()[0]["data"]["done"], true);
  EXPECT_EQ(c.items()[0]["data"]["title"], "t");  // a shallow merge
  const json current = item("1", 2, {{"done", false}, {"title", "renamed"}});
  c.reject(8, &current);
  auto items = c.items();
  EXPECT_EQ(items[0]["data"]["done"], false);
  EXPECT_EQ(items[0]["data"]["title"], "renamed");
  EXPECT_FALSE(items[0].contains("pending"));

  c.optimistic_delete(9, "1");
  EXPECT_TRUE(c.items().empty());
  c.reject(9, nullptr);  // refused: the item is back
  EXPECT_EQ(c.items().size(), 1u);
  const std::string temp = c.optimistic_insert(10, {{"x", 1}});
  c.reject(10, nullptr);
  EXPECT_EQ(c.items().size(), 1u);
  (void)temp;
}
