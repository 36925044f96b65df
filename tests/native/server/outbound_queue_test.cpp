#include "server/outbound_queue.hpp"

#include <gtest/gtest.h>

#include "protocol/binary_frame.hpp"
#include "protocol/compact_batch.hpp"
#include "server/history.hpp"

namespace tidewire::server {
namespace {

SharedFrame frame(std::string s) { return std::make_shared<const std::string>(std::move(s)); }

TEST(OutboundQueue, TheFirstPushStartsTheWriteLoopAndBatchesJoinWithNewlines) {
  OutboundQueue q(1 << 20, 100);
  std::string out;
  EXPECT_FALSE(q.take_batch(out));
  EXPECT_EQ(q.push(frame("a")), OutboundQueue::Push::kStartWrite);
  EXPECT_EQ(q.push(frame("b")), OutboundQueue::Push::kQueued);
  EXPECT_EQ(q.push(frame("c")), OutboundQueue::Push::kQueued);
  ASSERT_TRUE(q.take_batch(out));
  EXPECT_EQ(out, "a\nb\nc");
  EXPECT_EQ(q.push(frame("d")), OutboundQueue::Push::kQueued);  // the loop is still running
  ASSERT_TRUE(q.take_batch(out));
  EXPECT_EQ(out, "d");
  EXPECT_FALSE(q.take_batch(out));                                  // loop ends
  EXPECT_EQ(q.push(frame("e")), OutboundQueue::Push::kStartWrite);  // and restarts
}

TEST(OutboundQueue, CapsOneBatch) {
  OutboundQueue q(1 << 30, 100000);
  for (std::size_t i = 0; i < OutboundQueue::kMaxBatchMessages + 5; ++i) q.push(frame("m"));
  std::string out;
  ASSERT_TRUE(q.take_batch(out));
  EXPECT_EQ(out.size(), OutboundQueue::kMaxBatchMessages * 2 - 1);
  ASSERT_TRUE(q.take_batch(out));
  EXPECT_EQ(out, "m\nm\nm\nm\nm");

  const std::string big(OutboundQueue::kMaxBatchBytes, 'x');
  q.push(frame(big));  // one oversize message still goes out alone
  q.push(frame("y"));
  ASSERT_TRUE(q.take_batch(out));
  EXPECT_EQ(out, big);
  ASSERT_TRUE(q.take_batch(out));
  EXPECT_EQ(out, "y");
}

TEST(OutboundQueue, OverflowClosesTheQueue) {
  OutboundQueue by_count(1 << 20, 2);
  EXPECT_EQ(by_count.push(frame("a")), OutboundQueue::Push::kStartWrite);
  EXPECT_EQ(by_count.push(frame("b")), OutboundQueue::Push::kQueued);
  EXPECT_EQ(by_count.push(frame("c")), OutboundQueue::Push::kOverflow);
  EXPECT_EQ(by_count.push(frame("d")), OutboundQueue::Push::kClosed);
  std::string out;
  EXPECT_FALSE(by_count.take_batch(out));

  OutboundQueue by_bytes(10, 100);
  EXPECT_EQ(by_bytes.push(frame("12345")), OutboundQueue::Push::kStartWrite);
  EXPECT_EQ(by_bytes.push(frame("12345")), OutboundQueue::Push::kQueued);
  EXPECT_EQ(by_bytes.push(frame("1")), OutboundQueue::Push::kOverflow);
}

TEST(OutboundQueue, CloseDropsEverything) {
  OutboundQueue q(1 << 20, 100);
  q.push(frame("a"));
  q.close();
  EXPECT_EQ(q.size(), 0u);
  EXPECT_EQ(q.push(frame("b")), OutboundQueue::Push::kClosed);
}

TEST(OutboundQueue, BinaryBroadcastFramesAreWrittenAloneBetweenJsonBatches) {
  OutboundQueue q(1 << 20, 100);
  q.push(frame("{\"a\":1}"));
  q.push(frame("{\"b\":2}"));
  q.push(frame(std::string("\x01" "bin1", 5)));
  q.push(frame(std::string("\x01" "bin2", 5)));
  q.push(frame("{\"c\":3}"));
  std::string out;
  bool binary = true;
  ASSERT_TRUE(q.take_batch(out, binary));
  EXPECT_FALSE(binary);
  EXPECT_EQ(out, "{\"a\":1}\n{\"b\":2}");
  ASSERT_TRUE(q.take_batch(out, binary));
  EXPECT_TRUE(binary);
  EXPECT_EQ(out, std::string("\x01" "bin1", 5));
  ASSERT_TRUE(q.take_batch(out, binary));
  EXPECT_TRUE(binary);
  EXPECT_EQ(out, std::string("\x01" "bin2", 5));
  ASSERT_TRUE(q.take_batch(out, binary));
  EXPECT_FALSE(binary);
  EXPECT_EQ(out, "{\"c\":3}");
  EXPECT_FALSE(q.take_batch(out, binary));
}


// Protocol v2 (PROTOCOL.md 13.1): the hub's frame of a channel message goes out as an 'm' record built from the
// head it encoded once; anything else as a 'j' record; order kept; a v1 connection still gets the JSON lines.
TEST(OutboundQueue, CompactBatchesKeepOrderAndUseTheHubsHead) {
  HistoryEntry entry;
  entry.offset = 42;
  entry.ts_ms = 1700000000000ull;
  entry.from = "ann";
  entry.event = "chat";
  entry.payload = R"({"text":"héllo"})";
  const SharedFrame message = encode_history_entry("room:1", "ep", entry);
  const SharedFrame ack = frame(R"({"type":"ack","ref":"1"})");

  OutboundQueue q(1 << 20, 100);
  q.push(ack);
  q.push(message);
  q.push(frame(R"({"type":"pong"})"));
  std::string out;
  bool binary = true;
  ASSERT_TRUE(q.take_batch(out, binary, true));
  EXPECT_FALSE(binary);
  ASSERT_EQ(static_cast<std::uint8_t>(out[0]), static_cast<std::uint8_t>(protocol::BinaryKind::kCompactBatch));
  protocol::CompactReader reader(out);
  protocol::CompactRecord r;
  ASSERT_EQ(reader.next(r), protocol::CompactReader::Status::kRecord);
  EXPECT_EQ(r.tag, protocol::compact::kJson);
  EXPECT_EQ(r.json, *ack);
  ASSERT_EQ(reader.next(r), protocol::CompactReader::Status::kRecord);
  EXPECT_EQ(r.tag, protocol::compact::kMessage);
  EXPECT_EQ(r.message.channel, "room:1");
  EXPECT_EQ(r.message.event, "chat");
  EXPECT_EQ(r.message.epoch, "ep");
  EXPECT_EQ(r.message.offset, 42u);
  EXPECT_EQ(r.message.ts_ms, 1700000000000ull);
  EXPECT_EQ(r.message.from, "ann");
  EXPECT_EQ(r.message.payload, entry.payload);
  ASSERT_EQ(reader.next(r), protocol::CompactReader::Status::kRecord);
  EXPECT_EQ(r.json, R"({"type":"pong"})");
  EXPECT_EQ(reader.next(r), protocol::CompactReader::Status::kEnd);

  q.push(ack);
  q.push(message);
  ASSERT_TRUE(q.take_batch(out, binary, false));
  EXPECT_EQ(out, *ack + "\n" + *message);
  const std::string tail = R"("payload":)" + entry.payload + "}";  // the head's payload is the line's end
  EXPECT_EQ(message->compare(message->size() - tail.size(), tail.size(), tail), 0);
}

}  // namespace
}  // namespace tidewire::server
