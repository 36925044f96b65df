// FlushTick (src/server/flush_tick.hpp) on a real io_context, and with OutboundQueue in the write loop of
// transport.cpp's WebsocketSession (a write delay: push -> kStartWrite lists the session; the tick flushes it;
// a write completion with more queued lists it again), without sockets.
#include "server/flush_tick.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "server/outbound_queue.hpp"

namespace tidewire::server {
namespace {

namespace net = boost::asio;
using namespace std::chrono_literals;

struct Counter : Flushable {
  void flush() noexcept override {
    ++flushes;
    thread = std::this_thread::get_id();
  }
  int flushes = 0;
  std::thread::id thread;
};

// Runs `ioc` until `done()` or a deadline; returns whether done() became true.
template <typename Done>
bool run_until(net::io_context& ioc, Done done, std::chrono::milliseconds limit = 5000ms) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    ioc.restart();
    ioc.run_for(1ms);
  }
  return done();
}

TEST(FlushTick, FlushesEveryListedTargetOnceAfterThePeriodThenStopsTicking) {
  net::io_context ioc(1);
  FlushTick tick(ioc, 2000us);
  auto a = std::make_shared<Counter>();
  auto b = std::make_shared<Counter>();
  const auto t0 = std::chrono::steady_clock::now();
  tick.add(a);
  tick.add(b);
  EXPECT_EQ(tick.listed(), 2u);
  ASSERT_TRUE(run_until(ioc, [&] { return a->flushes + b->flushes == 2; }));
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 2ms);
  EXPECT_EQ(tick.listed(), 0u);
  EXPECT_EQ(tick.ticks(), 1u);
  // Nothing listed: no further ticks.
  ioc.restart();
  ioc.run_for(10ms);
  EXPECT_EQ(tick.ticks(), 1u);
  EXPECT_EQ(a->flushes, 1);
  EXPECT_EQ(b->flushes, 1);
  // Listing again arms it again.
  tick.add(a);
  ASSERT_TRUE(run_until(ioc, [&] { return a->flushes == 2; }));
  EXPECT_EQ(tick.ticks(), 2u);
}

TEST(FlushTick, AZeroPeriodFlushesAtTheEndOfTheTurnWithoutATimer) {
  net::io_context ioc(1);
  FlushTick tick(ioc, 0us);
  auto a = std::make_shared<Counter>();
  auto b = std::make_shared<Counter>();
  tick.add(a);
  tick.add(b);
  EXPECT_EQ(a->flushes, 0) << "add() only lists";
  // poll() runs what is ready and never waits: a posted tick runs, a timer would not have expired.
  ioc.poll();
  EXPECT_EQ(a->flushes, 1);
  EXPECT_EQ(b->flushes, 1);
  EXPECT_EQ(tick.ticks(), 1u);
  ioc.restart();
  ioc.poll();
  EXPECT_EQ(tick.ticks(), 1u) << "nothing listed: no further ticks";
  tick.add(a);
  ioc.restart();
  ioc.poll();
  EXPECT_EQ(a->flushes, 2);
  EXPECT_EQ(tick.ticks(), 2u);
}

TEST(FlushTick, APositivePeriodDoesNotFlushBeforeItsTimer) {
  net::io_context ioc(1);
  FlushTick tick(ioc, 1000000us);  // far beyond this test
  auto a = std::make_shared<Counter>();
  tick.add(a);
  ioc.poll();
  EXPECT_EQ(a->flushes, 0);
  EXPECT_EQ(tick.listed(), 1u);
}

TEST(FlushTick, ATargetDestroyedWhileListedIsSkipped) {
  net::io_context ioc(1);
  FlushTick tick(ioc, 500us);
  auto kept = std::make_shared<Counter>();
  auto gone = std::make_shared<Counter>();
  tick.add(gone);
  tick.add(kept);
  gone.reset();  // a session that closed and was destroyed before the tick
  ASSERT_TRUE(run_until(ioc, [&] { return kept->flushes == 1; }));
  EXPECT_EQ(tick.ticks(), 1u);
}

class FlushTickPeriod : public ::testing::TestWithParam<int> {};

TEST_P(FlushTickPeriod, AnAddFromAnotherThreadFlushesOnTheTicksThread) {
  net::io_context ioc(1);
  auto guard = net::make_work_guard(ioc);
  FlushTick tick(ioc, std::chrono::microseconds(GetParam()));
  std::thread io([&] { ioc.run(); });
  auto c = std::make_shared<Counter>();
  std::atomic<bool> flushed{false};
  struct Signal : Flushable {
    Signal(std::shared_ptr<Counter> c, std::atomic<bool>& f) : counter(std::move(c)), flag(f) {}
    void flush() noexcept override {
      counter->flush();
      flag = true;
    }
    std::shared_ptr<Counter> counter;
    std::atomic<bool>& flag;
  };
  auto s = std::make_shared<Signal>(c, flushed);
  tick.add(s);  // this thread does not run ioc: the arming is posted
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!flushed && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(1ms);
  guard.reset();
  ioc.stop();
  const auto io_id = io.get_id();
  io.join();
  ASSERT_TRUE(flushed);
  EXPECT_EQ(c->thread, io_id);
}

INSTANTIATE_TEST_SUITE_P(DelayAndEndOfTurn, FlushTickPeriod, ::testing::Values(500, 0));

TEST(FlushTick, StopDropsWhatIsListed) {
  net::io_context ioc(1);
  FlushTick tick(ioc, 1000us);
  auto c = std::make_shared<Counter>();
  tick.add(c);
  tick.stop();
  ioc.run_for(20ms);
  EXPECT_EQ(c->flushes, 0);
  tick.add(c);  // ignored once stopped
  ioc.restart();
  ioc.run_for(10ms);
  EXPECT_EQ(c->flushes, 0);
}

// The write loop of WebsocketSession with a write delay, frames recorded instead of written: the completion of
// a write is posted, as Asio posts an async_write's completion. Not a fake of the whole session (that is
// fake_session.hpp's FakeSession, which the handler and hub tests share): only the part the flush tick drives.
class FakeWriteLoop : public Flushable, public std::enable_shared_from_this<FakeWriteLoop> {
 public:
  FakeWriteLoop(net::io_context& ioc, FlushTick& tick) : ioc_(ioc), tick_(tick), queue_(1 << 24, 1 << 20) {}

  void deliver(std::string message) {  // any thread, as the hub's fan-out
    if (queue_.push(std::make_shared<const std::string>(std::move(message))) == OutboundQueue::Push::kStartWrite)
      tick_.add(weak_from_this());
  }
  void flush() noexcept override { do_write(); }
  void close() {
    closed_ = true;
    queue_.close();
  }

  std::vector<std::string> frames;  // io_context thread only

 private:
  void do_write() {
    if (write_in_flight_ || closed_) return;
    std::string batch;
    if (!queue_.take_batch(batch)) return;
    write_in_flight_ = true;
    frames.push_back(std::move(batch));
    net::post(ioc_, [self = shared_from_this()] { self->on_write(); });
  }
  void on_write() {
    write_in_flight_ = false;
    if (!closed_ && queue_.size() > 0) return tick_.add(weak_from_this());
    do_write();
  }

  net::io_context& ioc_;
  FlushTick& tick_;
  OutboundQueue queue_;
  bool write_in_flight_ = false;
  bool closed_ = false;
};

std::vector<std::string> split(const std::vector<std::string>& frames) {
  std::vector<std::string> out;
  for (const auto& f : frames) {
    std::istringstream in(f);
    for (std::string line; std::getline(in, line, '\n');) out.push_back(line);
  }
  return out;
}

TEST(FlushTick, BatchedWritesDeliverEverythingInOrderToEverySubscriber) {
  net::io_context ioc(1);
  auto guard = net::make_work_guard(ioc);
  FlushTick tick(ioc, 1000us);
  constexpr int kSubscribers = 20;
  constexpr int kMessages = 3000;
  std::vector<std::shared_ptr<FakeWriteLoop>> subs;
  for (int i = 0; i < kSubscribers; ++i) subs.push_back(std::make_shared<FakeWriteLoop>(ioc, tick));
  std::thread io([&] { ioc.run(); });
  // A publisher on another thread (a connection on another I/O thread), in bursts, as the hub's fan-out.
  std::thread publisher([&] {
    for (int m = 0; m < kMessages; ++m) {
      for (auto& s : subs) s->deliver(std::to_string(m));
      if (m % 50 == 49) std::this_thread::sleep_for(200us);
    }
  });
  publisher.join();
  // Done when every subscriber has every message; frames are read on the io thread.
  std::atomic<bool> all{false};
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!all && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
    net::post(ioc, [&] {
      bool done = true;
      for (auto& s : subs) done = done && split(s->frames).size() >= static_cast<std::size_t>(kMessages);
      if (done) all = true;
    });
  }
  guard.reset();
  ioc.stop();
  io.join();
  ASSERT_TRUE(all);
  for (auto& s : subs) {
    const auto got = split(s->frames);
    ASSERT_EQ(got.size(), static_cast<std::size_t>(kMessages));
    for (int m = 0; m < kMessages; ++m) ASSERT_EQ(got[m], std::to_string(m));
    EXPECT_LT(s->frames.size(), static_cast<std::size_t>(kMessages) / 5) << "messages were batched";
  }
}

// Without a write delay, a publisher's burst as Beast delivers it: one handler per buffered message, each posting
// the next one's completion after it has fanned its message out to every subscriber (and told the tick it read).
struct Burst {
  Burst(net::io_context& ioc, FlushTick& tick, std::vector<std::shared_ptr<FakeWriteLoop>>& subs, int messages,
        std::function<void()> per_read = nullptr)
      : ioc(ioc), tick(tick), subs(subs), messages(messages), per_read(std::move(per_read)) {}
  void start() {
    net::post(ioc, [this] { read(0); });
  }
  void read(int m) {
    tick.note_read();
    if (per_read) per_read();
    for (auto& s : subs) s->deliver(std::to_string(m));
    if (m + 1 < messages) after(gap, [this, m] { read(m + 1); });
  }
  // Runs `fn` after `idle` handlers that read nothing (a socket read, say, that completed no message).
  void after(int idle, std::function<void()> fn) {
    if (idle == 0) return net::post(ioc, std::move(fn));
    net::post(ioc, [this, idle, fn = std::move(fn)]() mutable { after(idle - 1, std::move(fn)); });
  }
  net::io_context& ioc;
  FlushTick& tick;
  std::vector<std::shared_ptr<FakeWriteLoop>>& subs;
  int messages;
  std::function<void()> per_read;
  int gap = 0;  // handlers without a read between two reads
};

std::vector<std::size_t> frame_sizes(const FakeWriteLoop& s) {
  std::vector<std::size_t> sizes;
  for (const auto& f : s.frames) sizes.push_back(split({f}).size());
  return sizes;
}

TEST(FlushTick, AZeroPeriodWaitsForTheEndOfABurstOfReads) {
  net::io_context ioc(1);
  FlushTick tick(ioc, 0us);
  std::vector<std::shared_ptr<FakeWriteLoop>> subs;
  for (int i = 0; i < 3; ++i) subs.push_back(std::make_shared<FakeWriteLoop>(ioc, tick));
  Burst burst(ioc, tick, subs, 10);
  burst.start();
  ioc.poll();
  for (auto& s : subs) {
    EXPECT_EQ(s->frames, std::vector<std::string>{"0\n1\n2\n3\n4\n5\n6\n7\n8\n9"}) << "one frame for the burst";
  }
  EXPECT_EQ(tick.ticks(), 1u);
}

TEST(FlushTick, AZeroPeriodBurstMayPauseForOneHandlerButNotTwo) {
  for (int gap : {1, 2}) {
    net::io_context ioc(1);
    FlushTick tick(ioc, 0us);
    std::vector<std::shared_ptr<FakeWriteLoop>> subs{std::make_shared<FakeWriteLoop>(ioc, tick)};
    Burst burst(ioc, tick, subs, 4);
    burst.gap = gap;
    burst.start();
    ioc.poll();
    EXPECT_EQ(split(subs[0]->frames).size(), 4u);
    if (gap == 1) {
      EXPECT_EQ(subs[0]->frames, std::vector<std::string>{"0\n1\n2\n3"}) << "one quiet turn: still the burst";
    } else {
      EXPECT_EQ(subs[0]->frames.front(), "0") << "two quiet turns end the burst";
    }
  }
}

TEST(FlushTick, AZeroPeriodStopsWaitingAfterMaxTurns) {
  net::io_context ioc(1);
  FlushTick tick(ioc, 0us);
  std::vector<std::shared_ptr<FakeWriteLoop>> subs{std::make_shared<FakeWriteLoop>(ioc, tick)};
  constexpr int kMessages = 1000;  // a burst that never pauses
  Burst burst(ioc, tick, subs, kMessages);
  burst.start();
  ioc.poll();
  const auto sizes = frame_sizes(*subs[0]);
  ASSERT_GT(sizes.size(), 1u);
  EXPECT_EQ(sizes.front(), FlushTick::kMaxTurns + 1) << "the first read, then one per turn waited";
  // Later batches also hold the message read while the previous write's completion was still queued.
  for (std::size_t n : sizes) EXPECT_LE(n, FlushTick::kMaxTurns + 2);
  const auto got = split(subs[0]->frames);
  ASSERT_EQ(got.size(), static_cast<std::size_t>(kMessages));
  for (int m = 0; m < kMessages; ++m) ASSERT_EQ(got[m], std::to_string(m));
}

TEST(FlushTick, AZeroPeriodStopsWaitingAfterMaxWait) {
  net::io_context ioc(1);
  FlushTick::Clock::time_point now{};  // virtual: each read takes 100 us
  FlushTick tick(ioc, 0us, [&now] { return now; });
  std::vector<std::shared_ptr<FakeWriteLoop>> subs{std::make_shared<FakeWriteLoop>(ioc, tick)};
  Burst burst(ioc, tick, subs, 40, [&now] { now += 100us; });
  burst.start();
  ioc.poll();
  const auto sizes = frame_sizes(*subs[0]);
  ASSERT_FALSE(sizes.empty());
  // Armed during read 0 (at 100 us); reads 1..5 take the clock to 600 us >= armed + 500 us.
  EXPECT_EQ(sizes.front(), 6u);
  EXPECT_EQ(split(subs[0]->frames).size(), 40u);
}

TEST(FlushTick, AZeroPeriodBatchesWhatArrivesDuringAWrite) {
  net::io_context ioc(1);
  FlushTick tick(ioc, 0us);
  std::vector<std::shared_ptr<FakeWriteLoop>> subs{std::make_shared<FakeWriteLoop>(ioc, tick)};
  subs[0]->deliver("a");  // lone: flushed once the loop finds nothing else being read
  ioc.poll();
  EXPECT_EQ(subs[0]->frames, std::vector<std::string>{"a"});
  // "b" is written; "c" and "d" arrive while that write is in flight and leave together after its completion.
  subs[0]->deliver("b");
  ioc.restart();
  while (subs[0]->frames.size() < 2 && ioc.poll_one() == 1) {
  }  // one handler at a time, up to the write of "b" (its completion is still queued)
  ASSERT_EQ(subs[0]->frames.size(), 2u);
  subs[0]->deliver("c");
  subs[0]->deliver("d");
  ioc.poll();
  EXPECT_EQ(subs[0]->frames, (std::vector<std::string>{"a", "b", "c\nd"}));
}

TEST(FlushTick, ASessionThatClosesWhileListedIsSafe) {
  net::io_context ioc(1);
  FlushTick tick(ioc, 1000us);
  auto open = std::make_shared<FakeWriteLoop>(ioc, tick);
  auto closing = std::make_shared<FakeWriteLoop>(ioc, tick);
  auto destroyed = std::make_shared<FakeWriteLoop>(ioc, tick);
  for (auto* s : {open.get(), closing.get(), destroyed.get()}) {
    s->deliver("a");
    s->deliver("b");
  }
  EXPECT_EQ(tick.listed(), 3u);
  closing->close();   // listed, closed: the tick finds nothing to write
  destroyed.reset();  // listed, gone: the tick skips it
  ASSERT_TRUE(run_until(ioc, [&] { return open->frames.size() == 1; }));
  ioc.restart();
  ioc.run_for(5ms);
  EXPECT_EQ(open->frames, std::vector<std::string>{"a\nb"});
  EXPECT_TRUE(closing->frames.empty());
  closing->deliver("c");  // a closed queue refuses: nothing is listed
  EXPECT_EQ(tick.listed(), 0u);
}

}  // namespace
}  // namespace tidewire::server
