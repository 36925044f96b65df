#include "server/outbound_queue.hpp"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace tidewire::server
