#include "core/quantizer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <stdexcept>
#include <vector>

namespace bitline::core {
namespace {

TEST(QuantGrid, CodeRangesFollowBitWidthAndSign) {
  EXPECT_EQ((QuantGrid{8, false}.max_code()), 255);
  EXPECT_EQ((QuantGrid{8, false}.min_code()), 0);
  EXPECT_EQ((QuantGrid{8, true}.max_code()), 127);
  EXPECT_EQ((QuantGrid{8, true}.min_code()), -127);  // symmetric: -128 is never used
  EXPECT_EQ((QuantGrid{2, true}.max_code()), 1);
}

TEST(QuantGrid, RejectsImpossibleBitWidths) {
  EXPECT_THROW(validate_grid(QuantGrid{0, false}), std::invalid_argument);
  EXPECT_THROW(validate_grid(QuantGrid{1, true}), std::invalid_argument);
  EXPECT_THROW(validate_grid(QuantGrid{32, false}), std::invalid_argument);
  EXPECT_NO_THROW(validate_grid(QuantGrid{1, false}));
}

TEST(Quantize, ClampsToTheGrid) {
  const QuantGrid u8{8, false}, s8{8, true};
  EXPECT_EQ(quantize_value(-3.0f, 1.0f, u8), 0);
  EXPECT_EQ(quantize_value(7.0f, 1.0f, u8), 255);
  EXPECT_EQ(quantize_value(-7.0f, 1.0f, s8), -127);
  EXPECT_EQ(quantize_value(7.0f, 1.0f, s8), 127);
}

TEST(Quantize, RoundsHalfToEvenLikeTorchRound) {
  // 4-bit unsigned over range 15: x / 15 * 15 = x, so ties sit at x.5.
  const QuantGrid u4{4, false};
  EXPECT_EQ(quantize_value(2.5f, 15.0f, u4), 2);
  EXPECT_EQ(quantize_value(3.5f, 15.0f, u4), 4);
  EXPECT_EQ(quantize_value(-2.5f, 7.0f, QuantGrid{4, true}), -2);
}

TEST(Quantize, RoundTripErrorIsAtMostHalfAStep) {
  std::mt19937 rng(7);
  for (int bits : {2, 4, 8}) {
    for (bool is_signed : {false, true}) {
      const QuantGrid grid{bits, is_signed};
      const float range = 2.5f;
      const float step = range / static_cast<float>(grid.max_code());
      std::uniform_real_distribution<float> dist(is_signed ? -range : 0.0f, range);
      for (int i = 0; i < 1000; ++i) {
        const float x = dist(rng);
        const int64_t code = quantize_value(x, range, grid);
        ASSERT_GE(code, grid.min_code());
        ASSERT_LE(code, grid.max_code());
        EXPECT_LE(std::fabs(dequantize_value(code, range, grid) - x), 0.5f * step * 1.0001f)
            << "bits " << bits << " signed " << is_signed << " x " << x;
      }
    }
  }
}

TEST(Quantize, GridPointsAreFixedPoints) {
  const QuantGrid s6{6, true};
  for (int64_t code = s6.min_code(); code <= s6.max_code(); ++code) {
    EXPECT_EQ(quantize_value(dequantize_value(code, 0.75f, s6), 0.75f, s6), code);
  }
}

TEST(AsimDynamicRange, IsTheBatchMaximumPlusEpsilon) {
  const std::vector<float> x = {0.5f, -2.0f, 1.5f};
  EXPECT_FLOAT_EQ(asim_dynamic_range(x.data(), x.size(), /*is_signed=*/false), 1.5f + 1e-7f);
  EXPECT_FLOAT_EQ(asim_dynamic_range(x.data(), x.size(), /*is_signed=*/true), 2.0f + 1e-7f);
  const std::vector<float> zeros(4, 0.0f);
  EXPECT_GT(asim_dynamic_range(zeros.data(), zeros.size(), false), 0.0f);
}

TEST(Quantize, SpanVersionMatchesScalarVersion) {
  const std::vector<float> x = {-1.0f, 0.1f, 0.49f, 0.5f, 2.0f};
  std::vector<int64_t> codes(x.size());
  const QuantGrid s4{4, true};
  quantize(x.data(), x.size(), 1.0f, s4, codes.data());
  for (std::size_t i = 0; i < x.size(); ++i) EXPECT_EQ(codes[i], quantize_value(x[i], 1.0f, s4));
}

}  // namespace
}  // namespace bitline::core
