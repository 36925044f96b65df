// PeriodicTask (the server's sweeps, services tick and shutdown drain): a task that throws keeps its schedule, and
// a stopped or destroyed task never runs again. A zero period makes each run the next handler of the io_context,
// so the tests step it handler by handler with no clock and no sleeps.
#include "server/periodic_task.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include <memory>
#include <stdexcept>

namespace tidewire::server {
namespace {

using namespace std::chrono_literals;

TEST(PeriodicTask, ATaskThatThrowsIsLoggedAndRunsAgain) {
  boost::asio::io_context ioc(1);
  int calls = 0;
  PeriodicTask task(ioc, 0ms, "throwing task", [&] {
    ++calls;
    throw std::runtime_error("boom");
  });
  task.start();
  while (calls < 3) ASSERT_EQ(ioc.run_one(), 1u) << "an exception escaped the handler or stopped the schedule";
  EXPECT_EQ(task.runs(), 3u);
  task.stop();
  ioc.run();  // returns: nothing is armed any more
  EXPECT_EQ(calls, 3);
}

TEST(PeriodicTask, StopFromTheTaskItselfEndsTheSchedule) {
  boost::asio::io_context ioc(1);
  int calls = 0;
  std::unique_ptr<PeriodicTask> task;
  task = std::make_unique<PeriodicTask>(ioc, 0ms, "stopping task", [&] {
    if (++calls == 2) task->stop();
  });
  task->start();
  ioc.run();
  EXPECT_EQ(calls, 2);
}

TEST(PeriodicTask, NoRunBeforeStartAndNoneAfterDestruction) {
  boost::asio::io_context ioc(1);
  int calls = 0;
  {
    PeriodicTask idle(ioc, 0ms, "idle task", [&] { ++calls; });
    ioc.poll();
    EXPECT_EQ(calls, 0);
  }
  auto task = std::make_unique<PeriodicTask>(ioc, 0ms, "destroyed task", [&] { ++calls; });
  task->start();
  task.reset();  // the pending wait completes as cancelled, touching nothing of the task
  ioc.restart();
  ioc.run();
  EXPECT_EQ(calls, 0);
}

}  // namespace
}  // namespace tidewire::server
