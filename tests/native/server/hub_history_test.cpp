// Streams: epochs, bounded history, recovery with `since`, idempotent publishing, and the SQLite store.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>

#include <nlohmann/json.hpp>
#include <vector>

#include "fake_session.hpp"
#include "protocol/binary_frame.hpp"
#include "server/history.hpp"
#include "server/history_store_sqlite.hpp"
#include "server/hub.hpp"

namespace tidewire::server {
namespace {

using testing::FakeSession;  // records every frame the hub delivers

PublishRequest request(std::string_view channel, std::uint64_t ts, std::string_view id = "") {
  PublishRequest r;
  r.channel = channel;
  r.event = "e";
  r.from = "alice";
  r.payload_json = R"({"x":1})";
  r.ts_ms = ts;
  r.client_id = id;
  return r;
}

struct Joined {
  SubscribeResult result;
  std::vector<SharedFrame> replay;
};

Joined join(Hub& hub, const std::shared_ptr<Subscriber>& s, std::string_view channel, std::uint64_t now,
            bool since = false, std::uint64_t offset = 0, std::string_view epoch = "") {
  SubscribeRequest r;
  r.channel = channel;
  r.now_ms = now;
  r.has_since = since;
  r.since_offset = offset;
  r.since_epoch = epoch;
  Joined j;
  j.result = hub.subscribe(r, s, [&](const SubscribeResult& res, const std::vector<SharedFrame>& replay) {
    j.replay = replay;
    EXPECT_EQ(res.offset, j.result.offset == 0 ? res.offset : j.result.offset);
  });
  return j;
}

std::uint64_t offset_of(const SharedFrame& f) { return nlohmann::json::parse(*f)["offset"].get<std::uint64_t>(); }

// A database file of this process's own, removed (with its -wal and -shm) before and after the test. Every
// worktree's and CI's run of these tests shares the temporary directory: with one fixed name, a run that starts
// while another is running removes that one's database and opens its log, and both fail ("disk I/O error", "file
// is not a database") or measure each other's files.
struct TempDatabase {
  explicit TempDatabase(const std::string& name)
      : path(::testing::TempDir() + "/tidewire-" + name + "-" + std::to_string(::getpid()) + ".sqlite3") {
    remove();
  }
  ~TempDatabase() { remove(); }
  TempDatabase(const TempDatabase&) = delete;
  TempDatabase& operator=(const TempDatabase&) = delete;
  void remove() const {
    for (const char* suffix : {"", "-wal", "-shm"}) std::remove((path + suffix).c_str());
  }
  const std::string path;
};

TEST(HubHistory, BroadcastsCarryTheEpochAndSubscribedTheLatestOffset) {
  Hub hub;
  auto a = std::make_shared<FakeSession>();
  const Joined j = join(hub, a, "room", 1000);
  EXPECT_EQ(j.result.offset, 0u);
  EXPECT_EQ(j.result.epoch.rfind("e-", 0), 0u);
  hub.publish(request("room", 1000));
  EXPECT_EQ(nlohmann::json::parse(*a->frames[0])["epoch"], j.result.epoch);
  auto b = std::make_shared<FakeSession>();
  EXPECT_EQ(join(hub, b, "room", 1000).result.offset, 1u);
}

TEST(HubHistory, RecoversMissedPublicationsInOrder) {
  Hub hub;
  auto a = std::make_shared<FakeSession>();
  const std::string epoch = join(hub, a, "room", 1000).result.epoch;
  for (int i = 0; i < 5; ++i) hub.publish(request("room", 1000));
  auto b = std::make_shared<FakeSession>();
  const Joined j = join(hub, b, "room", 1000, true, 2, epoch);
  EXPECT_TRUE(j.result.recovered);
  EXPECT_TRUE(j.result.reason.empty());
  ASSERT_EQ(j.replay.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(offset_of(j.replay[i]), 3 + i);
  EXPECT_EQ(j.replay[0].get(), a->frames[2].get());  // the same bytes live subscribers got
  // Up to date: recovered, nothing to replay.
  auto c = std::make_shared<FakeSession>();
  const Joined k = join(hub, c, "room", 1000, true, 5, epoch);
  EXPECT_TRUE(k.result.recovered);
  EXPECT_TRUE(k.replay.empty());
}

TEST(HubHistory, ReportsEpochChangedAndWindowExceeded) {
  HubOptions o;
  o.history.max_count = 3;
  Hub hub(o);
  auto a = std::make_shared<FakeSession>();
  const std::string epoch = join(hub, a, "room", 1000).result.epoch;
  for (int i = 0; i < 6; ++i) hub.publish(request("room", 1000));
  auto b = std::make_shared<FakeSession>();
  Joined j = join(hub, b, "room", 1000, true, 2, "e-other");
  EXPECT_FALSE(j.result.recovered);
  EXPECT_EQ(j.result.reason, "epoch_changed");
  auto c = std::make_shared<FakeSession>();
  j = join(hub, c, "room", 1000, true, 2, epoch);  // history holds 4..6
  EXPECT_FALSE(j.result.recovered);
  EXPECT_EQ(j.result.reason, "window_exceeded");
  EXPECT_TRUE(j.replay.empty());
  auto d = std::make_shared<FakeSession>();
  j = join(hub, d, "room", 1000, true, 3, epoch);
  EXPECT_TRUE(j.result.recovered);
  EXPECT_EQ(j.replay.size(), 3u);
}

TEST(HubHistory, HistoryExpiresByAge) {
  HubOptions o;
  o.history.ttl_ms = 1000;
  Hub hub(o);
  auto a = std::make_shared<FakeSession>();
  const std::string epoch = join(hub, a, "room", 1000).result.epoch;
  hub.publish(request("room", 1000));
  hub.publish(request("room", 1500));
  auto b = std::make_shared<FakeSession>();
  const Joined j = join(hub, b, "room", 2200, true, 0, epoch);  // offset 1 is older than 1 s
  EXPECT_EQ(j.result.reason, "window_exceeded");
}

TEST(HubHistory, ChannelKeepsItsStreamAfterTheLastSubscriberUntilHistoryExpires) {
  HubOptions o;
  o.history.ttl_ms = 1000;
  Hub hub(o);
  auto a = std::make_shared<FakeSession>();
  const std::string epoch = join(hub, a, "room", 1000).result.epoch;
  hub.publish(request("room", 1000));
  hub.unsubscribe("room", a.get());
  EXPECT_EQ(hub.channel_count(), 1u);
  hub.sweep(1500);
  auto b = std::make_shared<FakeSession>();
  Joined j = join(hub, b, "room", 1500, true, 0, epoch);
  EXPECT_TRUE(j.result.recovered);
  EXPECT_EQ(j.result.offset, 1u);
  EXPECT_EQ(j.replay.size(), 1u);
  hub.unsubscribe("room", b.get());
  hub.sweep(5000);  // expired: the stream is gone, a new one starts at 1 with a new epoch
  EXPECT_EQ(hub.channel_count(), 0u);
  auto c = std::make_shared<FakeSession>();
  j = join(hub, c, "room", 5000, true, 1, epoch);
  EXPECT_EQ(j.result.reason, "epoch_changed");
  EXPECT_EQ(j.result.offset, 0u);
}

TEST(HubHistory, DuplicateClientIdsAreAckedWithTheOriginalOffsetAndNotBroadcast) {
  Hub hub;
  auto a = std::make_shared<FakeSession>();
  join(hub, a, "room", 1000);
  std::vector<std::pair<std::uint64_t, bool>> acks;
  auto ack = [&](std::uint64_t offset, bool dup) { acks.emplace_back(offset, dup); };
  EXPECT_EQ(hub.publish_once(request("room", 1000, "m1"), ack).offset, 1u);
  EXPECT_EQ(hub.publish_once(request("room", 1000, "m2"), ack).offset, 2u);
  const PublishResult again = hub.publish_once(request("room", 1000, "m1"), ack);
  EXPECT_TRUE(again.duplicate);
  EXPECT_EQ(again.offset, 1u);
  PublishRequest other = request("room", 1000, "m1");
  other.from = "bob";  // ids are per sender
  EXPECT_EQ(hub.publish_once(other, ack).offset, 3u);
  EXPECT_EQ(a->frames.size(), 3u);
  EXPECT_EQ(acks, (std::vector<std::pair<std::uint64_t, bool>>{{1, false}, {2, false}, {1, true}, {3, false}}));
}

TEST(HubHistory, BinaryPublicationsAreBinaryFrames) {
  Hub hub;
  auto a = std::make_shared<FakeSession>();
  const std::string epoch = join(hub, a, "room", 1000).result.epoch;
  PublishRequest r = request("room", 1000);
  r.payload_json = std::string_view("\x00\xff\x01", 3);
  r.binary = true;
  EXPECT_EQ(hub.publish(r), 1u);
  protocol::BinaryBroadcast b;
  ASSERT_TRUE(protocol::decode_binary_broadcast(*a->frames[0], b));
  EXPECT_EQ(b.channel, "room");
  EXPECT_EQ(b.offset, 1u);
  EXPECT_EQ(b.epoch, epoch);
  EXPECT_EQ(b.payload, std::string_view("\x00\xff\x01", 3));
}

TEST(HubHistory, SqliteStoreKeepsEpochsAndHistoryAcrossHubs) {
  const TempDatabase db("history-test");
  const std::string& path = db.path;
  std::string error;
  std::string epoch;
  {
    auto store = SqliteHistoryStore::open(path, error);
    ASSERT_TRUE(store) << error;
    HubOptions o;
    o.store = store.get();
    Hub hub(o);
    auto a = std::make_shared<FakeSession>();
    epoch = join(hub, a, "room", 1000).result.epoch;
    hub.publish_once(request("room", 1000, "m1"), nullptr);
    hub.publish_once(request("room", 1000, "m2"), nullptr);
  }
  auto store = SqliteHistoryStore::open(path, error);
  ASSERT_TRUE(store) << error;
  HubOptions o;
  o.store = store.get();
  Hub hub(o);  // a "restarted" server
  auto b = std::make_shared<FakeSession>();
  const Joined j = join(hub, b, "room", 2000, true, 0, epoch);
  EXPECT_TRUE(j.result.recovered);
  EXPECT_EQ(j.result.epoch, epoch);
  ASSERT_EQ(j.replay.size(), 2u);
  EXPECT_EQ(offset_of(j.replay[1]), 2u);
  const PublishResult dup = hub.publish_once(request("room", 2000, "m2"), nullptr);
  EXPECT_TRUE(dup.duplicate);
  EXPECT_EQ(dup.offset, 2u);
  EXPECT_EQ(hub.publish_once(request("room", 2000, "m3"), nullptr).offset, 3u);
}

// Group commit: writes wait in one transaction until sync() (which the transport calls before any write to the
// network) or a full batch; another connection to the file, like a restarted server, sees only what was committed.
TEST(HubHistory, SqliteStoreCommitsABatchOnSyncOrWhenFull) {
  const TempDatabase db("history-batch-test");
  const std::string& path = db.path;
  std::string error;
  auto store = SqliteHistoryStore::open(path, error);
  ASSERT_TRUE(store) << error;
  auto entry = [](std::uint64_t offset) {
    HistoryEntry e;
    e.offset = offset;
    e.ts_ms = 1000;
    e.from = "alice";
    e.event = "message";
    e.payload = R"({"n":1})";
    return e;
  };
  store->create("room", "e-1", 0);
  for (std::uint64_t i = 1; i <= 3; ++i) store->append("room", entry(i));
  store->trim("room", 2);
  EXPECT_EQ(store->commits(), 0u);

  auto reader = SqliteHistoryStore::open(path, error);
  ASSERT_TRUE(reader) << error;
  StoredStream before;
  EXPECT_FALSE(reader->load("room", before)) << "nothing is committed before sync()";

  store->sync();
  EXPECT_EQ(store->commits(), 1u);
  store->sync();  // nothing pending: no empty commit
  EXPECT_EQ(store->commits(), 1u);
  StoredStream after;
  ASSERT_TRUE(reader->load("room", after));
  EXPECT_EQ(after.epoch, "e-1");
  EXPECT_EQ(after.last_offset, 3u);
  ASSERT_EQ(after.entries.size(), 2u);  // 1 was trimmed
  EXPECT_EQ(after.entries[0].offset, 2u);

  // A trim of every entry keeps the stream's last offset (appends store only their entry).
  store->trim("room", 4);
  store->sync();
  StoredStream emptied;
  ASSERT_TRUE(reader->load("room", emptied));
  EXPECT_EQ(emptied.last_offset, 3u);
  EXPECT_TRUE(emptied.entries.empty());
  // A new stream forgets a trim still pending for the old one.
  store->trim("room", 1000);
  store->create("room", "e-2", 0);
  store->append("room", entry(1));
  store->sync();
  StoredStream renewed;
  ASSERT_TRUE(reader->load("room", renewed));
  EXPECT_EQ(renewed.epoch, "e-2");
  EXPECT_EQ(renewed.last_offset, 1u);
  EXPECT_EQ(renewed.entries.size(), 1u);
  const std::uint64_t commits = store->commits();

  // A batch commits by itself when full, so a long burst without a network write stays bounded.
  for (std::uint64_t i = 2; i < 2 + SqliteHistoryStore::kMaxBatch; ++i) store->append("room", entry(i));
  EXPECT_EQ(store->commits(), commits + 1);
  reader.reset();
  store.reset();
}

// Checkpoints run on the store's own thread (a commit only wakes it), so the write-ahead log is reused instead of
// growing, and no writing thread pays for a checkpoint's copy and fsync.
TEST(HubHistory, SqliteStoreCheckpointsOnItsOwnThread) {
  const TempDatabase db("history-checkpoint-test");
  const std::string& path = db.path;
  std::string error;
  auto store = SqliteHistoryStore::open(path, error);
  ASSERT_TRUE(store) << error;
  store->create("room", "e-1", 0);
  std::uint64_t offset = 0;
  auto write_batch = [&] {  // about 4,600 WAL pages (18 MB) in one commit: past kCheckpointPages
    for (int i = 0; i < 4000; ++i) {
      HistoryEntry e;
      e.offset = ++offset;
      e.from = "alice";
      e.event = "message";
      e.payload = std::string(1500, 'x');
      store->append("room", e);
    }
    store->sync();
  };
  // Waits for the checkpoint thread to finish a run that began after the batch's commit: two more runs from
  // when the commit returned (the first may be one that started mid-batch, on the thread's one-second tick, and
  // copied only part of the log; a slow, loaded machine makes that likely).
  auto wait_for_checkpoint = [&] {
    const std::uint64_t after = store->checkpoints() + 1;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (store->checkpoints() <= after && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));  // waiting for another thread, not for time
    return store->checkpoints() > after;
  };
  write_batch();
  ASSERT_TRUE(wait_for_checkpoint());
  const auto wal_size = std::filesystem::file_size(path + "-wal");
  EXPECT_GE(wal_size, 4000u * 1500u) << "the first batch is in this store's log";
  for (int round = 0; round < 3; ++round) {
    write_batch();
    ASSERT_TRUE(wait_for_checkpoint());
  }
  // Three more batches went through a log the size of one: each started over a checkpointed log.
  EXPECT_LE(std::filesystem::file_size(path + "-wal"), wal_size + wal_size / 4);
  store.reset();
}

}  // namespace
}  // namespace tidewire::server

namespace tidewire::server {
namespace {

// A history entry of `from` with client id `id`, at `offset` (its timestamp too).
HistoryEntry entry(std::uint64_t offset, std::string from, std::string id) {
  HistoryEntry e;
  e.offset = offset;
  e.ts_ms = offset;
  e.from = std::move(from);
  e.client_id = std::move(id);
  return e;
}

}  // namespace

TEST(ChannelHistoryIndex, FindsTheNewestEntryOfASenderAndIdAndForgetsWhatIsPruned) {
  ChannelHistory h;
  h.push(entry(1, "alice", "k1"));
  h.push(entry(2, "bob", "k1"));     // the same id from another sender is another message
  h.push(entry(3, "alice", ""));     // no id: never found
  h.push(entry(4, "ali", "cek1"));   // the same characters split differently is another key
  h.push(entry(5, "alice", "k1"));   // a repeat (as the hub never stores one, only its newest counts)
  ASSERT_NE(h.find_client_id("alice", "k1"), nullptr);
  EXPECT_EQ(h.find_client_id("alice", "k1")->offset, 5u);
  EXPECT_EQ(h.find_client_id("bob", "k1")->offset, 2u);
  EXPECT_EQ(h.find_client_id("ali", "cek1")->offset, 4u);
  EXPECT_EQ(h.find_client_id("alice", ""), nullptr);
  EXPECT_EQ(h.find_client_id("carol", "k1"), nullptr);
  // Pruning the oldest two keeps alice's newest k1 and forgets bob's.
  EXPECT_EQ(h.prune(100, HistoryLimits{3, 1000}), 3u);
  EXPECT_EQ(h.find_client_id("bob", "k1"), nullptr);
  EXPECT_EQ(h.find_client_id("alice", "k1")->offset, 5u);
  // Past the ttl everything goes, and nothing is found.
  EXPECT_EQ(h.prune(5000, HistoryLimits{3, 1000}), 0u);
  EXPECT_EQ(h.find_client_id("alice", "k1"), nullptr);
}

// The index is built at the first look-up (a copy of a Redis stream never looks): from what the history holds
// then, pruned entries excluded, and kept up to date after it.
TEST(ChannelHistoryIndex, IsBuiltFromTheHistoryAtTheFirstLookUp) {
  ChannelHistory h;
  h.push(entry(1, "bob", "k1"));
  h.push(entry(2, "alice", "k1"));
  h.push(entry(3, "alice", "k1"));
  EXPECT_EQ(h.prune(100, HistoryLimits{2, 1000}), 2u);  // bob's goes before anything was indexed
  EXPECT_EQ(h.find_client_id("bob", "k1"), nullptr);
  ASSERT_NE(h.find_client_id("alice", "k1"), nullptr);
  EXPECT_EQ(h.find_client_id("alice", "k1")->offset, 3u) << "the newest of a repeated key";
  h.push(entry(4, "carol", "k2"));  // indexed from now on, as it comes
  ASSERT_NE(h.find_client_id("carol", "k2"), nullptr);
  EXPECT_EQ(h.find_client_id("carol", "k2")->offset, 4u);
  EXPECT_EQ(h.prune(100, HistoryLimits{1, 1000}), 4u);
  EXPECT_EQ(h.find_client_id("alice", "k1"), nullptr);
}

}  // namespace tidewire::server
