// The all-digital SRAM macro (docs/macros/digital_sram.md): its bit-serial datapath, emulated here
// cycle by cycle, equals the exact product that forward computes; its adder-tree events against
// hand counts.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "core/digital_sram/digital_sram.h"

namespace bitline::core::digital_sram {
namespace {

// The datapath as docs/macros/digital_sram.md describes it: per tile, weight bit and input chunk,
// each column's adder tree sums the rows' (chunk AND weight bit) products; the sums are shifted by
// their significance, negated for the weight's MSB and the sign chunk (two's complement), and added.
int64_t datapath(const Spec& spec, const std::vector<Tile>& tiles, const int32_t* x, const int32_t* w) {
  const auto chunks = input_chunks(spec.operands(), spec.input_bits_per_cycle);
  int64_t y = 0;
  for (const auto& tile : tiles) {
    for (int i = 0; i < spec.weight_bits; ++i) {
      for (const auto& chunk : chunks) {
        int64_t column_sum = 0;  // the adder tree's result
        for (int64_t k = tile.begin; k < tile.end; ++k) {
          const uint32_t weight_bit = (static_cast<uint32_t>(w[k]) >> i) & 1u;
          const uint32_t input_chunk = (static_cast<uint32_t>(x[k]) >> chunk.first_bit) & ((1u << chunk.bits) - 1);
          column_sum += weight_bit * input_chunk;
        }
        const bool negative = (i == spec.weight_bits - 1) != chunk.sign;
        y += (negative ? -1 : 1) * (column_sum << (i + chunk.first_bit));
      }
    }
  }
  return y;
}

TEST(DigitalSram, TheBitSerialDatapathEqualsTheExactProduct) {
  std::mt19937 rng(21);
  for (const int e : {1, 2, 3}) {
    for (const bool is_signed : {false, true}) {
      Spec spec;
      spec.weight_bits = 5;
      spec.input_bits = 7;
      spec.signed_inputs = is_signed;
      spec.input_bits_per_cycle = e;
      spec.rows_per_activation = 37;
      const DigitalSramMacro macro(spec);
      const ProductShape shape{6, 4, 20, 9};
      std::uniform_int_distribution<int32_t> input(is_signed ? -63 : 0, is_signed ? 63 : 127), weight(-15, 15);
      std::vector<int32_t> x(static_cast<std::size_t>(shape.rows * shape.depth())), w(static_cast<std::size_t>(shape.cols * shape.depth()));
      for (auto& v : x) v = input(rng);
      for (auto& v : w) v = weight(rng);
      std::vector<float> out(static_cast<std::size_t>(shape.rows * shape.cols));
      macro.forward(shape, x.data(), w.data(), {}, out.data(), nullptr);
      const auto tiles = macro.footprint(shape).row_tiles;
      ASSERT_EQ(tiles.size(), 5u);  // 180 rows in tiles of 37
      for (int64_t r = 0; r < shape.rows; ++r) {
        for (int64_t o = 0; o < shape.cols; ++o) {
          const int64_t expected = datapath(spec, tiles, x.data() + r * shape.depth(), w.data() + o * shape.depth());
          ASSERT_EQ(out[static_cast<std::size_t>(r * shape.cols + o)], static_cast<float>(expected))
              << "e " << e << (is_signed ? " signed" : "") << " output " << r << "," << o;
        }
      }
    }
  }
}

TEST(DigitalSram, AdderTreesOfHandCountedSizes) {
  // 5 values of 1 bit: 2 additions of 1-bit operands, then 3 values: 1 of 2 bits, then 2: 1 of 3 bits.
  EXPECT_EQ(adder_tree_additions(5, 1), (std::vector<std::pair<int, int64_t>>{{1, 2}, {2, 1}, {3, 1}}));
  // 8 values of 2 bits: 4 + 2 + 1 additions of 2-, 3- and 4-bit operands.
  EXPECT_EQ(adder_tree_additions(8, 2), (std::vector<std::pair<int, int64_t>>{{2, 4}, {3, 2}, {4, 1}}));
  EXPECT_TRUE(adder_tree_additions(1, 4).empty());
  int64_t total = 0;
  for (const auto& [width, additions] : adder_tree_additions(255, 1)) total += additions;
  EXPECT_EQ(total, 254);  // n - 1 additions for n values
}

TEST(DigitalSram, EventsOfABitSerialProduct) {
  Spec spec;  // W8A8 unsigned, bit-serial, N = 255, packed
  const DigitalSramMacro macro(spec);
  const ProductShape shape{2, 3, 300, 1};  // tiles of 255 and 45 rows
  const Events events = macro.count(shape);
  EXPECT_EQ(events.total(EventKind::Mac), 2 * 3 * 300);
  EXPECT_EQ(events.total(EventKind::ArrayActivation), 2 * 2 * 8);
  EXPECT_EQ(events.total(EventKind::RowDrive), 2 * 300 * 8);
  EXPECT_EQ(events.total(EventKind::CellRead), 2 * 300 * 8 * 3 * 8);
  EXPECT_EQ(events.total(EventKind::AdderTreeAddition), (254 + 44) * 8 * 2 * 3 * 8);  // n - 1 per tree
  EXPECT_EQ(events.count({EventKind::AdderTreeAddition, 1}), (127 + 22) * 8 * 2 * 3 * 8);  // first levels
  EXPECT_EQ(events.total(EventKind::ShiftAdd), 2 * 3 * 2 * 64);
  EXPECT_EQ(events.total(EventKind::Accumulation), 2 * 3 * 2);
  EXPECT_EQ(events.total(EventKind::AdcConversion), 0);
}

TEST(DigitalSram, InvalidKnobsAreNamed) {
  Spec spec;
  spec.input_bits_per_cycle = 9;
  EXPECT_THROW(DigitalSramMacro{spec}, std::invalid_argument);
  spec = Spec{};
  spec.rows_per_activation = 0;
  try {
    DigitalSramMacro macro(spec);
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& error) {
    EXPECT_STREQ(error.what(), "rows_per_activation must be in [1, 65536]");
  }
}

}  // namespace
}  // namespace bitline::core::digital_sram
