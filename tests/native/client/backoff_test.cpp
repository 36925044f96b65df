#include "client/backoff.hpp"

#include <gtest/gtest.h>

#include "support/fake_transport.hpp"

using namespace tidewire::client;

TEST(Backoff, CeilingDoublesUpToTheCap) {
  BackoffPolicy p{1000, 30000};
  EXPECT_DOUBLE_EQ(backoff_ceiling(p, 0), 1000);
  EXPECT_DOUBLE_EQ(backoff_ceiling(p, 1), 2000);
  EXPECT_DOUBLE_EQ(backoff_ceiling(p, 4), 16000);
  EXPECT_DOUBLE_EQ(backoff_ceiling(p, 5), 30000);
  EXPECT_DOUBLE_EQ(backoff_ceiling(p, 1000), 30000);
}

TEST(Backoff, FullJitterSpansZeroToTheCeiling) {
  BackoffPolicy p{1000, 30000};
  tidewire::testing::FixedRandom lo(0.0), hi(0.999999);
  EXPECT_DOUBLE_EQ(backoff_delay(p, 3, lo), 0);
  EXPECT_NEAR(backoff_delay(p, 3, hi), 8000, 0.01);

  XorShiftRandom rng(42);
  double min = 1e9, max = 0, sum = 0;
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    const double d = backoff_delay(p, 2, rng);
    ASSERT_GE(d, 0);
    ASSERT_LT(d, 4000);
    min = std::min(min, d);
    max = std::max(max, d);
    sum += d;
  }
  EXPECT_LT(min, 100);       // spread reaches the bottom...
  EXPECT_GT(max, 3900);      // ...and the top
  EXPECT_NEAR(sum / n, 2000, 100);  // uniform: mean is half the ceiling
}
