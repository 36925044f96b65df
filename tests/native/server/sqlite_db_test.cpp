// The SQLite wrapper: statements, bindings, transactions, migrations by user_version, and failures as values.
#include "server/sqlite_db.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "service_fakes.hpp"

namespace tidewire::server {
namespace {

using testing::TempDir;

TEST(SqliteDbTest, BindsStepsAndReadsColumns) {
  SqliteDb db;
  ASSERT_TRUE(db.open(":memory:")) << db.last_error();
  ASSERT_TRUE(db.exec("CREATE TABLE t (a INTEGER, b TEXT, c INTEGER)"));
  SqliteStatement ins = db.prepare("INSERT INTO t (a, b, c) VALUES (?1, ?2, ?3)");
  ins.bind(1, std::int64_t{42}).bind(2, std::string_view("")).bind_optional(3, std::nullopt);
  ASSERT_TRUE(ins.run());
  EXPECT_EQ(db.last_insert_rowid(), 1);
  EXPECT_EQ(db.changes(), 1);
  ins.reset();
  ins.bind(1, std::int64_t{-7}).bind(2, std::string_view("h\xC3\xA9")).bind_optional(3, std::int64_t{9});
  ASSERT_TRUE(ins.run());

  SqliteStatement sel = db.prepare("SELECT a, b, c FROM t ORDER BY rowid");
  ASSERT_EQ(sel.step(), SQLITE_ROW);
  EXPECT_EQ(sel.int64(0), 42);
  EXPECT_EQ(sel.text(1), "");
  EXPECT_FALSE(sel.is_null(1));  // an empty string binds as text, not NULL
  EXPECT_TRUE(sel.is_null(2));
  ASSERT_EQ(sel.step(), SQLITE_ROW);
  EXPECT_EQ(sel.int64(0), -7);
  EXPECT_EQ(sel.text(1), "h\xC3\xA9");
  EXPECT_EQ(sel.int64(2), 9);
  EXPECT_EQ(sel.step(), SQLITE_DONE);
}

TEST(SqliteDbTest, FailuresAreValuesNotCrashes) {
  SqliteDb closed;
  EXPECT_FALSE(closed.exec("SELECT 1"));
  EXPECT_FALSE(closed.prepare("SELECT 1").valid());
  EXPECT_EQ(closed.prepare("SELECT 1").step(), SQLITE_MISUSE);

  SqliteDb db;
  ASSERT_TRUE(db.open(":memory:"));
  SqliteStatement bad = db.prepare("SELEKT nonsense");
  EXPECT_FALSE(bad.valid());
  EXPECT_FALSE(bad.run());
  EXPECT_FALSE(db.last_error().empty());

  SqliteStatement st = db.prepare("SELECT ?1");
  st.bind(5, std::int64_t{1});  // out of range: remembered, reported by step()
  EXPECT_EQ(st.step(), SQLITE_RANGE);

  EXPECT_FALSE(db.open("/nonexistent-dir/sub/x.db"));
  EXPECT_NE(db.last_error().find("/nonexistent-dir/sub/x.db"), std::string::npos);
}

TEST(SqliteDbTest, TransactionRollsBackUnlessCommitted) {
  SqliteDb db;
  ASSERT_TRUE(db.open(":memory:"));
  ASSERT_TRUE(db.exec("CREATE TABLE t (a INTEGER)"));
  {
    SqliteTransaction tx(db);
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE(db.exec("INSERT INTO t VALUES (1)"));
  }  // no commit
  {
    SqliteTransaction tx(db);
    ASSERT_TRUE(db.exec("INSERT INTO t VALUES (2)"));
    EXPECT_TRUE(tx.commit());
  }
  SqliteStatement st = db.prepare("SELECT group_concat(a) FROM t");
  ASSERT_EQ(st.step(), SQLITE_ROW);
  EXPECT_EQ(st.text(0), "2");
}

TEST(SqliteDbTest, MigrationsRunOnceAcrossReopenWithWal) {
  TempDir dir;
  const std::string path = dir.file("m.db");
  const std::vector<std::string_view> v1 = {"CREATE TABLE a (x INTEGER); INSERT INTO a VALUES (1);"};
  {
    SqliteDb db;
    ASSERT_TRUE(db.open(path)) << db.last_error();
    {
      SqliteStatement mode = db.prepare("PRAGMA journal_mode");
      ASSERT_EQ(mode.step(), SQLITE_ROW);
      EXPECT_EQ(mode.text(0), "wal");
      SqliteStatement fk = db.prepare("PRAGMA foreign_keys");
      ASSERT_EQ(fk.step(), SQLITE_ROW);
      EXPECT_EQ(fk.int64(0), 1);
    }
    ASSERT_TRUE(db.migrate(v1)) << db.last_error();
    EXPECT_EQ(db.user_version(), 1);
  }
  SqliteDb db;
  ASSERT_TRUE(db.open(path));
  ASSERT_TRUE(db.migrate(v1));  // already applied: the INSERT does not run twice
  const std::vector<std::string_view> v2 = {v1[0], "CREATE TABLE b (y INTEGER);"};
  ASSERT_TRUE(db.migrate(v2));
  EXPECT_EQ(db.user_version(), 2);
  SqliteStatement st = db.prepare("SELECT COUNT(*) FROM a");
  ASSERT_EQ(st.step(), SQLITE_ROW);
  EXPECT_EQ(st.int64(0), 1);

  EXPECT_FALSE(db.migrate(v1));  // the database is newer than this code
  EXPECT_NE(db.last_error().find("newer"), std::string::npos);
}

TEST(SqliteDbTest, FailedMigrationRollsBackAndKeepsVersion) {
  SqliteDb db;
  ASSERT_TRUE(db.open(":memory:"));
  ASSERT_FALSE(db.migrate({"CREATE TABLE ok (x INTEGER); THIS IS NOT SQL;"}));
  EXPECT_EQ(db.user_version(), 0);
  SqliteStatement st = db.prepare("SELECT COUNT(*) FROM sqlite_master WHERE name = 'ok'");
  ASSERT_EQ(st.step(), SQLITE_ROW);
  EXPECT_EQ(st.int64(0), 0);
}

}  // namespace
}  // namespace tidewire::server
