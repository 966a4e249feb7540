#pragma once
// Error statistics of a DAISM multiplier over a format's operands (`bitline multiplier`,
// docs/macros/daism.md): every pair of normalised mantissas (floating formats), or of nonzero
// magnitudes (sign-magnitude integers), or a random sample of them when there are too many pairs.
#include <cstdint>
#include <functional>

#include "core/daism/number_format.h"

namespace bitline::core::daism {

// Relative errors e = (approximate - exact) / exact over the pairs.
struct ErrorStatistics {
  int64_t pairs = 0;
  int64_t inexact = 0;                           // pairs with e != 0
  double mean_relative_error = 0;                // mean of e
  double mean_absolute_relative_error = 0;       // mean of |e|
  double worst_relative_error = 0;               // the e of largest |e|
  uint64_t worst_stored = 0, worst_driving = 0;  // its operands (mantissas or magnitudes)
  double bias = 0;  // sum(approximate - exact) / sum(exact): what a sum of many products sees
  double inexact_share() const { return pairs > 0 ? static_cast<double>(inexact) / static_cast<double>(pairs) : 0; }
};

// One pair: operands as mantissas with the hidden bit (or magnitudes), the exact and approximate
// results as values (floating: operands in [1, 2), so products in [1, 4)).
struct ErrorSample {
  uint64_t stored = 0, driving = 0;
  double exact = 0, approximate = 0;
};

struct Characterization {
  ErrorStatistics mantissa_product;  // the sensed integer product against the exact integer product
  ErrorStatistics product;           // the format's result (normalised, rounded) against the exact real product
  bool exhaustive = true;            // false: a random sample of `pairs` pairs
};

// Every pair when there are at most `max_pairs`, else `max_pairs` pairs drawn uniformly with
// `seed`. `on_sample` (optional) sees every pair's format-level sample, in order.
Characterization characterize(const Datapath& datapath, int64_t max_pairs, uint64_t seed,
                              const std::function<void(const ErrorSample&)>& on_sample = {});

}  // namespace bitline::core::daism
