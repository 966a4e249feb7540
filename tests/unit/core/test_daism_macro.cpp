// The DAISM macro: its SIMD kernel against the scalar reference, its training products against
// exact references, and its events.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "core/daism/macro.h"

namespace bitline::core::daism {
namespace {

Spec spec_of(const std::string& format, const std::string& variant, int kept_columns = 0,
             Rounding rounding = Rounding::TowardZero) {
  Spec spec;
  spec.format = parse_operand_format(format);
  spec.multiplier.operand_bits = spec.format.operand_bits();
  spec.multiplier = parse_short_name(variant, spec.multiplier);
  spec.multiplier.kept_columns = kept_columns;
  spec.multiplier.rounding = rounding;
  return spec;
}

// Values over many binades, with zeros, negatives, and (when `extremes`) magnitudes whose products
// overflow or underflow the format.
std::vector<float> random_values(std::size_t count, uint32_t seed, bool extremes) {
  std::mt19937 generator(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_int_distribution<int> binade(extremes ? -70 : -6, extremes ? 70 : 6);
  std::uniform_int_distribution<int> pick(0, 9);
  std::vector<float> values(count);
  for (auto& value : values) value = pick(generator) == 0 ? 0.0f : std::ldexp(normal(generator), binade(generator));
  return values;
}

void expect_same_bits(const std::vector<float>& expected, const std::vector<float>& found, const std::string& what) {
  ASSERT_EQ(expected.size(), found.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    uint32_t a = 0, b = 0;
    std::memcpy(&a, &expected[i], 4);
    std::memcpy(&b, &found[i], 4);
    if (std::isnan(expected[i]) && std::isnan(found[i])) continue;
    ASSERT_EQ(a, b) << what << " at " << i << ": " << expected[i] << " vs " << found[i];
  }
}

// The CPU features of the bf16 lookup-table path, read here independently of the kernel's own check.
bool cpu_runs_the_lookup_table() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vbmi");
}

TEST(DaismKernel, TheLookupTablePathRunsWhereTheCpuHasIt) {
  if (!cpu_runs_the_lookup_table()) {
    GTEST_SKIP() << "this CPU lacks AVX-512 BW/VBMI: the bf16 lookup-table path cannot run here; the computed "
                    "lanes, which run instead, are compared with the scalar reference";
  }
  EXPECT_TRUE(lookup_table_path_available());
}

TEST(DaismKernel, EqualsTheScalarReferenceBitForBit) {
  RecordProperty("fastest_path", lookup_table_path_available() ? "lookup table (bf16), computed lanes (fp16)"
                                                                : "computed lanes (no AVX-512 BW/VBMI)");
  const int64_t m = 7, n = 37, d = 300;  // n not a multiple of any vector width
  for (const char* format : {"bf16", "fp16"}) {
    for (const char* variant : {"exact", "or", "pc2", "pc3", "top3"}) {
      for (int kept : {0, 9, 6}) {
        for (auto rounding : {Rounding::TowardZero, Rounding::NearestEven}) {
          for (bool extremes : {false, true}) {
            const Spec spec = spec_of(format, variant, kept, rounding);
            const Datapath datapath(spec.format, spec.multiplier);
            const Accumulator accumulator{spec.accumulation};
            const auto driving = random_values(m * d, 1, extremes), stored = random_values(n * d, 2, extremes);
            std::vector<float> expected(m * n), found(m * n);
            approximate_gemm_reference(datapath, accumulator, m, n, d, driving.data(), stored.data(), expected.data());
            approximate_gemm(datapath, accumulator, m, n, d, driving.data(), stored.data(), found.data());
            const std::string what = std::string(format) + " " + variant + " kept " + std::to_string(kept) +
                                     (extremes ? " extremes" : "");
            expect_same_bits(expected, found, what);
            // The computed lanes too, where the fastest path looks the products up (bf16 on AVX-512).
            std::vector<float> computed(m * n);
            if (approximate_gemm_lanes(datapath, accumulator, m, n, d, driving.data(), stored.data(), computed.data(),
                                       StoredLayout::ByElement, LanePath::Computed)) {
              expect_same_bits(expected, computed, what + " (computed lanes)");
            }
            // The same stored operand laid out [d, n].
            std::vector<float> by_depth(stored.size()), found_by_depth(m * n);
            for (int64_t j = 0; j < n; ++j) {
              for (int64_t l = 0; l < d; ++l) by_depth[l * n + j] = stored[j * d + l];
            }
            approximate_gemm(datapath, accumulator, m, n, d, driving.data(), by_depth.data(), found_by_depth.data(),
                             StoredLayout::ByDepth);
            expect_same_bits(expected, found_by_depth, std::string(format) + " " + variant + " by depth");
          }
        }
      }
    }
  }
}

TEST(DaismKernel, SpecialValuesAndNarrowAccumulatorsTakeTheReferencePath) {
  const Spec spec = spec_of("bf16", "pc2");
  const Datapath datapath(spec.format, spec.multiplier);
  auto driving = random_values(4 * 16, 3, false), stored = random_values(5 * 16, 4, false);
  driving[3] = std::numeric_limits<float>::infinity();
  stored[17] = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> expected(20), found(20);
  approximate_gemm_reference(datapath, Accumulator{}, 4, 5, 16, driving.data(), stored.data(), expected.data());
  approximate_gemm(datapath, Accumulator{}, 4, 5, 16, driving.data(), stored.data(), found.data());
  expect_same_bits(expected, found, "inf and nan");
  EXPECT_TRUE(std::isnan(found[1]));  // row 0 meets the NaN of stored row 1
  // bf16 accumulation rounds every partial sum to bf16.
  const auto a = random_values(3 * 64, 5, false), b = random_values(2 * 64, 6, false);
  std::vector<float> out(6);
  approximate_gemm(datapath, Accumulator{{8, 7}}, 3, 2, 64, a.data(), b.data(), out.data());
  for (float value : out) EXPECT_EQ(value, round_to_format(value, {8, 7}));
}

// fp32 operands, exact products rounded to nearest even, fp32 accumulation: the macro is then an
// fp32 GEMM summed in K order, so each product equals a plain loop of float multiply-adds.
TEST(DaismMacro, Fp32ExactProductsEqualPlainFloatGemmsForAllThreeProducts) {
  Spec spec = spec_of("fp32", "exact", 0, Rounding::NearestEven);
  const DaismMacro macro(spec, spec.format.operand_bits());
  const ProductShape shape{6, 5, 3, 4};  // rows, cols, channels, kernel area: K = 12
  const int64_t depth = shape.depth();
  const auto x = random_values(shape.rows * depth, 7, false), w = random_values(shape.cols * depth, 8, false);
  const auto dy = random_values(shape.rows * shape.cols, 9, false);
  auto multiply = [](float a, float b) { return static_cast<float>(static_cast<double>(a) * b); };  // exact, then rounded
  std::vector<float> y(shape.rows * shape.cols), dx(shape.rows * depth), dw(shape.cols * depth);
  macro.forward(shape, x.data(), w.data(), NoiseKey{}, y.data(), nullptr);
  macro.input_gradient(shape, dy.data(), w.data(), NoiseKey{}, dx.data(), nullptr);
  macro.weight_gradient(shape, dy.data(), x.data(), NoiseKey{}, dw.data(), nullptr);
  std::vector<float> y_ref(y.size()), dx_ref(dx.size()), dw_ref(dw.size());
  for (int64_t r = 0; r < shape.rows; ++r) {
    for (int64_t c = 0; c < shape.cols; ++c) {
      float sum = 0;
      for (int64_t k = 0; k < depth; ++k) sum += multiply(w[c * depth + k], x[r * depth + k]);
      y_ref[r * shape.cols + c] = sum;
    }
    for (int64_t k = 0; k < depth; ++k) {
      float sum = 0;
      for (int64_t c = 0; c < shape.cols; ++c) sum += multiply(w[c * depth + k], dy[r * shape.cols + c]);
      dx_ref[r * depth + k] = sum;
    }
  }
  for (int64_t c = 0; c < shape.cols; ++c) {
    for (int64_t k = 0; k < depth; ++k) {
      float sum = 0;
      for (int64_t r = 0; r < shape.rows; ++r) sum += multiply(x[r * depth + k], dy[r * shape.cols + c]);
      dw_ref[c * depth + k] = sum;
    }
  }
  expect_same_bits(y_ref, y, "forward");
  expect_same_bits(dx_ref, dx, "input gradient");
  expect_same_bits(dw_ref, dw, "weight gradient");
}

TEST(DaismMacro, ApproximateProductsUnderestimateMagnitudes) {
  // Positive operands: every OR product is at most the exact one, so each sum is too.
  const Spec spec = spec_of("bf16", "or");
  const DaismMacro macro(spec, 8);
  const ProductShape shape{4, 3, 50, 1};
  std::vector<float> x(4 * 50), w(3 * 50);
  std::mt19937 generator(1);
  std::uniform_real_distribution<float> uniform(0.5f, 2.0f);
  for (auto& v : x) v = round_to_format(uniform(generator), {8, 7});
  for (auto& v : w) v = round_to_format(uniform(generator), {8, 7});
  std::vector<float> y(12), exact(12);
  macro.forward(shape, x.data(), w.data(), NoiseKey{}, y.data(), nullptr);
  for (int r = 0; r < 4; ++r) {
    for (int c = 0; c < 3; ++c) {
      double sum = 0;
      for (int k = 0; k < 50; ++k) sum += static_cast<double>(x[r * 50 + k]) * w[c * 50 + k];
      EXPECT_LT(y[r * 3 + c], sum);
      EXPECT_GT(y[r * 3 + c], 0.5 * sum);  // the OR product loses less than half (papers.md §1(b))
    }
  }
}

TEST(DaismMacro, IntegerCodesInSignMagnitude) {
  Spec spec = spec_of("int8", "or");
  const DaismSpec macro_spec(spec);
  EXPECT_EQ(macro_spec.operand_kind(), OperandKind::IntegerCodes);
  const auto macro = macro_spec.for_operands({8, 8, false, {}});
  const ProductShape shape{1, 2, 2, 1};
  const int32_t x[] = {3, 5};
  const int32_t w[] = {-3, 1, 6, 3};  // output 0: -(3|6) + 5 = -2; output 1: 6*3 with OR: (6|12) + (3|6 rows of 5 = 3|12)
  float y[2];
  macro->forward(shape, x, w, NoiseKey{}, y, nullptr);
  const Datapath& datapath = dynamic_cast<const DaismMacro&>(*macro).datapath();
  EXPECT_EQ(y[0], static_cast<float>(datapath.multiply_integers(-3, 3) + datapath.multiply_integers(1, 5)));
  EXPECT_EQ(y[0], -(3 | 6) + 5);
  EXPECT_EQ(y[1], static_cast<float>(datapath.multiply_integers(6, 3) + datapath.multiply_integers(3, 5)));
  EXPECT_FALSE(macro->lossless());
  EXPECT_TRUE(DaismSpec(spec_of("int8", "exact")).for_operands({8, 8, false, {}})->lossless());
  EXPECT_EQ(macro->training_products().input_gradient, false);
  EXPECT_THROW(macro_spec.for_format({8, 7}), std::invalid_argument);
  EXPECT_THROW(DaismSpec(spec_of("bf16", "pc2")).for_operands({8, 8, false, {}}), std::invalid_argument);
}

TEST(DaismMacro, CountEqualsTheEventsEveryProductRecords) {
  const Spec spec = spec_of("bf16", "pc2", 9);
  const DaismMacro macro(spec, 8);
  const ProductShape shape{3, 4, 2, 9};
  const int64_t depth = shape.depth();
  const auto x = random_values(shape.rows * depth, 1, false), w = random_values(shape.cols * depth, 2, false);
  std::vector<float> y(shape.rows * shape.cols);
  Events recorded;
  macro.forward(shape, x.data(), w.data(), NoiseKey{}, y.data(), &recorded);
  EXPECT_EQ(recorded, macro.count(shape));
  // Per forward product (papers.md §1(b)): one read per input element, its 4 digit groups' drivers,
  // the raised rows' cells of the 9 kept columns of each of the 4 stored weights.
  EXPECT_EQ(recorded.total(EventKind::Mac), 3 * 4 * 18);
  EXPECT_EQ(recorded.total(EventKind::ArrayActivation), 3 * 18);
  EXPECT_EQ(recorded.total(EventKind::RowDrive), 3 * 18 * 4);
  EXPECT_EQ(recorded.total(EventKind::CellRead), 3 * 18 * 4 * 4 * 9);
  EXPECT_EQ(recorded.total(EventKind::Sense), 3 * 4 * 18 * (9 + 9));  // kept columns + sign and exponent
  EXPECT_EQ(recorded.count({EventKind::FloatAddition, 0, {8, 23}}), 3 * 4 * 18);
  EXPECT_EQ(recorded.count({EventKind::Normalization, 8}), 3 * 4 * 18);
  Events gradient;
  std::vector<float> dx(shape.rows * depth);
  const auto dy = random_values(shape.rows * shape.cols, 3, false);
  macro.input_gradient(shape, dy.data(), w.data(), NoiseKey{}, dx.data(), &gradient);
  EXPECT_EQ(gradient.total(EventKind::Mac), 3 * 4 * 18);
  EXPECT_EQ(gradient.total(EventKind::ArrayActivation), 3 * 4);  // one read per dy element
}

TEST(DaismMacro, FootprintRowsAndColumnsFollowTheVariant) {
  const DaismMacro pc2(spec_of("bf16", "pc2"), 8), truncated(spec_of("bf16", "pc3", 9), 8);
  const auto footprint = pc2.footprint({1, 4, 3, 1});
  EXPECT_EQ(footprint.row_tiles.size(), 3u);
  EXPECT_EQ(footprint.rows_per_tile, 11);          // PC2 rows of a normalised mantissa
  EXPECT_EQ(footprint.columns_per_output, 16 + 9);  // 16 product columns, sign and exponent
  EXPECT_EQ(footprint.input_bits, 16);
  EXPECT_EQ(truncated.footprint({1, 4, 3, 1}).columns_per_output, 9 + 9);
}

TEST(DaismMacro, BadSettingsNameTheField) {
  Spec spec = spec_of("bf16", "pc2");
  spec.accumulation = {5, 5};
  EXPECT_THROW(validate(spec), std::invalid_argument);
  spec = spec_of("bf16", "pc2");
  spec.multiplier.kept_columns = 40;
  try {
    validate(spec);
    FAIL() << "accepted kept_columns 40";
  } catch (const std::invalid_argument& error) {
    EXPECT_NE(std::string(error.what()).find("kept_columns"), std::string::npos);
  }
}

}  // namespace
}  // namespace bitline::core::daism
