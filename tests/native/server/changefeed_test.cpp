// The change feed's pure parts (issue #16): --changefeed-tables, wal2json decoding, filters and the owner rule,
// and the hub's per-subscriber filtering (live fan-out and recovery replay) on db: channels.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "fake_session.hpp"
#include "server/changefeed_filter.hpp"
#include "server/changefeed_row.hpp"
#include "server/changefeed_tables.hpp"
#include "server/changefeed_wal2json.hpp"
#include "server/hub.hpp"

namespace tidewire::server {
namespace {

using nlohmann::json;
using testing::FakeSession;

TEST(ChangefeedTables, ParsesOwnersFoldsCaseAndRefusesBadNames) {
  std::string error;
  const auto t = parse_changefeed_tables(" public.Todos(User_Id) , app.notes", error);
  ASSERT_EQ(error, "");
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[0].channel(), "db:public.todos");
  EXPECT_EQ(t[0].owner_column, "user_id");
  EXPECT_EQ(t[1].qualified(), "app.notes");
  EXPECT_EQ(t[1].owner_column, "");
  for (const char* bad :
       {"todos", "public.todos(", "public.to-dos", "public.todos(a b)", "public.t,public.t", "1x.t"}) {
    parse_changefeed_tables(bad, error);
    EXPECT_NE(error, "") << bad;
  }
  EXPECT_TRUE(parse_db_channel("db:public.todos").has_value());
  EXPECT_FALSE(parse_db_channel("db:public").has_value());
  EXPECT_FALSE(parse_db_channel("db:public.todos.x").has_value());
  EXPECT_FALSE(parse_db_channel("room:public.todos").has_value());
}

TEST(ChangefeedWal2json, DecodesRowsIntoSupabasePayloads) {
  Wal2jsonMessage m;
  std::string error;
  ASSERT_TRUE(decode_wal2json(
      R"({"action":"U","timestamp":"2026-12-04 23:22:32.618343+00","lsn":"0/1507DE8",)"
      R"("schema":"public","table":"todos",)"
      R"("columns":[{"name":"id","type":"integer","value":1},{"name":"j","type":"jsonb","value":"{\"a\": [1, 2]}"},)"
      R"({"name":"f","type":"double precision","value":null}],"identity":[{"name":"id","type":"integer","value":1}]})",
      m, error))
      << error;
  EXPECT_EQ(m.action, 'U');
  EXPECT_EQ(m.lsn, 0x1507DE8u);
  const json p = json::parse(m.payload);
  EXPECT_EQ(p, json::parse(R"({"schema":"public","table":"todos","commit_timestamp":"2026-12-04T23:22:32.618Z",
    "eventType":"UPDATE","new":{"id":1,"j":{"a":[1,2]},"f":null},"old":{"id":1},"errors":null})"));
  ASSERT_TRUE(
      decode_wal2json(R"({"action":"D","schema":"s","table":"t","identity":[{"name":"id","value":2}]})", m, error));
  EXPECT_EQ(json::parse(m.payload)["new"], json::object());
  ASSERT_TRUE(decode_wal2json(R"({"action":"C","lsn":"0/1507DB8","nextlsn":"1/A"})", m, error));
  EXPECT_EQ(m.next_lsn, (1ull << 32) | 10u);
  EXPECT_FALSE(decode_wal2json("not json", m, error));
  EXPECT_FALSE(decode_wal2json(R"({"action":"I"})", m, error));
}

TEST(ChangefeedWal2json, TimestampsAndLsns) {
  EXPECT_EQ(iso_utc_timestamp("2026-12-04 23:22:32+00"), "2026-12-04T23:22:32.000Z");
  EXPECT_EQ(iso_utc_timestamp("2026-12-05 01:30:00.5+02:30"), "2026-12-04T23:00:00.500Z");
  EXPECT_EQ(iso_utc_timestamp("infinity"), "infinity");
  EXPECT_EQ(parse_lsn("16/B374D848"), (0x16ull << 32) | 0xB374D848u);
  EXPECT_EQ(format_lsn((0x16ull << 32) | 0xB374D848u), "16/B374D848");
  EXPECT_EQ(parse_lsn("zz/1"), 0u);
  EXPECT_EQ(parse_lsn("1"), 0u);
}

ChangeRow row(ChangeRow::Kind kind, json n, json o = json::object()) {
  ChangeRow r;
  r.kind = kind;
  r.new_record = std::move(n);
  r.old_record = std::move(o);
  return r;
}

ChangeFilter filter(const char* changes, bool numeric = false) {
  ChangeFilter f;
  std::string error;
  const json j = json::parse(changes);
  EXPECT_TRUE(parse_change_filter(&j, f, error)) << changes << ": " << error;
  if (numeric) EXPECT_TRUE(set_numeric(f, error)) << error;
  return f;
}

TEST(ChangefeedFilter, OperatorsCompareNumbersAsNumbersAndTextAsText) {
  const ChangeRow r = row(ChangeRow::Kind::kInsert, {{"n", 10}, {"s", "b"}, {"z", nullptr}});
  EXPECT_TRUE(filter(R"({"filter":"n=eq.10"})", true).accepts(r));
  EXPECT_TRUE(filter(R"({"filter":"n=gt.9.5"})", true).accepts(r));  // 10 > 9.5, not "10" > "9.5"
  EXPECT_FALSE(filter(R"({"filter":"n=lt.9"})", true).accepts(r));
  EXPECT_TRUE(filter(R"J({"filter":"n=in.(1,10)"})J", true).accepts(r));
  EXPECT_TRUE(filter(R"({"filter":"s=gte.a"})").accepts(r));
  EXPECT_FALSE(filter(R"({"filter":"s=neq.b"})").accepts(r));
  EXPECT_FALSE(filter(R"({"filter":"z=neq.x"})").accepts(r));  // null never matches
  EXPECT_FALSE(filter(R"({"filter":"missing=eq.1"})").accepts(r));
  EXPECT_FALSE(filter(R"({"event":"DELETE"})").accepts(r));
  EXPECT_TRUE(filter(R"({"event":"*"})").passes_everything());
}

TEST(ChangefeedFilter, RefusesMalformedChanges) {
  for (const char* bad : {R"("x")", R"({"event":"upsert"})", R"({"event":1})", R"({"filter":"n"})",
                          R"({"filter":"=eq.1"})", R"({"filter":"n=eq"})", R"({"filter":"n=like.1"})",
                          R"({"filter":"n=in.1"})", R"J({"filter":"n=in.(\"a)"})J", R"({"filter":7})"}) {
    ChangeFilter f;
    std::string error;
    const json j = json::parse(bad);
    EXPECT_FALSE(parse_change_filter(&j, f, error)) << bad;
    EXPECT_NE(error, "") << bad;
  }
  ChangeFilter f = filter(R"({"filter":"n=eq.abc"})");
  std::string error;
  EXPECT_FALSE(set_numeric(f, error));
}

TEST(ChangefeedFilter, OwnerRuleCheckedOnNewAndOldAndWithheldWhenOldLacksIt) {
  ChangeFilter f;
  f.owner_column = "user_id";
  f.owner = "42";
  EXPECT_TRUE(f.accepts(row(ChangeRow::Kind::kInsert, {{"user_id", 42}})));  // a number compares as its text
  EXPECT_FALSE(f.accepts(row(ChangeRow::Kind::kInsert, {{"user_id", "7"}})));
  EXPECT_TRUE(f.accepts(row(ChangeRow::Kind::kUpdate, {{"user_id", "42"}}, {{"id", 1}})));
  EXPECT_FALSE(f.accepts(row(ChangeRow::Kind::kUpdate, {{"user_id", "42"}}, {{"user_id", "7"}})));  // handed over
  EXPECT_FALSE(f.accepts(row(ChangeRow::Kind::kUpdate, {{"user_id", "7"}}, {{"user_id", "42"}})));
  EXPECT_TRUE(f.accepts(row(ChangeRow::Kind::kDelete, json::object(), {{"user_id", "42"}})));
  EXPECT_FALSE(f.accepts(row(ChangeRow::Kind::kDelete, json::object(), {{"id", 1}})));
}

std::string change(const char* type, int id, const char* user) {
  return json{{"schema", "public"}, {"table", "t"}, {"commit_timestamp", nullptr}, {"eventType", type},
              {"new", {{"id", id}, {"user_id", user}}}, {"old", json::object()}, {"errors", nullptr}}
      .dump();
}

TEST(ChangefeedHub, FiltersLiveFanOutAndReplayPerSubscriberOnDbChannelsOnly) {
  Hub hub;
  auto all = std::make_shared<FakeSession>();
  auto mine = std::make_shared<FakeSession>();
  hub.subscribe("db:public.t", all);
  auto f = std::make_shared<ChangeFilter>();
  f->owner_column = "user_id";
  f->owner = "alice";
  SubscribeRequest r;
  r.channel = "db:public.t";
  r.user = "alice";
  r.filter = f;
  hub.subscribe(r, mine, nullptr);
  const std::string a = change("INSERT", 1, "alice"), b = change("INSERT", 2, "bob"), c = change("UPDATE", 1, "alice");
  for (const std::string* p : {&a, &b, &c}) {
    PublishRequest pr;
    pr.channel = "db:public.t";
    pr.event = "postgres_changes";
    pr.from = "postgres";
    pr.payload_json = *p;
    pr.ts_ms = 1;
    hub.publish(pr);
  }
  EXPECT_EQ(all->frames.size(), 3u);
  ASSERT_EQ(mine->frames.size(), 2u);
  EXPECT_EQ(mine->frames[0], all->frames[0]);  // the same encoded bytes: encode once
  EXPECT_EQ(json::parse(*mine->frames[1])["offset"], 3);

  // Recovery from offset 0 replays through the same filter.
  auto again = std::make_shared<FakeSession>();
  r.has_since = true;
  r.since_offset = 0;
  const std::string epoch = hub.epoch("db:public.t");
  r.since_epoch = epoch;
  std::vector<SharedFrame> replay;
  const SubscribeResult sr =
      hub.subscribe(r, again, [&](const SubscribeResult&, const std::vector<SharedFrame>& frames) { replay = frames; });
  EXPECT_TRUE(sr.recovered);
  ASSERT_EQ(replay.size(), 2u);
  EXPECT_EQ(json::parse(*replay[1])["offset"], 3);

  // Other channels ignore payloads: a filter-shaped request elsewhere changes nothing (the handler refuses it).
  auto room = std::make_shared<FakeSession>();
  hub.subscribe("room:t", room);
  PublishRequest pr;
  pr.channel = "room:t";
  pr.event = "x";
  pr.payload_json = b;
  hub.publish(pr);
  EXPECT_EQ(room->frames.size(), 1u);
}

}  // namespace
}  // namespace tidewire::server
