// The DDC-PIM macro: the arithmetic identities of complementary storage (papers.md §2(b)), the dual
// broadcast, and the mapping of pairs.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "core/cost/cost_model.h"
#include "core/ddc_pim/macro.h"

namespace bitline::core::ddc_pim {
namespace {

std::vector<int32_t> random_codes(std::mt19937& rng, int64_t count, int32_t low, int32_t high) {
  std::uniform_int_distribution<int32_t> code(low, high);
  std::vector<int32_t> codes(static_cast<std::size_t>(count));
  for (auto& value : codes) value = code(rng);
  return codes;
}

Spec spec_of(Encoding encoding, int64_t pairs, bool separate_inputs, int weight_bits = 8) {
  Spec spec;
  spec.operands = {weight_bits, 8, false, {encoding, pairs, separate_inputs}};
  spec.rows_per_activation = 16;  // several row tiles on the shapes below
  return spec;
}

// Filters as pairs (a, ~a) side by side: rows 2i random, rows 2i + 1 their complements.
std::vector<int32_t> paired_weights(std::mt19937& rng, int64_t pairs, int64_t depth, Encoding encoding, int n) {
  std::vector<int32_t> w(static_cast<std::size_t>(2 * pairs * depth));
  for (int64_t p = 0; p < pairs; ++p) {
    for (int64_t k = 0; k < depth; ++k) {
      int32_t code = 0;
      if (encoding == Encoding::TwosComplement) {
        code = std::uniform_int_distribution<int32_t>(-(1 << (n - 1)), (1 << (n - 1)) - 1)(rng);
      } else {
        code = 2 * std::uniform_int_distribution<int32_t>(0, (1 << n) - 1)(rng) - ((1 << n) - 1);  // odd
      }
      w[static_cast<std::size_t>(2 * p * depth + k)] = code;
      w[static_cast<std::size_t>((2 * p + 1) * depth + k)] = complement_code(code, encoding);
    }
  }
  return w;
}

TEST(DdcPimMacro, PointwiseQSidePlusQbarSidePlusInputSumIsZero) {
  // papers.md §2(b): with x' = x, y_b = Σ x (-w_a - 1) = -y_a - Σx, bit-exactly.
  std::mt19937 rng(7);
  const ProductShape shape{6, 8, 40, 1};
  const DdcPimMacro macro(spec_of(Encoding::TwosComplement, 4, false));
  const auto x = random_codes(rng, shape.rows * shape.depth(), 0, 255);
  const auto w = paired_weights(rng, 4, shape.depth(), Encoding::TwosComplement, 8);
  std::vector<float> y(static_cast<std::size_t>(shape.rows * shape.cols));
  macro.forward(shape, x.data(), w.data(), {}, y.data(), nullptr);
  for (int64_t r = 0; r < shape.rows; ++r) {
    int64_t input_sum = 0;
    for (int64_t k = 0; k < shape.depth(); ++k) input_sum += x[static_cast<std::size_t>(r * shape.depth() + k)];
    for (int64_t p = 0; p < 4; ++p) {
      const auto q = static_cast<int64_t>(y[static_cast<std::size_t>(r * shape.cols + 2 * p)]);
      const auto qbar = static_cast<int64_t>(y[static_cast<std::size_t>(r * shape.cols + 2 * p + 1)]);
      EXPECT_EQ(q + qbar + input_sum, 0) << "row " << r << " pair " << p;
    }
  }
}

TEST(DdcPimMacro, EqualsTheIntegerProductForBothEncodingsAndSignedInputs) {
  std::mt19937 rng(3);
  for (const auto encoding : {Encoding::TwosComplement, Encoding::OffsetBinary}) {
    const int stored = 5;
    const int weight_bits = encoding == Encoding::OffsetBinary ? stored + 1 : stored;
    Spec spec = spec_of(encoding, 2, false, weight_bits);
    spec.operands.signed_inputs = true;
    spec.operands.input_bits = 6;
    spec.input_bits_per_cycle = 2;
    const DdcPimMacro macro(spec);
    const ProductShape shape{5, 5, 4, 9};  // two pairs and one filter alone
    const auto x = random_codes(rng, shape.rows * shape.depth(), -31, 31);
    auto w = paired_weights(rng, 2, shape.depth(), encoding, stored);
    const auto single = paired_weights(rng, 1, shape.depth(), encoding, stored);
    w.insert(w.end(), single.begin(), single.begin() + shape.depth());
    std::vector<float> y(static_cast<std::size_t>(shape.rows * shape.cols));
    macro.forward(shape, x.data(), w.data(), {}, y.data(), nullptr);
    for (int64_t r = 0; r < shape.rows; ++r) {
      for (int64_t o = 0; o < shape.cols; ++o) {
        int64_t reference = 0;
        for (int64_t k = 0; k < shape.depth(); ++k) {
          reference += int64_t{x[static_cast<std::size_t>(r * shape.depth() + k)]} * w[static_cast<std::size_t>(o * shape.depth() + k)];
        }
        EXPECT_EQ(static_cast<int64_t>(y[static_cast<std::size_t>(r * shape.cols + o)]), reference)
            << to_string(encoding) << " row " << r << " column " << o;
      }
    }
    if (encoding == Encoding::OffsetBinary) {
      // Offset binary pairs are exact negatives: y_b = -y_a.
      for (int64_t r = 0; r < shape.rows; ++r) EXPECT_EQ(y[static_cast<std::size_t>(r * shape.cols)], -y[static_cast<std::size_t>(r * shape.cols + 1)]);
    }
  }
}

TEST(DdcPimMacro, DepthwiseDualBroadcastEqualsTwoSeparateDepthwiseProducts) {
  std::mt19937 rng(11);
  const ProductShape channel{12, 1, 1, 9};  // one depthwise channel: 12 output pixels, a 3x3 kernel
  const DdcPimMacro macro(spec_of(Encoding::TwosComplement, 1, true));
  const auto x_a = random_codes(rng, 12 * 9, 0, 255), x_b = random_codes(rng, 12 * 9, 0, 255);
  const auto w = paired_weights(rng, 1, 9, Encoding::TwosComplement, 8);  // channel a, then its complement
  std::vector<float> dual_a(12), dual_b(12);
  macro.dual_broadcast(channel, x_a.data(), x_b.data(), w.data(), dual_a.data(), dual_b.data());
  // The same as two depthwise products on an unpaired macro, each with its own filter.
  Spec single = spec_of(Encoding::TwosComplement, 0, false);
  const DdcPimMacro alone(single);
  std::vector<float> y_a(12), y_b(12);
  alone.forward(channel, x_a.data(), w.data(), {}, y_a.data(), nullptr);
  alone.forward(channel, x_b.data(), w.data() + 9, {}, y_b.data(), nullptr);
  EXPECT_EQ(dual_a, y_a);
  EXPECT_EQ(dual_b, y_b);
  // And as one product of two columns with separate inputs, x [rows, 2, K].
  std::vector<int32_t> x_both;
  for (int64_t r = 0; r < 12; ++r) {
    x_both.insert(x_both.end(), x_a.begin() + r * 9, x_a.begin() + (r + 1) * 9);
    x_both.insert(x_both.end(), x_b.begin() + r * 9, x_b.begin() + (r + 1) * 9);
  }
  std::vector<float> both(24);
  macro.forward({12, 2, 1, 9}, x_both.data(), w.data(), {}, both.data(), nullptr);
  for (int64_t r = 0; r < 12; ++r) {
    EXPECT_EQ(both[static_cast<std::size_t>(2 * r)], y_a[static_cast<std::size_t>(r)]);
    EXPECT_EQ(both[static_cast<std::size_t>(2 * r + 1)], y_b[static_cast<std::size_t>(r)]);
  }
}

TEST(DdcPimMacro, RefusesAPairThatIsNotComplementary) {
  std::mt19937 rng(5);
  const DdcPimMacro macro(spec_of(Encoding::TwosComplement, 1, false));
  auto w = paired_weights(rng, 1, 10, Encoding::TwosComplement, 8);
  w[13] += 1;  // filter b, weight 3: no longer ~a
  const auto x = random_codes(rng, 10, 0, 255);
  std::vector<float> y(2);
  EXPECT_THROW(macro.forward({1, 2, 10, 1}, x.data(), w.data(), {}, y.data(), nullptr), std::invalid_argument);
  EXPECT_THROW(stored_code(4, Encoding::OffsetBinary, 3), std::invalid_argument);  // an even code is off the grid
}

TEST(DdcPimMacro, CountsPairedColumnsTwiceAndDualBroadcastRowDrivesTwice) {
  const ProductShape shape{10, 8, 32, 1};
  const Events paired = DdcPimMacro(spec_of(Encoding::TwosComplement, 4, false)).count(shape);
  const Events single = DdcPimMacro(spec_of(Encoding::TwosComplement, 0, false)).count(shape);
  // Same outputs, same work per output: only where the bits sit differs.
  EXPECT_EQ(paired.total(EventKind::Mac), single.total(EventKind::Mac));
  EXPECT_EQ(paired.total(EventKind::CellRead), single.total(EventKind::CellRead));
  const Events dual = DdcPimMacro(spec_of(Encoding::TwosComplement, 1, true)).count({10, 2, 1, 9});
  const Events one = DdcPimMacro(spec_of(Encoding::TwosComplement, 0, false)).count({10, 1, 1, 9});
  EXPECT_EQ(dual.total(EventKind::RowDrive), 2 * one.total(EventKind::RowDrive));
  EXPECT_EQ(dual.total(EventKind::ArrayActivation), one.total(EventKind::ArrayActivation));
}

TEST(DdcPimMacro, PairedLayersTakeHalfTheColumnTilesAndDepthwisePairsPackTwiceAsDense) {
  cost::Hardware hardware;
  hardware.array_rows = 256;
  hardware.array_columns = 256;
  // A pointwise layer of 128 filters: 16 column tiles of 32 8-bit outputs unpaired, 8 paired.
  const auto paired = std::make_shared<DdcPimMacro>(spec_of(Encoding::TwosComplement, 64, false));
  const auto unpaired = std::make_shared<DdcPimMacro>(spec_of(Encoding::TwosComplement, 0, false));
  const ProductShape pointwise{64, 128, 64, 1};
  EXPECT_EQ(cost::macros_needed(hardware, {"pw", unpaired, pointwise, 1, false}), 4);
  EXPECT_EQ(cost::macros_needed(hardware, {"pw", paired, pointwise, 1, false}), 2);
  // 96 depthwise channels of 3x3: 28 blocks of 9 rows per array; unpaired 96 products, paired 48.
  const auto dual = std::make_shared<DdcPimMacro>(spec_of(Encoding::TwosComplement, 1, true));
  EXPECT_EQ(cost::macros_needed(hardware, {"dw", unpaired, {64, 1, 1, 9}, 96, false}), 4);  // ceil(96 / 28)
  EXPECT_EQ(cost::macros_needed(hardware, {"dw", dual, {64, 2, 1, 9}, 48, false}), 2);      // ceil(48 / 28)
}

}  // namespace
}  // namespace bitline::core::ddc_pim
