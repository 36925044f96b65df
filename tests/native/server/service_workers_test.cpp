// The service workers (src/server/service_workers.hpp): jobs with one key run one at a time in posting order on
// any number of threads, jobs with other keys run beside them, a stopped pool drops jobs; and the Postgres pool
// (src/server/pg_pool.hpp) without a database: it fails fast and says why, and never hands out a connection.
// The stores themselves run against a real Postgres in tests/node/server-postgres.test.mjs and the chat/sync
// suites.
#include "server/pg_pool.hpp"
#include "server/service_workers.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <string>
#include <vector>

namespace tidewire::server {
namespace {

TEST(ServiceWorkers, OneKeyRunsInPostingOrderOneAtATimeOnFourThreads) {
  ServiceWorkers workers(4);
  std::mutex m;
  std::vector<int> seen;
  std::atomic<int> running{0};
  std::atomic<bool> overlapped{false};
  std::promise<void> done;
  constexpr int kJobs = 2000;
  for (int i = 0; i < kJobs; ++i) {
    workers.post("chat:42", [&, i] {
      if (running.fetch_add(1) != 0) overlapped = true;
      {
        std::lock_guard lock(m);
        seen.push_back(i);
      }
      running.fetch_sub(1);
      if (i == kJobs - 1) done.set_value();
    });
  }
  ASSERT_EQ(done.get_future().wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_FALSE(overlapped);
  ASSERT_EQ(seen.size(), static_cast<std::size_t>(kJobs));
  for (int i = 0; i < kJobs; ++i) ASSERT_EQ(seen[static_cast<std::size_t>(i)], i);
}

TEST(ServiceWorkers, OtherKeysRunBesideABusyOne) {
  // Two keys on different strands: the first job waits until the second ran, which only works in parallel.
  std::string a = "chat:1", b = "chat:2";
  for (int i = 3; ServiceWorkers::strand_of(a) == ServiceWorkers::strand_of(b); ++i) b = "chat:" + std::to_string(i);
  ServiceWorkers workers(2);
  std::promise<void> second_ran;
  std::shared_future<void> ran = second_ran.get_future().share();
  std::promise<bool> first_saw;
  workers.post(a, [&] { first_saw.set_value(ran.wait_for(std::chrono::seconds(5)) == std::future_status::ready); });
  workers.post(b, [&] { second_ran.set_value(); });
  EXPECT_TRUE(first_saw.get_future().get());
}

TEST(ServiceWorkers, AJobThatThrowsIsLoggedAndTheNextOneRuns) {
  ServiceWorkers workers(1);
  std::promise<void> next;
  workers.post("k", [] { throw std::runtime_error("boom"); });
  workers.post("k", [&] { next.set_value(); });
  EXPECT_EQ(next.get_future().wait_for(std::chrono::seconds(5)), std::future_status::ready);
}

TEST(ServiceWorkers, StopWaitsAndLaterJobsAreDropped) {
  ServiceWorkers workers(2);
  std::atomic<int> ran{0};
  workers.post("k", [&] { ran++; });
  workers.stop();
  workers.post("k", [&] { ran++; });
  workers.stop();  // idempotent
  EXPECT_LE(ran.load(), 1);
}

TEST(PgPool, AnUnreachableDatabaseFailsFastSaysWhyAndNeverRunsTheSetup) {
  // A port nobody listens on (the discard port on loopback refuses at once).
  PgPool::Options options;
  options.conninfo = "postgresql://nobody@127.0.0.1:9/none";
  options.size = 2;
  options.retry_ms = 60000;
  std::atomic<int> setups{0};
  PgPool pool(options, [&](PgConnection&, std::string&) {
    setups++;
    return true;
  });
  EXPECT_TRUE(pool.healthy()) << "healthy until something failed";
  {
    auto lease = pool.acquire();
    EXPECT_FALSE(lease);
  }
  EXPECT_FALSE(pool.healthy());
  EXPECT_NE(pool.last_error().find("cannot connect to the database"), std::string::npos) << pool.last_error();
  // Within retry_ms nobody waits for another connect: every acquire fails at once, and the slots come back.
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 100; ++i) EXPECT_FALSE(pool.acquire());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  EXPECT_EQ(setups.load(), 0);
}

}  // namespace
}  // namespace tidewire::server
