// The SOT-MRAM FP engine's SIMD GEMM against the scalar functional model, bit for bit.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "core/sot_mram/fp_format.h"
#include "core/sot_mram/kernel.h"

namespace bitline::core::sot_mram {
namespace {

// Values of the format over a wide range (products overflow and underflow), with zeros and a few
// infinities and NaN when `specials`.
std::vector<float> operands(const NumberFormat& format, int64_t count, uint32_t seed, double spread, bool specials) {
  std::mt19937 random(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::vector<float> values(static_cast<std::size_t>(count));
  for (auto& v : values) {
    v = to_format(static_cast<float>(normal(random) * std::exp2(spread * (unit(random) - 0.5))), format);
    const double pick = unit(random);
    if (pick < 0.1) v = 0.0f;
    if (specials && pick > 0.998) v = std::numeric_limits<float>::infinity();
    if (specials && pick > 0.999) v = std::numeric_limits<float>::quiet_NaN();
  }
  return values;
}

bool same_bits_or_both_nan(float expected, float actual) {
  if (std::isnan(expected) || std::isnan(actual)) return std::isnan(expected) && std::isnan(actual);
  return std::memcmp(&expected, &actual, sizeof(float)) == 0;
}

TEST(SotMramKernel, LanesEqualTheFunctionalModelBitForBit) {
  const std::vector<NumberFormat> formats = {{8, 7}, {5, 10}, {8, 23}, {4, 3}, {6, 12}, {8, 2}, {8, 10}};
  struct Shape {
    int64_t m, n, d;
  };
  for (const auto& format : formats) {
    const double spread = format.exponent_bits == 8 ? 120.0 : std::ldexp(1.0, format.exponent_bits);
    for (const Rounding rounding : {Rounding::TowardZero, Rounding::NearestEven}) {
      for (const Shape shape : {Shape{5, 37, 19}, Shape{9, 64, 40}, Shape{3, 1, 7}, Shape{1, 70, 1}}) {
        for (const StoredLayout layout : {StoredLayout::ByElement, StoredLayout::ByDepth}) {
          for (const bool specials : {false, true}) {
            SCOPED_TRACE(format_name(format) + " " + to_string(rounding) + " " + std::to_string(shape.m) + "x" +
                         std::to_string(shape.n) + "x" + std::to_string(shape.d) + (specials ? " specials" : ""));
            const auto driving = operands(format, shape.m * shape.d, 1, spread, specials);
            const auto stored = operands(format, shape.n * shape.d, 2, spread, specials);
            std::vector<float> fast(static_cast<std::size_t>(shape.m * shape.n)), slow(fast.size());
            fp_gemm(format, rounding, shape.m, shape.n, shape.d, driving.data(), stored.data(), fast.data(), layout);
            fp_gemm_reference(format, rounding, shape.m, shape.n, shape.d, driving.data(), stored.data(), slow.data(),
                              layout);
            for (std::size_t i = 0; i < fast.size(); ++i) {
              ASSERT_TRUE(same_bits_or_both_nan(slow[i], fast[i])) << "output " << i << ": " << slow[i] << " vs " << fast[i];
            }
          }
        }
      }
    }
  }
}

TEST(SotMramKernel, LaneConversionEqualsToFormat) {
  std::mt19937 random(9);
  std::vector<float> values(20000);
  for (auto& v : values) {
    uint32_t bits = random();  // every class of float: subnormals, huge, infinities, NaN
    std::memcpy(&v, &bits, sizeof(v));
  }
  values[0] = std::ldexp(1.0f, -126) * (1.0f - std::ldexp(1.0f, -20));  // just below bf16's smallest normal
  values[1] = std::numeric_limits<float>::denorm_min();
  for (const NumberFormat format : {NumberFormat{8, 7}, NumberFormat{5, 10}, NumberFormat{8, 23}, NumberFormat{3, 2}}) {
    std::vector<float> fast(values.size());
    to_format_lanes(values.data(), static_cast<int64_t>(values.size()), format, fast.data());
    for (std::size_t i = 0; i < values.size(); ++i) {
      ASSERT_TRUE(same_bits_or_both_nan(to_format(values[i], format), fast[i])) << format_name(format) << " " << values[i];
    }
  }
}

TEST(SotMramKernel, NarrowAccumulationLosesSmallAddendsThatFp32Keeps) {
  // 1 + 256 x 2^-9 in bf16 with truncation: each 2^-9 falls past the register of 1's sum and is
  // lost, so the sum stays 1; fp32 keeps them (1.5).
  const int64_t d = 257;
  std::vector<float> driving(d, 1.0f), stored(d, std::ldexp(1.0f, -9));
  stored[0] = 1.0f;
  float bf16 = 0, fp32 = 0;
  fp_gemm({8, 7}, Rounding::TowardZero, 1, 1, d, driving.data(), stored.data(), &bf16, StoredLayout::ByElement);
  fp_gemm({8, 23}, Rounding::TowardZero, 1, 1, d, driving.data(), stored.data(), &fp32, StoredLayout::ByElement);
  EXPECT_EQ(1.0f, bf16);
  EXPECT_EQ(1.5f, fp32);
}

}  // namespace
}  // namespace bitline::core::sot_mram
