// Every service request type (presence_*, chat_*, sync_*) against 5,000 random field combinations:
// each request gets at most one answer, every error has a stable code and the request's ref, and nothing
// throws or crashes. Seeded, so a failure reproduces.
#include <gtest/gtest.h>

#include <random>

#include "service_fakes.hpp"

namespace tidewire::server {
namespace {

using namespace testing;

TEST(ServicesHostileInputsTest, RandomFieldsNeverCrashAndAlwaysAnswerOnce) {
  Harness h;
  FakeContext alice{"alice", "c-a"};
  alice.state.channels = {"room:x", "board:1"};
  const std::string room = h.create_room(alice, "r", {"bob"});
  const std::string message = h.chat_send(alice, room, "hi")["message"]["id"];
  const std::string item = h.ok(alice, json{{"type", "sync_insert"}, {"channel", "board:1"}, {"resource", "todos"},
                                            {"data", {{"a", 1}}}})["item"]["id"];

  const std::vector<std::string> types = {
      "presence_join", "presence_update", "presence_leave", "presence_get", "chat_create_room", "chat_open_dm",
      "chat_join", "chat_leave", "chat_list_rooms", "chat_history", "chat_send", "chat_edit", "chat_react",
      "chat_typing", "chat_mark_read", "chat_", "sync_snapshot", "sync_insert", "sync_update", "sync_delete",
      "sync_x"};
  const std::vector<std::string> keys = {"channel", "resource", "roomId", "messageId", "id", "version",
                                         "data", "text", "name", "visibility", "participants", "userId",
                                         "before", "limit", "emoji", "add", "typing", "status", "info"};
  json deep = json::object();
  for (int i = 0; i < 30; ++i) deep = json{{"d", deep}};
  const std::vector<json> values = {
      nullptr, true, false, 0, -1, 1, 1.5, 9223372036854775807LL, 18446744073709551615ULL, -9223372036854775807LL,
      "", "0", "1", "01", "-1", "abc", "room:x", "board:1", "todos", room, message, item, "online", "private",
      "👍", std::string(5000, 'x'), std::string("a\0b", 3), json::array(), json::array({1, "a"}),
      json::array({"bob", "carol"}), json::object(), json{{"a", nullptr}}, json{{"x", std::string(2000, 'y')}}, deep};

  std::mt19937 rng(12345);
  auto pick = [&](std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng); };
  for (int i = 0; i < 5000; ++i) {
    json msg{{"type", types[pick(types.size())]}};
    const std::size_t nfields = pick(6);
    for (std::size_t f = 0; f < nfields; ++f) msg[keys[pick(keys.size())]] = values[pick(values.size())];
    const std::string ref = "r" + std::to_string(i);
    h.services.handle(alice, msg["type"].get<std::string>(), msg, ref);
    const std::vector<json> sent = alice.sink->take_all();
    ASSERT_LE(sent.size(), 1u) << msg.dump();
    if (sent.empty()) {
      EXPECT_EQ(msg["type"], "chat_typing") << msg.dump();  // the one request without a reply
      continue;
    }
    const json& answer = sent[0];
    ASSERT_EQ(answer["ref"], ref);
    if (answer["type"] == "error") {
      static const std::set<std::string> codes = {"bad_request", "not_found", "forbidden", "not_subscribed",
                                                  "version_conflict", "unknown_type"};
      EXPECT_TRUE(codes.count(answer["code"].get<std::string>())) << msg.dump() << " -> " << answer.dump();
      EXPECT_FALSE(answer["message"].get<std::string>().empty());
    } else {
      EXPECT_EQ(answer["type"], "reply");
    }
    if (i % 250 == 0) h.advance(6000);  // let grace periods and typing indicators expire along the way
  }
  h.services.on_disconnect("alice", "c-a");
  h.advance(10'000);
  EXPECT_EQ(h.services.next_deadline_ms(), 0u);
}

}  // namespace
}  // namespace tidewire::server
