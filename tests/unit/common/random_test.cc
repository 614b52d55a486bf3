#include "common/random.h"

#include <gtest/gtest.h>

namespace meridian {
namespace {

TEST(RandomTest, SameSeedSameSequence) {
  Random a(42), b(42), c(43);
  bool differs = false;
  for (int i = 0; i < 100; ++i) {
    const uint64_t va = a.Next();
    EXPECT_EQ(va, b.Next());
    differs |= va != c.Next();
  }
  EXPECT_TRUE(differs);
}

TEST(RandomTest, UniformAndRangeStayInBounds) {
  Random rng(7);
  int hits[5] = {};
  for (int i = 0; i < 10000; ++i) {
    const uint64_t u = rng.Uniform(5);
    ASSERT_LT(u, 5u);
    ++hits[u];
    const int64_t r = rng.Range(-3, 3);
    ASSERT_GE(r, -3);
    ASSERT_LE(r, 3);
  }
  for (int h : hits) EXPECT_GT(h, 1500);  // each bucket near 2000
}

TEST(RandomTest, BernoulliExtremes) {
  Random rng(9);
  for (int i = 0; i < 100; ++i) {
    EXPECT_FALSE(rng.Bernoulli(0));
    EXPECT_TRUE(rng.Bernoulli(1));
  }
}

}  // namespace
}  // namespace meridian
