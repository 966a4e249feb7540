#pragma once
// DDC-PIM's filter pairing (papers.md §2(b); issue 15, FCC step 1): a 6T cell holds a bit on Q and its
// complement on Q̄, so two filters can share a column only if one is the elementwise complement of the
// other. The filters of a layer (integer codes) are paired at the least total cost of forcing each
// pair complementary: a minimum-cost perfect matching (LEMON's weighted perfect matching), or a
// greedy one for speed. With an odd count one filter stays unpaired.
#include <cstdint>
#include <utility>
#include <vector>

namespace bitline::core::ddc_pim {

// What a complementary pair's codes sum to elementwise: two's complement, ~w = -w - 1 (sum -1);
// offset binary of `bits` bits, ~w = 2^bits - 1 - w (sum 2^bits - 1).
int64_t complement_sum_twos_complement();
int64_t complement_sum_offset_binary(int bits);

// Σ_k (a_k + b_k - complement_sum)²: the squared distance of b from a's complement, in code units.
int64_t complement_cost(const int32_t* a, const int32_t* b, int64_t depth, int64_t complement_sum);

enum class Matching { Exact, Greedy };

struct Pairing {
  std::vector<std::pair<int64_t, int64_t>> pairs;  // filter indices, first < second, sorted by first
  int64_t unpaired = -1;                            // the filter left alone (odd count), else -1
  int64_t cost = 0;                                 // Σ complement_cost over the pairs
};

// Pair costs of every two of the `filters` rows of codes [filters, depth], [filters * filters]
// (symmetric, 0 on the diagonal): complement_cost; or the cosine cost, 1 + cos(a', b') of the codes
// centred on complement_sum / 2 (so that a complement is an exact negation), in millionths.
std::vector<int64_t> complement_cost_matrix(const int32_t* codes, int64_t filters, int64_t depth, int64_t complement_sum);
std::vector<int64_t> cosine_cost_matrix(const int32_t* codes, int64_t filters, int64_t depth, int64_t complement_sum);

// Pairs `filters` filters at the least total of `costs` ([filters * filters], symmetric).
Pairing match_filters(const std::vector<int64_t>& costs, int64_t filters, Matching matching);

// Pairs the `filters` rows of codes [filters, depth] by complement_cost. Exact: a minimum total cost (ties broken by
// the solver); Greedy: repeatedly the cheapest pair of the filters left. Throws
// std::invalid_argument for filters < 1 or depth < 1.
Pairing pair_filters(const int32_t* codes, int64_t filters, int64_t depth, int64_t complement_sum, Matching matching);

}  // namespace bitline::core::ddc_pim
