// The per-connection token bucket with a hand-driven clock.
#include "server/rate_limiter.hpp"

#include <gtest/gtest.h>

namespace tidewire::server {
namespace {

using V = RateLimiter::Verdict;

TEST(RateLimiter, AllowsTheBurstThenRefillsAtTheRate) {
  RateLimiter r(10, 5);
  std::uint64_t now = 1000;
  for (int i = 0; i < 5; ++i) EXPECT_EQ(r.take(now), V::kAllow) << i;
  EXPECT_EQ(r.take(now), V::kLimit);
  EXPECT_EQ(r.retry_after_ms(), 100u);  // one token per 100 ms
  now += 50;
  EXPECT_EQ(r.take(now), V::kLimit);
  EXPECT_EQ(r.retry_after_ms(), 50u);
  now += 50;
  EXPECT_EQ(r.take(now), V::kAllow);
  now += 10000;  // refills up to the burst, no further
  for (int i = 0; i < 5; ++i) EXPECT_EQ(r.take(now), V::kAllow) << i;
  EXPECT_EQ(r.take(now), V::kLimit);
}

TEST(RateLimiter, FiveSecondsContinuouslyOverTheRateIsAbuse) {
  RateLimiter r(10, 1);
  std::uint64_t now = 1000;
  V v = V::kAllow;
  // Twice the rate: a message every 50 ms, half of them refused.
  while (now < 1000 + 4990) {
    v = r.take(now);
    ASSERT_NE(v, V::kAbuse) << now;
    now += 50;
  }
  for (int i = 0; i < 4 && v != V::kAbuse; ++i, now += 50) v = r.take(now);
  EXPECT_EQ(v, V::kAbuse);
}

TEST(RateLimiter, BurstsWithPausesAreNotAbuse) {
  RateLimiter r(10, 5);
  std::uint64_t now = 1000;
  for (int round = 0; round < 20; ++round, now += 2000) {
    int refused = 0;
    for (int i = 0; i < 20; ++i) {
      const V v = r.take(now);
      ASSERT_NE(v, V::kAbuse);
      refused += v == V::kLimit;
    }
    EXPECT_EQ(refused, 15);
  }
}

TEST(RateLimiter, TenTimesTheRateWithinASecondIsAbuse) {
  RateLimiter r(10, 10);
  const std::uint64_t now = 1000;
  for (int i = 0; i < 10; ++i) EXPECT_EQ(r.take(now), V::kAllow);
  V v = V::kAllow;
  int refused = 0;
  while ((v = r.take(now)) == V::kLimit) ++refused;
  EXPECT_EQ(v, V::kAbuse);
  EXPECT_EQ(refused, 100);
}

TEST(RateLimiter, ZeroRateAllowsEverything) {
  RateLimiter r(0, 0);
  for (int i = 0; i < 10000; ++i) ASSERT_EQ(r.take(1), V::kAllow);
}

}  // namespace
}  // namespace tidewire::server
