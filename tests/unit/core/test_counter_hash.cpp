#include "core/counter_hash.h"
#include "core/digest.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

namespace bitline::core {
namespace {

TEST(CounterHash, IsAPureFunctionOfSeedAndCounters) {
  EXPECT_EQ(counter_hash(1, 2, 3, 4), counter_hash(1, 2, 3, 4));
  EXPECT_NE(counter_hash(1, 2, 3, 4), counter_hash(2, 2, 3, 4));
  EXPECT_NE(counter_hash(1, 2, 3, 4), counter_hash(1, 2, 4, 3));
}

TEST(CounterHash, BoundedDrawsAreRoughlyUniform) {
  std::vector<int> counts(10, 0);
  const int draws = 100000;
  for (int i = 0; i < draws; ++i) ++counts[bounded(counter_hash(42, static_cast<uint64_t>(i)), 10)];
  for (int c : counts) {
    // Binomial(100000, 0.1): sd = 95, so +-600 is > 6 sd.
    EXPECT_NEAR(c, draws / 10, 600);
  }
}

TEST(Digest, MatchesPublishedFnv1aVectors) {
  // Test vectors of FNV-1a 64 (Fowler/Noll/Vo reference test suite).
  EXPECT_EQ(hex64(fnv1a64("", 0)), "cbf29ce484222325");
  EXPECT_EQ(hex64(fnv1a64("a", 1)), "af63dc4c8601ec8c");
  EXPECT_EQ(hex64(fnv1a64("foobar", 6)), "85944171f73967e8");
}

TEST(Digest, ChainsAcrossBuffers) {
  const std::string whole = "foobar";
  EXPECT_EQ(fnv1a64("bar", 3, fnv1a64("foo", 3)), fnv1a64(whole.data(), whole.size()));
}

}  // namespace
}  // namespace bitline::core
