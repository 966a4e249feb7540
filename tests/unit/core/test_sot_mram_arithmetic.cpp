// The SOT-MRAM FP engine's arithmetic: the bit-level array programs against the functional model,
// the functional model against an exact wide-integer reference, special values and hand counts.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <stdexcept>
#include <vector>

#include "core/sot_mram/array_program.h"
#include "core/sot_mram/fp_format.h"

namespace bitline::core::sot_mram {
namespace {

uint32_t bits_of(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  return bits;
}

// Bit-for-bit equality; every NaN equals every NaN.
::testing::AssertionResult same_value(float expected, float actual) {
  if ((std::isnan(expected) && std::isnan(actual)) || bits_of(expected) == bits_of(actual)) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << "expected " << expected << " (0x" << std::hex << bits_of(expected) << "), got "
                                       << actual << " (0x" << bits_of(actual) << ")";
}

const std::vector<NumberFormat> kFormats = {{8, 7}, {5, 10}, {8, 23}, {4, 3}, {5, 2}, {3, 1}, {2, 4}, {6, 12}};

// Random finite nonzero values of a format; half of the partners of `near` within a few binades of it.
class ValueSource {
 public:
  explicit ValueSource(const NumberFormat& format, uint32_t seed) : format_(format), random_(seed) {}
  float any() { return value(std::uniform_int_distribution<uint32_t>(1, (1u << format_.exponent_bits) - 2)(random_)); }
  float near(float other) {
    const int biased = static_cast<int>(fields_of(other, format_).exponent);
    const int window = format_.mantissa_bits + 4;
    const int low = std::max(1, biased - window), high = std::min((1 << format_.exponent_bits) - 2, biased + window);
    return value(static_cast<uint32_t>(std::uniform_int_distribution<int>(low, high)(random_)));
  }

 private:
  float value(uint32_t biased_exponent) {
    Fields fields;
    fields.sign = random_() & 1u;
    fields.exponent = biased_exponent;
    fields.mantissa = random_() & ((1u << format_.mantissa_bits) - 1);
    return value_of(fields, format_);
  }
  NumberFormat format_;
  std::mt19937 random_;
};

// ---- the wide-precision reference: exact integers, then the rounding rule ----

struct Exact {
  bool negative = false;
  unsigned __int128 significand = 0;  // the value is significand * 2^lsb_exponent
  int lsb_exponent = 0;
};

int bit_width(unsigned __int128 x) {
  int width = 0;
  while (x != 0) {
    x >>= 1;
    ++width;
  }
  return width;
}

float rounded(const Exact& exact, const NumberFormat& format, Rounding rounding) {
  if (exact.significand == 0) return 0.0f;
  const int p = format.mantissa_bits + 1;
  const int shift = bit_width(exact.significand) - p;
  unsigned __int128 kept = shift > 0 ? exact.significand >> shift : exact.significand << -shift;
  if (shift > 0 && rounding == Rounding::NearestEven) {
    const unsigned __int128 remainder = exact.significand & ((static_cast<unsigned __int128>(1) << shift) - 1);
    const unsigned __int128 half = static_cast<unsigned __int128>(1) << (shift - 1);
    if (remainder > half || (remainder == half && (kept & 1))) ++kept;
  }
  int exponent = exact.lsb_exponent + shift + p - 1;  // of the leading bit
  if (kept >> p) {
    kept >>= 1;
    ++exponent;
  }
  const int bias = (1 << (format.exponent_bits - 1)) - 1;
  const float sign = exact.negative ? -1.0f : 1.0f;
  if (exponent > bias) return sign * std::numeric_limits<float>::infinity();
  if (exponent < 1 - bias) return sign * 0.0f;
  return sign * static_cast<float>(std::ldexp(static_cast<double>(kept), exponent - (p - 1)));
}

// value = significand * 2^(exponent - m), significand with its hidden bit.
void split(float value, const NumberFormat& format, uint64_t& significand, int& exponent) {
  const Fields fields = fields_of(value, format);
  significand = fields.mantissa | (uint64_t{1} << format.mantissa_bits);
  exponent = static_cast<int>(fields.exponent) - ((1 << (format.exponent_bits - 1)) - 1);
}

float reference_multiply(float a, float b, const NumberFormat& format, Rounding rounding) {
  uint64_t ma, mb;
  int ea, eb;
  split(a, format, ma, ea);
  split(b, format, mb, eb);
  return rounded({std::signbit(a) != std::signbit(b), static_cast<unsigned __int128>(ma) * mb,
                  ea + eb - 2 * format.mantissa_bits},
                 format, rounding);
}

float reference_add(float a, float b, const NumberFormat& format, Rounding rounding) {
  if (std::fabs(b) > std::fabs(a)) std::swap(a, b);
  uint64_t ma, mb;
  int ea, eb;
  split(a, format, ma, ea);
  split(b, format, mb, eb);
  const bool subtract = std::signbit(a) != std::signbit(b);
  const int distance = ea - eb;
  Exact exact{std::signbit(a)};
  if (rounding == Rounding::TowardZero) {
    // In units of the register's last bit, 2^(e_a - m - 1): the smaller operand floored to it.
    const unsigned __int128 larger = static_cast<unsigned __int128>(ma) << 1;
    const unsigned __int128 smaller = distance - 1 >= 64 ? 0 : (distance == 0 ? mb << 1 : mb >> (distance - 1));
    exact.significand = subtract ? larger - smaller : larger + smaller;
    exact.lsb_exponent = ea - format.mantissa_bits - 1;
  } else if (distance > 100) {  // far below half an ulp: the larger, exactly
    exact.significand = ma;
    exact.lsb_exponent = ea - format.mantissa_bits;
  } else {
    const unsigned __int128 larger = static_cast<unsigned __int128>(ma) << distance;
    exact.significand = subtract ? larger - mb : larger + mb;
    exact.lsb_exponent = eb - format.mantissa_bits;
  }
  return rounded(exact, format, rounding);
}

// ---- tests ----

TEST(SotMramArithmetic, FunctionalModelEqualsAnExactWideIntegerReference) {
  for (const auto& format : kFormats) {
    for (const Rounding rounding : {Rounding::TowardZero, Rounding::NearestEven}) {
      ValueSource source(format, 7);
      for (int i = 0; i < 20000; ++i) {
        const float a = source.any(), b = i % 2 ? source.near(a) : source.any();
        SCOPED_TRACE(format_name(format) + " " + to_string(rounding) + ": " + std::to_string(a) + ", " + std::to_string(b));
        ASSERT_TRUE(same_value(reference_multiply(a, b, format, rounding), multiply(a, b, format, rounding)));
        ASSERT_TRUE(same_value(reference_add(a, b, format, rounding), add(a, b, format, rounding)));
      }
    }
  }
}

TEST(SotMramArithmetic, NearestEvenAddIsCorrectlyRoundedAndTruncationNeverRoundsUpAMagnitude) {
  const NumberFormat bf16{8, 7};
  ValueSource source(bf16, 3);
  for (int i = 0; i < 20000; ++i) {
    const float a = source.any(), b = source.near(a);
    const double exact = static_cast<double>(a) + static_cast<double>(b);  // exact: a few binades apart
    const float nearest = add(a, b, bf16, Rounding::NearestEven);
    EXPECT_TRUE(same_value(to_format(static_cast<float>(exact), bf16), nearest)) << a << " + " << b;
    const float truncated = add(a, b, bf16, Rounding::TowardZero);
    if (std::fabs(exact) < smallest_normal(bf16) * 2 || std::fabs(exact) > largest_finite(bf16) / 2) continue;
    const double ulp = std::ldexp(1.0, std::ilogb(exact) - 7);
    EXPECT_LE(std::fabs(truncated), std::fabs(exact) + ulp) << a << " + " << b;  // the lost bits may raise it
    EXPECT_GE(std::fabs(truncated), std::fabs(exact) - ulp) << a << " + " << b;
  }
}

TEST(SotMramArithmetic, ProgramsEqualTheFunctionalModelBitForBit) {
  for (const auto& format : kFormats) {
    for (const Rounding rounding : {Rounding::TowardZero, Rounding::NearestEven}) {
      for (const ExponentDifference method : {ExponentDifference::Search, ExponentDifference::Subtract}) {
        const EngineOptions options{format, rounding, method};
        ValueSource source(format, 11);
        for (int i = 0; i < 3000; ++i) {
          const float a = source.any(), b = i % 2 ? source.near(a) : source.any();
          SCOPED_TRACE(format_name(format) + " " + to_string(rounding) + " " + to_string(method) + ": " +
                       std::to_string(a) + ", " + std::to_string(b));
          ASSERT_TRUE(same_value(multiply(a, b, format, rounding), run_multiply(a, b, options).value));
          ASSERT_TRUE(same_value(add(a, b, format, rounding), run_add(a, b, options).value));
          ASSERT_TRUE(same_value(add(a, -a, format, rounding), run_add(a, -a, options).value));
        }
      }
    }
  }
}

TEST(SotMramArithmetic, SpecialValuesFollowIeeeInBothModels) {
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  for (const auto& format : kFormats) {
    const float largest = static_cast<float>(largest_finite(format)), smallest = static_cast<float>(smallest_normal(format));
    const std::vector<float> values = {0.0f, -0.0f, inf, -inf, nan, 1.0f, -1.5f, largest, -largest, smallest, -smallest};
    for (const Rounding rounding : {Rounding::TowardZero, Rounding::NearestEven}) {
      const EngineOptions options{format, rounding, ExponentDifference::Search};
      for (const float a : values) {
        for (const float b : values) {
          SCOPED_TRACE(format_name(format) + " " + to_string(rounding) + ": " + std::to_string(a) + ", " + std::to_string(b));
          const float product = multiply(a, b, format, rounding), sum = add(a, b, format, rounding);
          EXPECT_TRUE(same_value(product, run_multiply(a, b, options).value));
          EXPECT_TRUE(same_value(sum, run_add(a, b, options).value));
          // IEEE where it is defined without rounding:
          if (std::isnan(a) || std::isnan(b)) {
            EXPECT_TRUE(std::isnan(product) && std::isnan(sum));
          }
          if ((std::isinf(a) && b == 0.0f) || (a == 0.0f && std::isinf(b))) {
            EXPECT_TRUE(std::isnan(product));
          }
          if (std::isinf(a) && std::isinf(b) && a != b) {
            EXPECT_TRUE(std::isnan(sum));
          }
          if (b == 0.0f && a != 0.0f) {
            EXPECT_TRUE(same_value(a, sum));
          }
        }
      }
      // Overflow to infinity, underflow to a signed zero, an exact zero sum is +0.
      EXPECT_EQ(inf, multiply(largest, 2.0f, format, rounding));
      EXPECT_TRUE(same_value(-0.0f, multiply(-smallest, 0.5f, format, rounding)));
      EXPECT_TRUE(same_value(0.0f, add(-1.5f, 1.5f, format, rounding)));
    }
    EXPECT_TRUE(same_value(0.0f, to_format(smallest * 0.5f, format))) << "subnormals flush to zero";
    EXPECT_EQ(inf, to_format(static_cast<float>(largest_finite(format) * 2.0), format));
  }
}

TEST(SotMramArithmetic, TruncationLosesTheBitsShiftedPastTheGuardBit) {
  const NumberFormat bf16{8, 7};
  // 1 - 2^-9: exactly 0.998046875, whose truncation to bf16 is 1 - 2^-8 = 0.99609375; the datapath
  // loses 2^-9 past its guard bit (2^-8 below 1's last bit 2^-7 ... the register ends at 2^-8).
  EXPECT_EQ(1.0f, add(1.0f, -std::ldexp(1.0f, -9), bf16, Rounding::TowardZero));
  EXPECT_EQ(std::ldexp(1.0f, 0) - std::ldexp(1.0f, -8), add(1.0f, -std::ldexp(1.0f, -8), bf16, Rounding::TowardZero));
  EXPECT_EQ(1.0f, add(1.0f, -std::ldexp(1.0f, -9), bf16, Rounding::NearestEven));
  EXPECT_EQ(1.0f, add(1.0f, std::ldexp(1.0f, -9), bf16, Rounding::TowardZero));
}

// A small format by hand: e3m2 (bias 3, p = 3), truncation, search.
TEST(SotMramArithmetic, PrimitiveCountsOfAMultiplyAndAnAddMatchHandCounts) {
  const EngineOptions options{{3, 2}, Rounding::TowardZero, ExponentDifference::Search};
  // 1.5 x 1.25: A = 110b, B = 101b. Tags 2 reads; sign 1 full add; exponent register cleared (5
  // writes), e_a + e_b 3 full adds, minus the bias 5; buffer cleared (4 writes); B's bits: b0 = 1
  // read, add (3 full adds); b1 = 0 read, copy & shift (3 shifts, 1 write); hidden bit add (3 full
  // adds); top bit read (0: A B = 30 = 11110b, the buffer 0111b: no shift); exponent read (5 reads).
  // 1.875 truncated to 1.75.
  const auto product = run_multiply(1.5f, 1.25f, options);
  EXPECT_EQ(1.75f, product.value);
  EXPECT_EQ(10, product.counts[Primitive::Read]);
  EXPECT_EQ(15, product.counts[Primitive::FullAdd]);
  EXPECT_EQ(10, product.counts[Primitive::Write]);
  EXPECT_EQ(3, product.counts[Primitive::Shift]);
  EXPECT_EQ(0, product.counts[Primitive::Copy] + product.counts[Primitive::Search] + product.counts[Primitive::Invert]);

  // 1.5 + 0.375 (d = 2): tags 2 reads; 1 search; register of p + 1 = 4 bits: aligned cleared (4
  // writes), larger's guard bit (1 write) and mantissa (3 copies); the smaller's two bits that stay
  // (2 shifts); exponent register: 3 copies, 2 writes; 4 full adds (1100b + 0011b = 01111b); carry
  // read (0: in place); exponent read (5 reads). 1.875 truncated to 1.75.
  const auto sum = run_add(1.5f, 0.375f, options);
  EXPECT_EQ(1.75f, sum.value);
  EXPECT_EQ(8, sum.counts[Primitive::Read]);
  EXPECT_EQ(1, sum.counts[Primitive::Search]);
  EXPECT_EQ(7, sum.counts[Primitive::Write]);
  EXPECT_EQ(6, sum.counts[Primitive::Copy]);
  EXPECT_EQ(2, sum.counts[Primitive::Shift]);
  EXPECT_EQ(4, sum.counts[Primitive::FullAdd]);
  EXPECT_EQ(0, sum.counts[Primitive::Invert]);

  // The subtracting method replaces the search by e + 1 full adds (inverting e bits) and e + 1 reads.
  auto subtracting = options;
  subtracting.exponent_difference = ExponentDifference::Subtract;
  const auto difference = run_add(1.5f, 0.375f, subtracting);
  EXPECT_EQ(sum.value, difference.value);
  EXPECT_EQ(0, difference.counts[Primitive::Search]);
  EXPECT_EQ(sum.counts[Primitive::FullAdd] + 4, difference.counts[Primitive::FullAdd]);
  EXPECT_EQ(sum.counts[Primitive::Read] + 4, difference.counts[Primitive::Read]);
  EXPECT_EQ(3, difference.counts[Primitive::Invert]);
}

TEST(SotMramArithmetic, MultiplyCountsFollowTheMultipliersOneBits) {
  // Each zero bit of B trades p full adds for p shifts and a write (papers.md §3(b)).
  const EngineOptions options{{8, 7}, Rounding::TowardZero, ExponentDifference::Search};
  const auto all_ones = run_multiply(1.5f, 1.9921875f, options);  // B = 1.1111111b
  const auto hidden_only = run_multiply(1.5f, 1.0f, options);     // B = 1.0000000b
  // 1.5 x 1.99 = 2.99 sets the top bit: its normalisation shifts the 8 mantissa bits once and
  // increments the 10-bit exponent register (10 full adds).
  EXPECT_EQ(7 * 8 + 10, all_ones.counts[Primitive::FullAdd] - hidden_only.counts[Primitive::FullAdd]);
  EXPECT_EQ(7, hidden_only.counts[Primitive::Write] - all_ones.counts[Primitive::Write]);
  EXPECT_EQ(7 * 8, hidden_only.counts[Primitive::Shift] - (all_ones.counts[Primitive::Shift] - 8));
}

TEST(SotMramArithmetic, BadFormatsAreRefusedNamingTheField) {
  EXPECT_NO_THROW(validate_format({8, 7}));
  for (const NumberFormat& bad : {NumberFormat{1, 7}, NumberFormat{9, 7}, NumberFormat{8, 0}, NumberFormat{8, 24}}) {
    try {
      validate_format(bad);
      ADD_FAILURE() << "accepted " << bad.exponent_bits << ", " << bad.mantissa_bits;
    } catch (const std::invalid_argument& error) {
      const std::string message = error.what();
      EXPECT_NE(std::string::npos, message.find(bad.exponent_bits < 2 || bad.exponent_bits > 8 ? "exponent_bits" : "mantissa_bits"))
          << message;
    }
  }
  EXPECT_THROW(preset_format("fp8"), std::invalid_argument);
  EXPECT_EQ("bf16", format_name(preset_format("bf16")));
  EXPECT_EQ("e5m2", format_name({5, 2}));
}

}  // namespace
}  // namespace bitline::core::sot_mram
