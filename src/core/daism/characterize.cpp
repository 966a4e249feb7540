#include "core/daism/characterize.h"

#include <cmath>

#include "core/counter_hash.h"

namespace bitline::core::daism {
namespace {

class StatisticsBuilder {
 public:
  void add(double exact, double approximate, uint64_t stored, uint64_t driving) {
    const double error = (approximate - exact) / exact;
    ++stats_.pairs;
    if (error != 0) ++stats_.inexact;
    sum_error_ += error;
    sum_absolute_error_ += std::fabs(error);
    sum_difference_ += approximate - exact;
    sum_exact_ += exact;
    if (std::fabs(error) > std::fabs(stats_.worst_relative_error)) {
      stats_.worst_relative_error = error;
      stats_.worst_stored = stored;
      stats_.worst_driving = driving;
    }
  }
  ErrorStatistics finish() const {
    ErrorStatistics stats = stats_;
    if (stats.pairs > 0) {
      stats.mean_relative_error = sum_error_ / static_cast<double>(stats.pairs);
      stats.mean_absolute_relative_error = sum_absolute_error_ / static_cast<double>(stats.pairs);
      stats.bias = sum_difference_ / sum_exact_;
    }
    return stats;
  }

 private:
  ErrorStatistics stats_;
  double sum_error_ = 0, sum_absolute_error_ = 0, sum_difference_ = 0, sum_exact_ = 0;
};

}  // namespace

Characterization characterize(const Datapath& datapath, int64_t max_pairs, uint64_t seed,
                              const std::function<void(const ErrorSample&)>& on_sample) {
  const auto& format = datapath.format();
  const int n = datapath.config().operand_bits;
  // Floating: normalised mantissas [2^(n-1), 2^n); integers: nonzero magnitudes [1, 2^n).
  const uint64_t first = format.floating ? uint64_t{1} << (n - 1) : 1;
  const uint64_t count = (uint64_t{1} << n) - first;
  const bool exhaustive = count * count <= static_cast<uint64_t>(max_pairs);
  const uint64_t pairs = exhaustive ? count * count : static_cast<uint64_t>(max_pairs);

  StatisticsBuilder mantissa_stats, product_stats;
  for (uint64_t i = 0; i < pairs; ++i) {
    const uint64_t stored = first + (exhaustive ? i / count : bounded(counter_hash(seed, i, 0), count));
    const uint64_t driving = first + (exhaustive ? i % count : bounded(counter_hash(seed, i, 1), count));
    const double exact_integer = static_cast<double>(stored) * static_cast<double>(driving);  // < 2^48: exact
    mantissa_stats.add(exact_integer, static_cast<double>(sensed_product(stored, driving, datapath.config())), stored,
                       driving);
    ErrorSample sample{stored, driving, exact_integer, 0};
    if (format.floating) {
      // Operands in [1, 2): the mantissas at exponent 0.
      const Decoded a{Decoded::Class::Normal, false, 0, stored}, b{Decoded::Class::Normal, false, 0, driving};
      const double unit = std::ldexp(1.0, -(n - 1));
      sample.exact = exact_integer * unit * unit;
      sample.approximate = encode(datapath.multiply(a, b), format.fp);
    } else {
      sample.approximate =
          static_cast<double>(datapath.multiply_integers(static_cast<int64_t>(stored), static_cast<int64_t>(driving)));
    }
    product_stats.add(sample.exact, sample.approximate, stored, driving);
    if (on_sample) on_sample(sample);
  }
  return {mantissa_stats.finish(), product_stats.finish(), exhaustive};
}

}  // namespace bitline::core::daism
