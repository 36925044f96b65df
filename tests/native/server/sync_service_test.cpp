// Data sync through Services (docs/PROTOCOL.md section 12): server ids and versions, shallow merge, version
// conflicts carrying the current item, deletes, change events, persistence and hostile inputs.
#include <gtest/gtest.h>

#include "service_fakes.hpp"

namespace tidewire::server {
namespace {

using namespace testing;

constexpr const char* kChannel = "board:1";

class SyncServiceTest : public ::testing::Test {
 protected:
  SyncServiceTest() {
    alice.state.channels.insert(kChannel);
    bob.state.channels.insert(kChannel);
  }
  static json req(const char* type, json fields = json::object()) {
    json msg{{"type", type}, {"channel", kChannel}, {"resource", "todos"}};
    msg.update(fields);
    return msg;
  }
  json insert(FakeContext& who, json data) { return h.ok(who, req("sync_insert", {{"data", data}}))["item"]; }

  Harness h;
  FakeContext alice{"alice", "c-a"};
  FakeContext bob{"bob", "c-b"};
};

TEST_F(SyncServiceTest, EveryRequestNeedsTheSubscription) {
  FakeContext eve{"eve", "c-e"};
  for (const char* type : {"sync_snapshot", "sync_insert", "sync_update", "sync_delete"})
    EXPECT_EQ(h.code(eve, req(type, {{"data", json::object()}, {"id", "1"}, {"version", 1}})), "not_subscribed")
        << type;
}

TEST_F(SyncServiceTest, InsertAssignsIdAndVersionOneAndBroadcasts) {
  h.now += 7;
  const json item = insert(alice, {{"title", "milk"}});
  EXPECT_EQ(item, json({{"id", item["id"]},
                        {"version", 1},
                        {"data", {{"title", "milk"}}},
                        {"updatedAt", kStartMs + 7},
                        {"updatedBy", "alice"}}));
  EXPECT_TRUE(item["id"].is_string());
  const auto events = h.out.take_published();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].channel, kChannel);
  EXPECT_EQ(events[0].event, "sync_insert");
  EXPECT_EQ(events[0].from, "alice");
  EXPECT_EQ(events[0].payload, json({{"resource", "todos"}, {"item", item}}));
  EXPECT_NE(insert(alice, json::object())["id"], item["id"]);
}

TEST_F(SyncServiceTest, UpdateMergesShallowlyAndBumpsTheVersion) {
  const json item = insert(alice, {{"title", "milk"}, {"done", false}, {"tags", {{"a", 1}, {"b", 2}}}});
  h.out.take_published();
  h.now += 1;
  const json patch = {{"done", true}, {"tags", {{"c", 3}}}, {"title", nullptr}};
  const json updated = h.ok(bob, req("sync_update", {{"id", item["id"]}, {"version", 1}, {"data", patch}}))["item"];
  EXPECT_EQ(updated["version"], 2);
  EXPECT_EQ(updated["data"], json({{"done", true}, {"tags", {{"c", 3}}}}));  // nested replaced, null removed
  EXPECT_EQ(updated["updatedBy"], "bob");
  EXPECT_EQ(updated["updatedAt"], kStartMs + 1);
  const auto events = h.out.take_published();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].event, "sync_update");
  EXPECT_EQ(events[0].payload, json({{"resource", "todos"}, {"item", updated}}));
}

TEST_F(SyncServiceTest, StaleVersionIsAConflictCarryingTheCurrentItem) {
  const json item = insert(alice, {{"n", 1}});
  const json v2 = h.ok(alice, req("sync_update", {{"id", item["id"]}, {"version", 1}, {"data", {{"n", 2}}}}))["item"];
  h.out.take_published();
  const json answer = h.call(bob, req("sync_update", {{"id", item["id"]}, {"version", 1}, {"data", {{"n", 99}}}}));
  EXPECT_EQ(answer["type"], "error");
  EXPECT_EQ(answer["code"], "version_conflict");
  EXPECT_EQ(answer["ref"], "r");
  EXPECT_EQ(answer["current"], v2);
  const json future = req("sync_update", {{"id", item["id"]}, {"version", 3}, {"data", {{"n", 99}}}});
  EXPECT_EQ(h.call(bob, future)["current"], v2);
  EXPECT_TRUE(h.out.take_published().empty());
  EXPECT_EQ(h.ok(alice, req("sync_snapshot"))["items"][0], v2);  // unchanged
}

TEST_F(SyncServiceTest, DeleteWithOptionalVersionCheck) {
  const json a = insert(alice, {{"n", 1}});
  const json b = insert(alice, {{"n", 2}});
  h.out.take_published();
  const json conflict = h.call(bob, req("sync_delete", {{"id", a["id"]}, {"version", 5}}));
  EXPECT_EQ(conflict["code"], "version_conflict");
  EXPECT_EQ(conflict["current"], a);
  EXPECT_EQ(h.ok(bob, req("sync_delete", {{"id", a["id"]}, {"version", 1}})), json({{"id", a["id"]}}));
  EXPECT_EQ(h.ok(bob, req("sync_delete", {{"id", b["id"]}})), json({{"id", b["id"]}}));
  const auto events = h.out.take_published();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].event, "sync_delete");
  EXPECT_EQ(events[0].payload, json({{"resource", "todos"}, {"id", a["id"]}}));
  EXPECT_EQ(h.code(bob, req("sync_delete", {{"id", a["id"]}})), "not_found");
  EXPECT_EQ(h.code(bob, req("sync_update", {{"id", a["id"]}, {"version", 1}, {"data", json::object()}})), "not_found");
  EXPECT_EQ(h.ok(bob, req("sync_snapshot"))["items"], json::array());
}

TEST_F(SyncServiceTest, SnapshotIsScopedToChannelAndResource) {
  const json first = insert(alice, {{"n", 1}});
  const json second = insert(alice, {{"n", 2}});
  h.ok(alice, req("sync_insert", {{"resource", "notes"}, {"data", {{"n", 3}}}}));
  alice.state.channels.insert("board:2");
  h.ok(alice, json{{"type", "sync_insert"}, {"channel", "board:2"}, {"resource", "todos"}, {"data", {{"n", 4}}}});
  EXPECT_EQ(h.ok(bob, req("sync_snapshot"))["items"], json::array({first, second}));
  // An item of one resource cannot be changed through another.
  EXPECT_EQ(h.code(alice, req("sync_update", {{"resource", "notes"}, {"id", first["id"]}, {"version", 1},
                                              {"data", json::object()}})),
            "not_found");
}

TEST_F(SyncServiceTest, ItemsSurviveAReopen) {
  TempDir dir;
  ServicesConfig config;
  config.db_path = dir.file("sync.db");
  json item;
  {
    Harness first(config);
    ASSERT_TRUE(first.services.ok()) << first.services.open_error();
    item = first.ok(alice, req("sync_insert", {{"data", {{"n", 1}}}}))["item"];
    item = first.ok(alice, req("sync_update", {{"id", item["id"]}, {"version", 1}, {"data", {{"n", 2}}}}))["item"];
  }
  Harness second(config);
  ASSERT_TRUE(second.services.ok()) << second.services.open_error();
  EXPECT_EQ(second.ok(bob, req("sync_snapshot"))["items"], json::array({item}));
  EXPECT_EQ(second.code(bob, req("sync_update", {{"id", item["id"]}, {"version", 1}, {"data", json::object()}})),
            "version_conflict");
}

TEST_F(SyncServiceTest, HostileInputsGetClearErrors) {
  const json item = insert(alice, {{"n", 1}});
  const std::string id = item["id"];
  const std::vector<std::pair<json, std::string>> cases = {
      {{{"type", "sync_snapshot"}, {"channel", kChannel}}, "bad_request"},
      {{{"type", "sync_snapshot"}, {"resource", "todos"}}, "bad_request"},
      {req("sync_snapshot", {{"resource", 3}}), "bad_request"},
      {req("sync_snapshot", {{"resource", "bad resource"}}), "bad_request"},
      {req("sync_snapshot", {{"resource", std::string(65, 'r')}}), "bad_request"},
      {req("sync_snapshot", {{"channel", "no spaces allowed"}}), "bad_request"},
      {req("sync_insert"), "bad_request"},
      {req("sync_insert", {{"data", json::array()}}), "bad_request"},
      {req("sync_insert", {{"data", "text"}}), "bad_request"},
      {req("sync_insert", {{"data", {{"big", std::string(70'000, 'x')}}}}), "bad_request"},
      {req("sync_update", {{"version", 1}, {"data", json::object()}}), "bad_request"},
      {req("sync_update", {{"id", "x"}, {"version", 1}, {"data", json::object()}}), "bad_request"},
      {req("sync_update", {{"id", id}, {"data", json::object()}}), "bad_request"},
      {req("sync_update", {{"id", id}, {"version", "1"}, {"data", json::object()}}), "bad_request"},
      {req("sync_update", {{"id", id}, {"version", 1.5}, {"data", json::object()}}), "bad_request"},
      {req("sync_update", {{"id", id}, {"version", 0}, {"data", json::object()}}), "bad_request"},
      {req("sync_update", {{"id", id}, {"version", true}, {"data", json::object()}}), "bad_request"},
      {req("sync_update", {{"id", id}, {"version", 1}}), "bad_request"},
      {req("sync_update", {{"id", id}, {"version", 1}, {"data", 5}}), "bad_request"},
      {req("sync_delete", {{"id", nullptr}}), "bad_request"},
      {req("sync_delete", {{"id", id}, {"version", -3}}), "bad_request"},
      {req("sync_delete", {{"id", "777"}}), "not_found"},
      {req("sync_upsert", {{"data", json::object()}}), "unknown_type"},
  };
  for (const auto& [msg, code] : cases) EXPECT_EQ(h.code(alice, msg), code) << msg.dump().substr(0, 200);

  // Merging may not grow an item past 64 KiB.
  const std::string half(40'000, 'h');
  const json v2 = h.ok(alice, req("sync_update", {{"id", id}, {"version", 1}, {"data", {{"a", half}}}}))["item"];
  EXPECT_EQ(h.code(alice, req("sync_update", {{"id", id}, {"version", 2}, {"data", {{"b", half}}}})), "bad_request");
  EXPECT_EQ(h.ok(alice, req("sync_snapshot"))["items"][0], v2);
}

}  // namespace
}  // namespace tidewire::server
