// DAISM's approximate multiplier and its floating-point datapath against brute-force references.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>

#include "core/daism/characterize.h"
#include "core/daism/multiplier.h"
#include "core/daism/number_format.h"

namespace bitline::core::daism {
namespace {

MultiplierConfig variant(const std::string& name, int n = 8) {
  MultiplierConfig base;
  base.operand_bits = n;
  return parse_short_name(name, base);
}

// Brute-force partial products of the two readings of PCk, written independently of the library:
// digits (OR of A * d_g << k g) and top-k exact (A * top part, OR of the low set bits' copies).
uint64_t reference_digits(uint64_t a, uint64_t b, int n, int k) {
  uint64_t result = 0;
  for (int g = 0; g * k < n; ++g) {
    uint64_t digit = 0;
    for (int bit = 0; bit < k && g * k + bit < n; ++bit) digit |= ((b >> (g * k + bit)) & 1) << bit;
    result |= (a * digit) << (g * k);
  }
  return result;
}
uint64_t reference_top(uint64_t a, uint64_t b, int n, int k) {
  uint64_t top = 0, ored = 0;
  for (int i = 0; i < n; ++i) {
    if (((b >> i) & 1) == 0) continue;
    if (i >= n - k) {
      top += a << i;
    } else {
      ored |= a << i;
    }
  }
  return top | ored;
}

TEST(DaismMultiplier, MatchesBruteForceReferencesForEveryPairOfSixBitOperands) {
  for (int k = 1; k <= 6; ++k) {
    for (uint64_t a = 0; a < 64; ++a) {
      for (uint64_t b = 0; b < 64; ++b) {
        ASSERT_EQ(approximate_product(a, b, variant("pc" + std::to_string(k), 6)), reference_digits(a, b, 6, k));
        ASSERT_EQ(approximate_product(a, b, variant("top" + std::to_string(k), 6)), reference_top(a, b, 6, k));
      }
    }
  }
}

TEST(DaismMultiplier, NeverExceedsTheExactProductAndEqualsItIffPartialProductsAreDisjoint) {
  const auto config = variant("or");
  for (uint64_t a = 0; a < 256; ++a) {
    for (uint64_t b = 0; b < 256; ++b) {
      const uint64_t approximate = approximate_product(a, b, config);
      ASSERT_LE(approximate, a * b);
      uint64_t seen = 0;
      bool disjoint = true;
      for (int i = 0; i < 8; ++i) {
        if (((b >> i) & 1) == 0) continue;
        disjoint = disjoint && (seen & (a << i)) == 0;
        seen |= a << i;
      }
      ASSERT_EQ(approximate == a * b, disjoint) << a << " x " << b;
    }
  }
}

TEST(DaismMultiplier, KEqualToTheOperandWidthIsExact) {
  for (const char* name : {"pc8", "top8", "exact"}) {
    const auto config = variant(name);
    for (uint64_t a = 0; a < 256; ++a) {
      for (uint64_t b = 0; b < 256; b += 3) ASSERT_EQ(approximate_product(a, b, config), a * b) << name;
    }
  }
}

TEST(DaismMultiplier, TruncationClearsTheLowColumnsOnly) {
  auto config = variant("pc2");
  for (int kept = 1; kept <= 16; ++kept) {
    config.kept_columns = kept;
    const uint64_t low = (uint64_t{1} << (16 - kept)) - 1;
    for (uint64_t a = 1; a < 256; a += 7) {
      for (uint64_t b = 1; b < 256; b += 5) {
        const uint64_t full = approximate_product(a, b, config);
        ASSERT_EQ(sensed_product(a, b, config), full & ~low);
      }
    }
  }
}

// papers.md §1(c): our reconstruction's statistics, exhaustive over normalised 8-bit mantissas.
TEST(DaismMultiplier, EightBitStatisticsEqualTheBruteForceTableOfPapersMd) {
  struct Row {
    const char* name;
    double mean_percent, worst_percent, inexact_percent;  // inexact < 0: not in the table
  };
  const Row table[] = {{"or", -16.44, -49.61, 95.4},  {"pc2", -8.67, -32.78, 92.7}, {"pc3", -8.62, -32.82, 91.6},
                       {"pc4", -1.99, -10.48, 79.8},  {"top2", -8.97, -32.72, -1}, {"top3", -4.59, -19.18, -1},
                       {"top4", -2.24, -10.14, -1}};
  for (const auto& row : table) {
    const Datapath datapath(parse_operand_format("bf16"), variant(row.name));
    const auto stats = characterize(datapath, 1 << 20, 0).mantissa_product;
    EXPECT_EQ(stats.pairs, 128 * 128);
    EXPECT_NEAR(100 * stats.mean_relative_error, row.mean_percent, 0.005) << row.name;
    EXPECT_NEAR(100 * stats.worst_relative_error, row.worst_percent, 0.005) << row.name;
    if (row.inexact_percent >= 0) {
      EXPECT_NEAR(100 * stats.inexact_share(), row.inexact_percent, 0.05) << row.name;
    }
  }
}

TEST(DaismMultiplier, RowsAndPrecomputeAdditionsFollowPapersMd) {
  EXPECT_EQ(rows_per_operand(variant("or"), false), 8);
  EXPECT_EQ(rows_per_operand(variant("pc2"), false), 12);
  EXPECT_EQ(rows_per_operand(variant("pc3"), false), 17);  // 7 + 7 + 3
  EXPECT_EQ(rows_per_operand(variant("pc3"), true), 16);   // the top 2-bit digit of a mantissa is 2 or 3
  EXPECT_EQ(rows_per_operand(variant("top3"), true), 4 + 5);
  EXPECT_EQ(precompute_additions(variant("or")), 0);
  EXPECT_EQ(precompute_additions(variant("pc2")), 1);  // 3A
  EXPECT_EQ(precompute_additions(variant("pc3")), 3);  // 3A, 5A, 7A
  EXPECT_EQ(rows_raised(0b10110110, variant("or")), 5);
  EXPECT_EQ(rows_raised(0b10110100, variant("pc2")), 3);   // digits 10 11 01 00
  EXPECT_EQ(rows_raised(0b10100001, variant("top3")), 2);  // top 101, low 00001
}

TEST(DaismMultiplier, BadSettingsNameTheField) {
  auto config = variant("pc2");
  config.kept_columns = 17;
  EXPECT_THROW(
      {
        try {
          validate(config);
        } catch (const std::invalid_argument& error) {
          EXPECT_NE(std::string(error.what()).find("kept_columns"), std::string::npos);
          throw;
        }
      },
      std::invalid_argument);
  config = variant("pc9");
  EXPECT_THROW(validate(config), std::invalid_argument);
  EXPECT_THROW(parse_short_name("pcx", {}), std::invalid_argument);
  EXPECT_THROW(parse_short_name("approx", {}), std::invalid_argument);
  EXPECT_THROW(parse_operand_format("fp8"), std::invalid_argument);
}

// ---- number formats and the floating-point datapath ----------------------------------------------

TEST(DaismFormat, RoundsToNearestEvenAndFlushesSubnormals) {
  const NumberFormat bf16{8, 7};
  EXPECT_EQ(round_to_format(1.0f + 1.0f / 256, bf16), 1.0f);                 // a tie, to even
  EXPECT_EQ(round_to_format(1.0f + 3.0f / 256, bf16), 1.0f + 4.0f / 256);    // a tie, to even (up)
  EXPECT_EQ(round_to_format(1.0f + 1.5f / 256, bf16), 1.0f + 2.0f / 256);    // above half
  EXPECT_EQ(round_to_format(-3.0f, bf16), -3.0f);
  EXPECT_EQ(round_to_format(1e-39f, bf16), 0.0f);  // an fp32 subnormal
  const NumberFormat fp16{5, 10};
  EXPECT_EQ(round_to_format(65504.0f, fp16), 65504.0f);
  EXPECT_TRUE(std::isinf(round_to_format(65520.0f, fp16)));  // rounds past the largest finite
  EXPECT_EQ(round_to_format(6.0e-5f, fp16), 0.0f);            // an fp16 subnormal flushes
  EXPECT_NEAR(round_to_format(6.2e-5f, fp16), 6.2e-5f, 6.2e-5f / 2048);  // just above the smallest normal, 2^-14
  EXPECT_TRUE(std::signbit(round_to_format(-1e-39f, bf16)));
  EXPECT_TRUE(std::isnan(round_to_format(std::numeric_limits<float>::quiet_NaN(), bf16)));
}

TEST(DaismFormat, ExactVariantEqualsTheRealProductRoundedTowardZero) {
  const Datapath datapath(parse_operand_format("bf16"), variant("exact"));
  for (int i = 0; i < 128; ++i) {
    for (int j = 0; j < 128; ++j) {
      const float a = 1.0f + static_cast<float>(i) / 128, b = -(1.0f + static_cast<float>(j) / 128) * 0.25f;
      const double exact = static_cast<double>(a) * b;
      // Toward zero to 8 significant bits.
      const int exponent = std::ilogb(exact);
      const double unit = std::ldexp(1.0, exponent - 7);
      const double expected = std::trunc(exact / unit) * unit;
      ASSERT_EQ(datapath.multiply(a, b), static_cast<float>(expected)) << a << " x " << b;
    }
  }
}

TEST(DaismFormat, NearestEvenRoundingOfTheKeptBits) {
  auto config = variant("exact");
  config.rounding = Rounding::NearestEven;
  const Datapath datapath(parse_operand_format("bf16"), config);
  for (int i = 0; i < 128; ++i) {
    for (int j = 0; j < 128; ++j) {
      const float a = 1.0f + static_cast<float>(i) / 128, b = 1.0f + static_cast<float>(j) / 128;
      // The product is exact in fp32 (16 bits); rounding it to bf16 is nearest-even.
      ASSERT_EQ(datapath.multiply(a, b), round_to_format(a * b, {8, 7}));
    }
  }
}

TEST(DaismFormat, SignExponentAndSpecialValues) {
  const Datapath datapath(parse_operand_format("bf16"), variant("pc2"));
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(datapath.multiply(-2.0f, 3.0f), -6.0f);  // 1.0 x 1.5: disjoint partial products, exact
  EXPECT_EQ(datapath.multiply(0.5f, 0.25f), 0.125f);
  EXPECT_TRUE(std::isnan(datapath.multiply(inf, 0.0f)));
  EXPECT_TRUE(std::isnan(datapath.multiply(std::numeric_limits<float>::quiet_NaN(), 1.0f)));
  EXPECT_EQ(datapath.multiply(-inf, 2.0f), -inf);
  EXPECT_EQ(datapath.multiply(0.0f, -5.0f), 0.0f);
  EXPECT_TRUE(std::signbit(datapath.multiply(0.0f, -5.0f)));
  EXPECT_EQ(datapath.multiply(1e30f, 1e30f), inf);   // exponent overflow
  EXPECT_EQ(datapath.multiply(1e-30f, 1e-30f), 0.0f);  // underflow flushes to zero
  const Datapath fp16(parse_operand_format("fp16"), variant("exact"));
  EXPECT_EQ(fp16.multiply(256.0f, 256.0f), inf);  // 65536 > 65504
  EXPECT_EQ(fp16.multiply(0.01f, 0.001f), 0.0f);  // below fp16's smallest normal
}

TEST(DaismFormat, ApproximateProductsNeverExceedExactOnesInMagnitude) {
  for (const char* format : {"bf16", "fp16"}) {
    const Datapath datapath(parse_operand_format(format), variant("or"));
    const auto stats = characterize(datapath, 1 << 22, 0).product;
    EXPECT_LE(stats.worst_relative_error, 0.0) << format;
    EXPECT_GT(stats.worst_relative_error, -0.5) << format;  // P~ >= A << msb(B)
  }
}

TEST(DaismFormat, TruncationToMantissaPlusOneColumnDoesNotChangeTowardZeroResults) {
  // No carries cross columns, so the columns below the kept n + 1 never reach the result.
  auto nine = variant("pc2");
  nine.kept_columns = 9;
  const Datapath full(parse_operand_format("bf16"), variant("pc2")), truncated(parse_operand_format("bf16"), nine);
  EXPECT_EQ(characterize(full, 1 << 20, 0).product.mean_relative_error,
            characterize(truncated, 1 << 20, 0).product.mean_relative_error);
  nine.kept_columns = 8;
  const Datapath fewer(parse_operand_format("bf16"), nine);
  EXPECT_LT(characterize(fewer, 1 << 20, 0).product.mean_relative_error,
            characterize(full, 1 << 20, 0).product.mean_relative_error);
}

TEST(DaismFormat, SignMagnitudeIntegers) {
  const Datapath datapath(parse_operand_format("int8"), variant("or", 7));
  EXPECT_EQ(datapath.multiply_integers(-3, 5), -15);  // 3 x 5 = 0b11 | 0b1100: disjoint
  EXPECT_EQ(datapath.multiply_integers(-3, -3), 3 | 6);  // the carry of 3 + 6 is lost
  const auto stats = characterize(datapath, 1 << 20, 0);
  EXPECT_TRUE(stats.exhaustive);
  EXPECT_EQ(stats.product.pairs, 127 * 127);
  EXPECT_EQ(stats.product.mean_relative_error, stats.mantissa_product.mean_relative_error);
}

TEST(DaismFormat, SamplesWhenThereAreTooManyPairs) {
  const Datapath datapath(parse_operand_format("fp32"), variant("pc2"));
  int64_t seen = 0;
  const auto stats = characterize(datapath, 1000, 7, [&](const ErrorSample& sample) {
    ++seen;
    EXPECT_GE(sample.stored, uint64_t{1} << 23);
    EXPECT_LT(sample.driving, uint64_t{1} << 24);
  });
  EXPECT_FALSE(stats.exhaustive);
  EXPECT_EQ(seen, 1000);
  EXPECT_EQ(stats.product.pairs, 1000);
}

}  // namespace
}  // namespace bitline::core::daism
