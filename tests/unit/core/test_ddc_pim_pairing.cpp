// DDC-PIM's filter pairing (core/ddc_pim/pairing.h): pair costs against hand computations, the exact
// matching against a brute-force optimum on small layers, odd counts, the greedy option and the two
// encodings' complements.
#include <gtest/gtest.h>

#include <limits>
#include <random>
#include <stdexcept>
#include <vector>

#include "core/ddc_pim/pairing.h"

namespace bitline::core::ddc_pim {
namespace {

std::vector<int32_t> random_codes(int64_t filters, int64_t depth, uint32_t seed) {
  std::mt19937 generator(seed);
  std::uniform_int_distribution<int32_t> code(-128, 127);
  std::vector<int32_t> codes(static_cast<std::size_t>(filters * depth));
  for (auto& c : codes) c = code(generator);
  return codes;
}

// A pair's cost from its definition (papers.md §2(b), step 2): the squared distance of a + b from the
// complement sum, Σ_k (a_k + b_k - complement_sum)², written out here so that the brute force does not
// depend on the function under test.
int64_t naive_pair_cost(const int32_t* a, const int32_t* b, int64_t depth, int64_t complement_sum) {
  int64_t cost = 0;
  for (int64_t k = 0; k < depth; ++k) {
    const int64_t distance = int64_t{a[k]} + int64_t{b[k]} - complement_sum;
    cost += distance * distance;
  }
  return cost;
}

// The least total cost over every way to pair the filters (one left out when their count is odd).
int64_t brute_force_cost(const std::vector<int32_t>& codes, int64_t depth, std::vector<int64_t> left, int64_t sum) {
  if (left.size() < 2) return 0;
  int64_t best = std::numeric_limits<int64_t>::max();
  if (left.size() % 2 == 1) {  // choose the one left out
    for (std::size_t out = 0; out < left.size(); ++out) {
      auto rest = left;
      rest.erase(rest.begin() + static_cast<std::ptrdiff_t>(out));
      best = std::min(best, brute_force_cost(codes, depth, rest, sum));
    }
    return best;
  }
  const int64_t first = left.front();
  for (std::size_t partner = 1; partner < left.size(); ++partner) {
    auto rest = left;
    rest.erase(rest.begin() + static_cast<std::ptrdiff_t>(partner));
    rest.erase(rest.begin());
    const int64_t cost = naive_pair_cost(&codes[static_cast<std::size_t>(first * depth)],
                                         &codes[static_cast<std::size_t>(left[partner] * depth)], depth, sum);
    best = std::min(best, cost + brute_force_cost(codes, depth, rest, sum));
  }
  return best;
}

TEST(DdcPimPairing, PairCostsOfHandComputedFilters) {
  // Three filters of depth 2 in two's complement (complement sum -1), distances a_k + b_k + 1:
  //   f0 = (0, 0), f1 = (1, 1), f2 = (2, -1);
  //   (f0, f1): (2, 2), cost 4 + 4 = 8;  (f0, f2): (3, 0), cost 9 + 0 = 9;  (f1, f2): (4, 1), cost 16 + 1 = 17.
  // The cheapest pair is (f0, f1) at 8, f2 left alone. (Absolute distances would cost 4, 3 and 5 and pair
  // f0 with f2 instead.)
  const std::vector<int32_t> codes = {0, 0, 1, 1, 2, -1};
  const int64_t sum = complement_sum_twos_complement();
  EXPECT_EQ(sum, -1);  // ~w = -w - 1
  EXPECT_EQ(complement_cost(&codes[0], &codes[2], 2, sum), 8);
  EXPECT_EQ(complement_cost(&codes[0], &codes[4], 2, sum), 9);
  EXPECT_EQ(complement_cost(&codes[2], &codes[4], 2, sum), 17);
  EXPECT_EQ(complement_cost_matrix(codes.data(), 3, 2, sum), (std::vector<int64_t>{0, 8, 9, 8, 0, 17, 9, 17, 0}));
  for (const Matching matching : {Matching::Exact, Matching::Greedy}) {
    const auto pairing = pair_filters(codes.data(), 3, 2, sum, matching);
    EXPECT_EQ(pairing.pairs, (std::vector<std::pair<int64_t, int64_t>>{{0, 1}}));
    EXPECT_EQ(pairing.unpaired, 2);
    EXPECT_EQ(pairing.cost, 8);
  }
  // Offset binary of 2 bits: ~w = 3 - w (complement sum 3). a = (0, 3), b = (1, 1): distances (-2, 1), cost 5.
  const std::vector<int32_t> a = {0, 3}, b = {1, 1};
  EXPECT_EQ(complement_sum_offset_binary(2), 3);
  EXPECT_EQ(complement_cost(a.data(), b.data(), 2, 3), 4 + 1);
}

TEST(DdcPimPairing, ExactMatchingEqualsTheBruteForceOptimum) {
  const int64_t depth = 9;
  for (int64_t filters : {1, 2, 3, 4, 5, 6, 7, 8, 9}) {
    for (uint32_t seed : {1u, 2u, 3u}) {
      const auto codes = random_codes(filters, depth, seed);
      const int64_t sum = complement_sum_twos_complement();
      const auto pairing = pair_filters(codes.data(), filters, depth, sum, Matching::Exact);
      std::vector<int64_t> all(static_cast<std::size_t>(filters));
      for (int64_t i = 0; i < filters; ++i) all[static_cast<std::size_t>(i)] = i;
      EXPECT_EQ(pairing.cost, brute_force_cost(codes, depth, all, sum)) << filters << " filters, seed " << seed;
      // Every filter once: in a pair or the unpaired one; the cost is the pairs' sum.
      std::vector<int> seen(static_cast<std::size_t>(filters), 0);
      int64_t cost = 0;
      for (const auto& [a, b] : pairing.pairs) {
        EXPECT_LT(a, b);
        ++seen[static_cast<std::size_t>(a)];
        ++seen[static_cast<std::size_t>(b)];
        cost += naive_pair_cost(&codes[static_cast<std::size_t>(a * depth)],
                                &codes[static_cast<std::size_t>(b * depth)], depth, sum);
      }
      if (filters % 2 == 1) {
        ASSERT_GE(pairing.unpaired, 0);
        ++seen[static_cast<std::size_t>(pairing.unpaired)];
      } else {
        EXPECT_EQ(pairing.unpaired, -1);
      }
      for (int count : seen) EXPECT_EQ(count, 1);
      EXPECT_EQ(cost, pairing.cost);
    }
  }
}

TEST(DdcPimPairing, ComplementaryFiltersPairAtZeroCostInBothEncodings) {
  // Filters 0..3 with 2 and 0, 3 and 1 exact complements (two's complement: b = -a - 1).
  const int64_t depth = 4;
  std::vector<int32_t> codes = {5, -3, 0, 127, 9, 9, -9, -128};
  for (int i = 0; i < 4; ++i) codes.push_back(-codes[static_cast<std::size_t>(i)] - 1);
  for (int i = 4; i < 8; ++i) codes.push_back(-codes[static_cast<std::size_t>(i)] - 1);
  auto pairing = pair_filters(codes.data(), 4, depth, complement_sum_twos_complement(), Matching::Exact);
  EXPECT_EQ(pairing.cost, 0);
  EXPECT_EQ(pairing.pairs, (std::vector<std::pair<int64_t, int64_t>>{{0, 2}, {1, 3}}));
  // Offset binary of 8 bits: b = 255 - a.
  std::vector<int32_t> offset = {5, 200, 0, 255, 17, 17, 100, 3};
  for (int i = 0; i < 8; ++i) offset.push_back(255 - offset[static_cast<std::size_t>(i)]);
  pairing = pair_filters(offset.data(), 4, depth, complement_sum_offset_binary(8), Matching::Greedy);
  EXPECT_EQ(pairing.cost, 0);
  EXPECT_EQ(pairing.pairs, (std::vector<std::pair<int64_t, int64_t>>{{0, 2}, {1, 3}}));
}

TEST(DdcPimPairing, GreedyIsAValidPairingNoCheaperThanTheOptimum) {
  const int64_t filters = 33, depth = 27;
  const auto codes = random_codes(filters, depth, 7);
  const auto exact = pair_filters(codes.data(), filters, depth, -1, Matching::Exact);
  const auto greedy = pair_filters(codes.data(), filters, depth, -1, Matching::Greedy);
  EXPECT_EQ(greedy.pairs.size(), 16u);
  EXPECT_GE(greedy.unpaired, 0);
  EXPECT_GE(greedy.cost, exact.cost);
}

TEST(DdcPimPairing, BadShapesAreRefused) {
  const std::vector<int32_t> codes = {1};
  EXPECT_THROW(pair_filters(codes.data(), 0, 1, -1, Matching::Exact), std::invalid_argument);
  EXPECT_THROW(pair_filters(codes.data(), 1, 0, -1, Matching::Exact), std::invalid_argument);
}

}  // namespace
}  // namespace bitline::core::ddc_pim
