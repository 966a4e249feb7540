// The event counts of every macro type against hand counts. Each macro's forward records count(shape), so
// comparing the two only shows that count agrees with itself; here count(shape) (and what forward records
// on random data) is compared, as a whole Events object, with events built by hand from the model the docs
// describe. Every expected value is written as the arithmetic that derives it; no production helper (row
// tiles, input chunks, adder trees, bit_serial_events, count_events) computes one.
#include <gtest/gtest.h>

#include <initializer_list>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "core/analog_sram/engine.h"
#include "core/daism/macro.h"
#include "core/ddc_pim/macro.h"
#include "core/digital_sram/digital_sram.h"
#include "core/sot_mram/macro.h"

namespace bitline::core {
namespace {

Events hand_counted(std::initializer_list<std::pair<EventType, int64_t>> counts) {
  Events events;
  for (const auto& [type, count] : counts) events.add(type, count);
  return events;
}

std::string listing(const Events& events) {
  std::string text;
  for (const auto& [type, count] : events.entries()) {
    text += "  " + describe(type) + ": " + std::to_string(count) + "\n";
  }
  return text.empty() ? "  (none)\n" : text;
}

// Equal as whole objects: every expected type with its count, and no entry that was not expected.
void expect_events(const Events& found, const Events& expected, const std::string& what) {
  EXPECT_TRUE(found == expected) << what << "\nfound:\n" << listing(found) << "expected:\n" << listing(expected);
}

std::vector<int32_t> random_codes(std::mt19937& rng, int64_t count, int32_t low, int32_t high) {
  std::uniform_int_distribution<int32_t> code(low, high);
  std::vector<int32_t> codes(static_cast<std::size_t>(count));
  for (auto& value : codes) value = code(rng);
  return codes;
}

std::vector<float> random_values(std::mt19937& rng, int64_t count) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> values(static_cast<std::size_t>(count));
  for (auto& value : values) value = normal(rng);
  return values;
}

// Two's complement codes of `bits` bits.
std::vector<int32_t> random_weight_codes(std::mt19937& rng, int64_t count, int bits) {
  return random_codes(rng, count, -(1 << (bits - 1)), (1 << (bits - 1)) - 1);
}

// The events `macro` records while it computes a forward product of these operands (codes or values).
template <class Operand>
Events forward_events(const Macro& macro, const ProductShape& shape, const std::vector<Operand>& x,
                      const std::vector<Operand>& w) {
  std::vector<float> out(static_cast<std::size_t>(shape.rows * shape.cols));
  Events recorded;
  macro.forward(shape, x.data(), w.data(), {}, out.data(), &recorded);
  return recorded;
}

// The code range of `bits`-bit inputs: [0, 2^bits - 1], or two's complement when signed.
std::pair<int32_t, int32_t> input_range(int bits, bool is_signed) {
  return is_signed ? std::make_pair(-(1 << (bits - 1)), (1 << (bits - 1)) - 1) : std::make_pair(0, (1 << bits) - 1);
}

// ---- digital_sram (docs/macros/digital_sram.md, "Events") ----------------------------------------
//
// Per product of rows x cols outputs, T tiles of n_t rows, P input chunks, B_w stored bits: macs rows cols Σn_t;
// tile activations rows T P; row drives rows Σn_t P; cell reads row drives cols B_w; per tile, chunk and
// physical column (rows cols B_w of them) a balanced adder tree over n_t values of the chunk's bits (an odd
// value passes up a level); shift-adds rows cols T B_w P; accumulations rows cols T.

struct DigitalSramCase {
  std::string name;
  digital_sram::Spec spec;
  ProductShape shape;
  Events expected;
};

DigitalSramCase digital_bit_serial_with_a_partial_tile() {
  digital_sram::Spec spec;
  spec.weight_bits = 4;
  spec.input_bits = 4;
  spec.input_bits_per_cycle = 1;
  spec.rows_per_activation = 8;
  spec.row_mapping = RowMapping::Packed;
  // K = 20 packed in tiles of 8, 8 and 4 rows; 4 chunks of 1 bit; 2 x 3 x 4 = 24 physical columns' trees.
  // A tree over 8 values of 1 bit: 4 adds of 1 bit, 2 of 2, 1 of 3; over 4: 2 adds of 1 bit, 1 of 2.
  const Events expected = hand_counted({
      {EventKind::Mac, 2 * 3 * 20},
      {EventKind::ArrayActivation, 2 /*rows*/ * 3 /*tiles*/ * 4 /*chunks*/},
      {EventKind::RowDrive, 2 * 20 /*rows in tiles*/ * 4},
      {EventKind::CellRead, 2 * 20 * 4 /*row drives*/ * 3 /*cols*/ * 4 /*weight bits*/},
      {{EventKind::AdderTreeAddition, 1}, (4 + 4 + 2) /*per chunk over the tiles*/ * 4 /*chunks*/ * 24 /*trees*/},
      {{EventKind::AdderTreeAddition, 2}, (2 + 2 + 1) * 4 * 24},
      {{EventKind::AdderTreeAddition, 3}, (1 + 1 + 0) * 4 * 24},
      {EventKind::ShiftAdd, 2 * 3 /*outputs*/ * 3 /*tiles*/ * 4 /*weight bits*/ * 4 /*chunks*/},
      {EventKind::Accumulation, 2 * 3 * 3},
  });
  return {"W4A4 bit-serial, K = 20 in tiles of 8", spec, {2, 3, 20, 1}, expected};
}

DigitalSramCase digital_signed_chunks_of_two_bits() {
  digital_sram::Spec spec;
  spec.weight_bits = 3;
  spec.input_bits = 6;
  spec.signed_inputs = true;
  spec.input_bits_per_cycle = 2;
  spec.rows_per_activation = 5;
  spec.row_mapping = RowMapping::Packed;
  // K = 3 x 4 = 12 packed in tiles of 5, 5 and 2 rows. Signed A6: 5 magnitude bits in chunks of 2, 2 and 1
  // bits, then the sign bit as a chunk of its own (P = 4; docs, "Input chunks"). 1 x 2 x 3 = 6 trees.
  // A tree over 5 values of 2 bits: 2 adds of 2 bits (5 -> 3 values), 1 of 3 (3 -> 2), 1 of 4;
  //   of 1 bit: 2 adds of 1 bit, 1 of 2, 1 of 3. Over 2 values: 1 add of the chunk's bits.
  // Per 5-row tile (chunks of 2, 2, 1, 1 bits): 1 bit 2 + 2; 2 bits 2 + 2 + 1 + 1; 3 bits 1 + 1 + 1 + 1;
  //   4 bits 1 + 1. Per 2-row tile: 2 bits 1 + 1, 1 bit 1 + 1.
  const Events expected = hand_counted({
      {EventKind::Mac, 1 * 2 * 12},
      {EventKind::ArrayActivation, 1 * 3 * 4},
      {EventKind::RowDrive, 1 * 12 * 4},
      {EventKind::CellRead, 1 * 12 * 4 * 2 * 3},
      {{EventKind::AdderTreeAddition, 1}, (2 * (2 + 2) + (1 + 1)) * 6},
      {{EventKind::AdderTreeAddition, 2}, (2 * (2 + 2 + 1 + 1) + (1 + 1)) * 6},
      {{EventKind::AdderTreeAddition, 3}, 2 * (1 + 1 + 1 + 1) * 6},
      {{EventKind::AdderTreeAddition, 4}, 2 * (1 + 1) * 6},
      {EventKind::ShiftAdd, 1 * 2 * 3 /*tiles*/ * 3 /*weight bits*/ * 4 /*chunks*/},
      {EventKind::Accumulation, 1 * 2 * 3},
  });
  return {"W3A6 signed, 2 bits per cycle, K = 12 in tiles of 5", spec, {1, 2, 3, 4}, expected};
}

DigitalSramCase digital_channel_aligned_whole_input_per_cycle() {
  digital_sram::Spec spec;
  spec.weight_bits = 2;
  spec.input_bits = 3;
  spec.input_bits_per_cycle = 3;
  spec.rows_per_activation = 7;
  spec.row_mapping = RowMapping::ChannelAligned;
  // 5 channels of 2 rows, channel-aligned in tiles of floor(7 / 2) = 3 channels: 6 and 4 rows. One chunk of 3
  // bits. 3 x 1 x 2 = 6 trees. Over 6 values of 3 bits: 3 adds of 3 bits, 1 of 4, 1 of 5; over 4: 2 of 3, 1 of 4.
  const Events expected = hand_counted({
      {EventKind::Mac, 3 * 1 * 10},
      {EventKind::ArrayActivation, 3 * 2 * 1},
      {EventKind::RowDrive, 3 * 10 * 1},
      {EventKind::CellRead, 3 * 10 * 1 * 1 * 2},
      {{EventKind::AdderTreeAddition, 3}, (3 + 2) * 6},
      {{EventKind::AdderTreeAddition, 4}, (1 + 1) * 6},
      {{EventKind::AdderTreeAddition, 5}, 1 * 6},
      {EventKind::ShiftAdd, 3 * 1 * 2 * 2 * 1},
      {EventKind::Accumulation, 3 * 1 * 2},
  });
  return {"W2A3, 3 bits per cycle, channel-aligned", spec, {3, 1, 5, 2}, expected};
}

std::vector<DigitalSramCase> digital_sram_cases() {
  return {digital_bit_serial_with_a_partial_tile(), digital_signed_chunks_of_two_bits(),
          digital_channel_aligned_whole_input_per_cycle()};
}

TEST(EventCountsDigitalSram, BitSerialWithAPartialLastTile) {
  const auto c = digital_bit_serial_with_a_partial_tile();
  expect_events(digital_sram::DigitalSramMacro(c.spec).count(c.shape), c.expected, c.name);
}

TEST(EventCountsDigitalSram, SignedInputsInChunksOfTwoBits) {
  const auto c = digital_signed_chunks_of_two_bits();
  expect_events(digital_sram::DigitalSramMacro(c.spec).count(c.shape), c.expected, c.name);
}

TEST(EventCountsDigitalSram, ChannelAlignedTilesAndTheWholeInputInOneCycle) {
  const auto c = digital_channel_aligned_whole_input_per_cycle();
  expect_events(digital_sram::DigitalSramMacro(c.spec).count(c.shape), c.expected, c.name);
}

TEST(EventCountsDigitalSram, ForwardRecordsTheHandCountedEvents) {
  std::mt19937 rng(31);
  for (const auto& c : digital_sram_cases()) {
    const digital_sram::DigitalSramMacro macro(c.spec);
    const auto [low, high] = input_range(c.spec.input_bits, c.spec.signed_inputs);
    const auto x = random_codes(rng, c.shape.rows * c.shape.depth(), low, high);
    const auto w = random_weight_codes(rng, c.shape.cols * c.shape.depth(), c.spec.weight_bits);
    expect_events(forward_events(macro, c.shape, x, w), c.expected, c.name);
  }
}

// ---- ddc_pim (docs/macros/ddc_pim.md, "Events"; papers.md §2(a), §2(b)) ------------------------------
//
// As digital_sram's, per logical output (both filters of a pair count) with n stored bits per output (the
// code's bits in two's complement, one fewer in offset binary). Rows are always packed. The dual broadcast
// drives every row once per input stream (2). Offset binary adds, per tile, chunk, output row and input
// stream, a Σx adder tree like a column's, and one correction Σx·d = 2 Σx·u - (2^n - 1) Σx per output: a
// peripheral addition of n + B_x + ceil(log2 K) bits (docs/macros/ddc_pim.md, "What it computes" 2).

struct DdcPimCase {
  std::string name;
  ddc_pim::Spec spec;
  ProductShape shape;
  Events expected;
};

ddc_pim::Spec ddc_spec(PairEncoding encoding, int weight_bits, int input_bits, bool signed_inputs, int64_t pairs,
                       bool separate_inputs, int input_bits_per_cycle, int64_t rows_per_activation) {
  ddc_pim::Spec spec;
  spec.operands = {weight_bits, input_bits, signed_inputs, {encoding, pairs, separate_inputs}};
  spec.input_bits_per_cycle = input_bits_per_cycle;
  spec.rows_per_activation = rows_per_activation;
  return spec;
}

DdcPimCase ddc_twos_complement_pair_beside_an_unpaired_column() {
  // Columns 0 and 1 a pair sharing cells, column 2 on Q only; 4 stored bits; A3 bit-serial (3 chunks).
  // K = 10 in tiles of 4, 4 and 2 rows. 2 x 3 outputs x 4 bits = 24 trees per tile and chunk.
  // A tree over 4 values of 1 bit: 2 adds of 1 bit, 1 of 2; over 2: 1 add of 1 bit.
  const Events expected = hand_counted({
      {EventKind::Mac, 2 * 3 * 10},
      {EventKind::ArrayActivation, 2 * 3 * 3},
      {EventKind::RowDrive, 2 * 10 * 3 * 1 /*input stream*/},
      {EventKind::CellRead, 2 * 10 * 3 * 3 /*outputs: Q and Q̄ of the pair, and column 2*/ * 4},
      {{EventKind::AdderTreeAddition, 1}, (2 + 2 + 1) * 3 * 24},
      {{EventKind::AdderTreeAddition, 2}, (1 + 1) * 3 * 24},
      {EventKind::ShiftAdd, 2 * 3 * 3 /*tiles*/ * 4 /*stored bits*/ * 3 /*chunks*/},
      {EventKind::Accumulation, 2 * 3 * 3},
  });
  return {"two's complement W4A3, 1 pair + 1 column, K = 10 in tiles of 4",
          ddc_spec(PairEncoding::TwosComplement, 4, 3, false, 1, false, 1, 4),
          {2, 3, 10, 1},
          expected};
}

DdcPimCase ddc_offset_binary_pairs_and_signed_inputs() {
  // Offset binary W4: 3 stored bits. Two pairs (columns 0-3) and column 4 alone. Signed A5 in chunks of 2
  // bits: 2 and 2 magnitude bits, then the sign chunk (2, 2, 1 bits). K = 2 x 7 = 14 in tiles of 6, 6, 2.
  // Trees per tile and chunk: 2 x 5 outputs x 3 bits = 30 on the columns, plus 2 rows x 1 stream Σx trees.
  // A tree over 6 values of 2 bits: 3 adds of 2 bits, 1 of 3, 1 of 4; of 1 bit: 3 of 1, 1 of 2, 1 of 3.
  // Over 2 values: 1 add of the chunk's bits. Per 6-row tile (chunks 2, 2, 1): 1 bit 3; 2 bits 3 + 3 + 1;
  // 3 bits 1 + 1 + 1; 4 bits 1 + 1. Per 2-row tile: 2 bits 1 + 1, 1 bit 1.
  const int64_t trees = 2 * 5 * 3 + 2 * 1;
  const Events expected = hand_counted({
      {EventKind::Mac, 2 * 5 * 14},
      {EventKind::ArrayActivation, 2 * 3 * 3},
      {EventKind::RowDrive, 2 * 14 * 3},
      {EventKind::CellRead, 2 * 14 * 3 * 5 * 3},
      {{EventKind::AdderTreeAddition, 1}, (2 * 3 + 1) * trees},
      {{EventKind::AdderTreeAddition, 2}, (2 * (3 + 3 + 1) + (1 + 1)) * trees},
      {{EventKind::AdderTreeAddition, 3}, 2 * (1 + 1 + 1) * trees},
      {{EventKind::AdderTreeAddition, 4}, 2 * (1 + 1) * trees},
      {EventKind::ShiftAdd, 2 * 5 * 3 * 3 * 3},
      {EventKind::Accumulation, 2 * 5 * 3},
      // The correction: 3 stored bits + 5 input bits + ceil(log2 14) = 4.
      {{EventKind::PeripheralAddition, 3 + 5 + 4}, 2 * 5},
  });
  return {"offset binary W4 signed A5, 2 pairs + 1 column, K = 14 in tiles of 6",
          ddc_spec(PairEncoding::OffsetBinary, 4, 5, true, 2, false, 2, 6),
          {2, 5, 2, 7},
          expected};
}

DdcPimCase ddc_offset_binary_dual_broadcast() {
  // A depthwise pair of 3x3 channels: 2 columns, each with its own input stream. Offset binary W5: 4 stored
  // bits. A4 in chunks of 3 and 1 bits. K = 9 in tiles of 5 and 4 rows.
  // Trees per tile and chunk: 3 x 2 outputs x 4 bits = 24 on the columns, plus 3 rows x 2 streams Σx trees.
  // Over 5 values of 3 bits: 2 adds of 3 bits, 1 of 4, 1 of 5; of 1 bit: 2 of 1, 1 of 2, 1 of 3.
  // Over 4 values of 3 bits: 2 adds of 3 bits, 1 of 4; of 1 bit: 2 of 1, 1 of 2.
  const int64_t trees = 3 * 2 * 4 + 3 * 2;
  const Events expected = hand_counted({
      {EventKind::Mac, 3 * 2 * 9},
      {EventKind::ArrayActivation, 3 * 2 * 2},
      {EventKind::RowDrive, 3 * 9 * 2 /*chunks*/ * 2 /*input streams*/},
      {EventKind::CellRead, 3 * 9 * 2 * 2 /*outputs*/ * 4},
      {{EventKind::AdderTreeAddition, 1}, (2 + 2) * trees},
      {{EventKind::AdderTreeAddition, 2}, (1 + 1) * trees},
      {{EventKind::AdderTreeAddition, 3}, (2 + 1 + 2) * trees},
      {{EventKind::AdderTreeAddition, 4}, (1 + 1) * trees},
      {{EventKind::AdderTreeAddition, 5}, 1 * trees},
      {EventKind::ShiftAdd, 3 * 2 * 2 * 4 * 2},
      {EventKind::Accumulation, 3 * 2 * 2},
      // 4 stored bits + 4 input bits + ceil(log2 9) = 4.
      {{EventKind::PeripheralAddition, 4 + 4 + 4}, 3 * 2},
  });
  return {"offset binary W5A4 dual broadcast, 3 + 1 bits per cycle, K = 9 in tiles of 5",
          ddc_spec(PairEncoding::OffsetBinary, 5, 4, false, 1, true, 3, 5),
          {3, 2, 1, 9},
          expected};
}

DdcPimCase ddc_twos_complement_dual_broadcast() {
  // A depthwise pair of 3x3 channels in one tile of 9 rows; two's complement W3; A2 bit-serial.
  // Trees per chunk: 2 x 2 outputs x 3 bits = 12. Over 9 values of 1 bit: 4 adds of 1 bit (9 -> 5 values),
  // 2 of 2 (5 -> 3), 1 of 3 (3 -> 2), 1 of 4.
  const Events expected = hand_counted({
      {EventKind::Mac, 2 * 2 * 9},
      {EventKind::ArrayActivation, 2 * 1 * 2},
      {EventKind::RowDrive, 2 * 9 * 2 /*chunks*/ * 2 /*input streams*/},
      {EventKind::CellRead, 2 * 9 * 2 * 2 * 3},
      {{EventKind::AdderTreeAddition, 1}, 4 * 2 * 12},
      {{EventKind::AdderTreeAddition, 2}, 2 * 2 * 12},
      {{EventKind::AdderTreeAddition, 3}, 1 * 2 * 12},
      {{EventKind::AdderTreeAddition, 4}, 1 * 2 * 12},
      {EventKind::ShiftAdd, 2 * 2 * 1 * 3 * 2},
      {EventKind::Accumulation, 2 * 2 * 1},
  });
  return {"two's complement W3A2 dual broadcast, one tile of 9",
          ddc_spec(PairEncoding::TwosComplement, 3, 2, false, 1, true, 1, 16),
          {2, 2, 1, 9},
          expected};
}

std::vector<DdcPimCase> ddc_pim_cases() {
  return {ddc_twos_complement_pair_beside_an_unpaired_column(), ddc_offset_binary_pairs_and_signed_inputs(),
          ddc_offset_binary_dual_broadcast(), ddc_twos_complement_dual_broadcast()};
}

TEST(EventCountsDdcPim, TwosComplementPairBesideAnUnpairedColumn) {
  const auto c = ddc_twos_complement_pair_beside_an_unpaired_column();
  expect_events(ddc_pim::DdcPimMacro(c.spec).count(c.shape), c.expected, c.name);
}

TEST(EventCountsDdcPim, OffsetBinaryPairsWithSignedInputChunks) {
  const auto c = ddc_offset_binary_pairs_and_signed_inputs();
  expect_events(ddc_pim::DdcPimMacro(c.spec).count(c.shape), c.expected, c.name);
}

TEST(EventCountsDdcPim, OffsetBinaryDualBroadcastHasAnInputSumTreePerStream) {
  const auto c = ddc_offset_binary_dual_broadcast();
  expect_events(ddc_pim::DdcPimMacro(c.spec).count(c.shape), c.expected, c.name);
}

TEST(EventCountsDdcPim, TwosComplementDualBroadcastDrivesEveryRowTwice) {
  const auto c = ddc_twos_complement_dual_broadcast();
  expect_events(ddc_pim::DdcPimMacro(c.spec).count(c.shape), c.expected, c.name);
}

TEST(EventCountsDdcPim, OffsetBinaryCorrectionIsTheInputSumTreesAndOnePeripheralAdditionPerOutput) {
  // The same shape and stored bits (3) in both encodings: offset binary (W4) adds exactly the Σx trees and the
  // corrections. K = 7 in tiles of 4 and 3 rows, A2 bit-serial (2 chunks of 1 bit), 3 output rows, 4 columns.
  // Σx trees: over 4 values of 1 bit 2 adds of 1 bit, 1 of 2; over 3: 1 add of 1 bit, 1 of 2; per chunk and
  // output row (one input stream).
  const ProductShape shape{3, 4, 7, 1};
  const ddc_pim::DdcPimMacro offset_binary(ddc_spec(PairEncoding::OffsetBinary, 4, 2, false, 2, false, 1, 4));
  const ddc_pim::DdcPimMacro twos_complement(ddc_spec(PairEncoding::TwosComplement, 3, 2, false, 2, false, 1, 4));
  Events added = offset_binary.count(shape);
  const Events twos_complement_events = twos_complement.count(shape);
  for (const auto& [type, count] : twos_complement_events.entries()) added.add(type, -count);
  expect_events(added,
                hand_counted({
                    {{EventKind::AdderTreeAddition, 1}, (2 + 1) * 2 /*chunks*/ * 3 /*output rows*/},
                    {{EventKind::AdderTreeAddition, 2}, (1 + 1) * 2 * 3},
                    // 3 stored bits + 2 input bits + ceil(log2 7) = 3, once per output.
                    {{EventKind::PeripheralAddition, 3 + 2 + 3}, 3 * 4},
                }),
                "offset binary less two's complement");
}

// Codes of a pair's two columns in `encoding` with n stored bits: a random Q column and its complement
// (two's complement ~w = -w - 1, offset binary ~d = -d; core/macro.h, PairEncoding), written out here.
std::vector<int32_t> ddc_weights(std::mt19937& rng, const ddc_pim::Spec& spec, const ProductShape& shape) {
  const bool offset_binary = spec.encoding() == PairEncoding::OffsetBinary;
  const int n = offset_binary ? spec.operands.weight_bits - 1 : spec.operands.weight_bits;
  const auto random_code = [&] {
    if (offset_binary) return 2 * std::uniform_int_distribution<int32_t>(0, (1 << n) - 1)(rng) - ((1 << n) - 1);  // odd
    return std::uniform_int_distribution<int32_t>(-(1 << (n - 1)), (1 << (n - 1)) - 1)(rng);
  };
  const int64_t depth = shape.depth();
  std::vector<int32_t> w(static_cast<std::size_t>(shape.cols * depth));
  for (int64_t o = 0; o < shape.cols; ++o) {
    const bool on_qbar = o < 2 * spec.operands.column_pairs.pairs && o % 2 == 1;
    for (int64_t k = 0; k < depth; ++k) {
      const auto at = static_cast<std::size_t>(o * depth + k);
      if (!on_qbar) {
        w[at] = random_code();
      } else {
        const int32_t q = w[static_cast<std::size_t>((o - 1) * depth + k)];
        w[at] = offset_binary ? -q : -q - 1;
      }
    }
  }
  return w;
}

TEST(EventCountsDdcPim, ForwardRecordsTheHandCountedEvents) {
  std::mt19937 rng(37);
  for (const auto& c : ddc_pim_cases()) {
    const ddc_pim::DdcPimMacro macro(c.spec);
    const auto& operands = c.spec.operands;
    const auto [low, high] = input_range(operands.input_bits, operands.signed_inputs);
    // Dual broadcast: an input row per output column, x [rows, cols, K].
    const int64_t input_rows = operands.column_pairs.separate_inputs ? c.shape.rows * c.shape.cols : c.shape.rows;
    const auto x = random_codes(rng, input_rows * c.shape.depth(), low, high);
    const auto w = ddc_weights(rng, c.spec, c.shape);
    expect_events(forward_events(macro, c.shape, x, w), c.expected, c.name);
  }
}

// ---- analog_sram (docs/macros/analog_sram.md, "What it computes" and "Events"; papers.md §5(b)) ----------
//
// Cycles: every (weight bit i, input chunk j), B_w P of them; analog when i + j <= B_w + P - L - 2 (HCiM's
// rule), otherwise digital, or voted with vote_samples conversions each. Per product: macs rows cols Σn_t;
// ADC conversions outputs T (analog + voted vote_samples); digital cycles outputs T digital, each priced as
// one 1-bit adder-tree addition per row of its tile; voted cycles outputs T voted; tile activations rows T P;
// row drives rows Σn_t P; cell reads row drives cols B_w; shift-adds outputs T B_w P; accumulations outputs T.

struct AnalogCase {
  std::string name;
  analog_sram::Spec spec;
  ProductShape shape;
  Events expected;
};

AnalogCase analog_bit_serial_channel_aligned() {
  analog_sram::Spec spec;
  spec.weight_bits = 4;
  spec.input_bits = 4;
  spec.input_bits_per_cycle = 1;
  spec.rows_per_conversion = 8;
  spec.row_mapping = RowMapping::ChannelAligned;
  spec.adc_bits = 5;
  // 20 channels of 1 row: tiles of 8, 8 and 4 rows; P = 4; 4 x 4 = 16 cycles, all analog (L = 0).
  const Events expected = hand_counted({
      {EventKind::Mac, 2 * 3 * 20},
      {{EventKind::AdcConversion, 5}, 2 * 3 /*outputs*/ * 3 /*tiles*/ * 16 /*analog cycles*/},
      {EventKind::ArrayActivation, 2 * 3 * 4},
      {EventKind::RowDrive, 2 * 20 * 4},
      {EventKind::CellRead, 2 * 20 * 4 * 3 * 4},
      {EventKind::ShiftAdd, 2 * 3 * 3 * 16},
      {EventKind::Accumulation, 2 * 3 * 3},
  });
  return {"W4A4 bit-serial, 5-bit ADC, tiles of 8", spec, {2, 3, 20, 1}, expected};
}

AnalogCase analog_hybrid_digital_top_levels() {
  analog_sram::Spec spec;
  spec.weight_bits = 3;
  spec.input_bits = 5;
  spec.signed_inputs = true;
  spec.input_bits_per_cycle = 2;
  spec.rows_per_conversion = 9;
  spec.row_mapping = RowMapping::ChannelAligned;
  spec.adc_bits = 6;
  spec.hybrid_levels = 2;
  spec.top_levels = analog_sram::TopLevels::Digital;
  // Signed A5: chunks of 2 and 2 magnitude bits and the sign chunk, P = 3. 3 channels of 2 x 2 rows in tiles
  // of floor(9 / 4) = 2 channels: 8 and 4 rows. Analog iff i + j <= 3 + 3 - 2 - 2 = 2: of the 9 cycles,
  // (1, 2), (2, 1) and (2, 2) are digital, 6 analog.
  const Events expected = hand_counted({
      {EventKind::Mac, 2 * 2 * 12},
      {{EventKind::AdcConversion, 6}, 2 * 2 * 2 /*tiles*/ * 6},
      {EventKind::DigitalCycle, 2 * 2 * 2 * 3},
      {{EventKind::AdderTreeAddition, 1}, 2 * 2 * 3 /*digital cycles*/ * (8 + 4) /*rows of the tiles*/},
      {EventKind::ArrayActivation, 2 * 2 * 3},
      {EventKind::RowDrive, 2 * 12 * 3},
      {EventKind::CellRead, 2 * 12 * 3 * 2 * 3},
      {EventKind::ShiftAdd, 2 * 2 * 2 * 9},
      {EventKind::Accumulation, 2 * 2 * 2},
  });
  return {"W3 signed A5, 2 bits per cycle, HCiM L = 2", spec, {2, 2, 3, 4}, expected};
}

AnalogCase analog_majority_vote_top_levels() {
  analog_sram::Spec spec;
  spec.weight_bits = 4;
  spec.input_bits = 3;
  spec.input_bits_per_cycle = 1;
  spec.rows_per_conversion = 16;
  spec.row_mapping = RowMapping::Packed;
  spec.adc_bits = 4;
  spec.hybrid_levels = 3;
  spec.top_levels = analog_sram::TopLevels::MajorityVote;
  spec.vote_samples = 5;
  // K = 40 packed in tiles of 16, 16 and 8; P = 3. Analog iff i + j <= 4 + 3 - 3 - 2 = 2: i + j = 0, 1, 2 has
  // 1 + 2 + 3 = 6 cycles; the other 6 of 12 are voted, 5 conversions each.
  const Events expected = hand_counted({
      {EventKind::Mac, 3 * 2 * 40},
      {{EventKind::AdcConversion, 4}, 3 * 2 * 3 * (6 + 6 * 5)},
      {EventKind::VotedCycle, 3 * 2 * 3 * 6},
      {EventKind::ArrayActivation, 3 * 3 * 3},
      {EventKind::RowDrive, 3 * 40 * 3},
      {EventKind::CellRead, 3 * 40 * 3 * 2 * 4},
      {EventKind::ShiftAdd, 3 * 2 * 3 * 12},
      {EventKind::Accumulation, 3 * 2 * 3},
  });
  return {"W4A3 majority vote of 5 on L = 3, tiles of 16", spec, {3, 2, 40, 1}, expected};
}

AnalogCase analog_asim_dropped_channels() {
  analog_sram::Spec spec;
  spec.weight_bits = 2;
  spec.input_bits = 2;
  spec.input_bits_per_cycle = 1;
  spec.rows_per_conversion = 10;
  spec.row_mapping = RowMapping::ChannelAligned;
  spec.asim_drop_channels = true;
  spec.adc_bits = 3;
  // 10 channels of 3x3: floor(10 / 9) = 1 channel per tile, but ASiM loops ceil(90 / 10) = 9 times, so the
  // last channel is never computed: 9 tiles of 9 rows, 81 rows. P = 2, 4 analog cycles.
  const Events expected = hand_counted({
      {EventKind::Mac, 1 * 1 * 81},
      {{EventKind::AdcConversion, 3}, 1 * 9 * 4},
      {EventKind::ArrayActivation, 1 * 9 * 2},
      {EventKind::RowDrive, 1 * 81 * 2},
      {EventKind::CellRead, 1 * 81 * 2 * 1 * 2},
      {EventKind::ShiftAdd, 1 * 9 * 4},
      {EventKind::Accumulation, 1 * 9},
  });
  return {"W2A2 with ASiM's dropped channel", spec, {1, 1, 10, 9}, expected};
}

std::vector<AnalogCase> analog_cases() {
  return {analog_bit_serial_channel_aligned(), analog_hybrid_digital_top_levels(), analog_majority_vote_top_levels(),
          analog_asim_dropped_channels()};
}

TEST(EventCountsAnalogSram, BitSerialChannelAlignedWithAPartialLastTile) {
  const auto c = analog_bit_serial_channel_aligned();
  expect_events(analog_sram::Engine(c.spec).count(c.shape), c.expected, c.name);
}

TEST(EventCountsAnalogSram, HybridDigitalTopLevelsWithSignedTwoBitChunks) {
  const auto c = analog_hybrid_digital_top_levels();
  expect_events(analog_sram::Engine(c.spec).count(c.shape), c.expected, c.name);
}

TEST(EventCountsAnalogSram, MajorityVoteConvertsEachVotedCycleVoteSamplesTimes) {
  const auto c = analog_majority_vote_top_levels();
  expect_events(analog_sram::Engine(c.spec).count(c.shape), c.expected, c.name);
}

TEST(EventCountsAnalogSram, AsimDroppedChannelsAreNotCounted) {
  const auto c = analog_asim_dropped_channels();
  expect_events(analog_sram::Engine(c.spec).count(c.shape), c.expected, c.name);
}

TEST(EventCountsAnalogSram, ForwardAndTheReferencePathRecordTheHandCountedEvents) {
  // forward takes the SIMD kernel on CPUs that have it (which records count) and the scalar reference
  // otherwise, which counts its own events as it computes; both are checked.
  std::mt19937 rng(41);
  for (const auto& c : analog_cases()) {
    const analog_sram::Engine engine(c.spec);
    const auto [low, high] = input_range(c.spec.input_bits, c.spec.signed_inputs);
    const auto x = random_codes(rng, c.shape.rows * c.shape.depth(), low, high);
    const auto w = random_weight_codes(rng, c.shape.cols * c.shape.depth(), c.spec.weight_bits);
    expect_events(forward_events(engine, c.shape, x, w), c.expected, c.name + " (forward)");
    std::vector<float> out(static_cast<std::size_t>(c.shape.rows * c.shape.cols));
    Events reference;
    engine.matmul_reference(c.shape, x.data(), w.data(), {}, out.data(), &reference);
    expect_events(reference, c.expected, c.name + " (reference path)");
  }
}

// ---- daism (docs/macros/daism.md, "Events"; papers.md §1(b)) ----------------------------------------------
//
// Weights stored: each of the rows K driving elements is one read (tile activation) that drives the G
// wordline drivers of its digit groups (G = ceil(n / k), or 1 + (n - k) for top-k) and reads the raised rows'
// cells on the C kept columns of each of its cols stored elements; every product senses its element's C
// columns plus sign and exponent; floating formats add exponents (e + 1 bits), normalise (n bits) and
// accumulate in the accumulation format per product; int8 accumulates in a 2n-bit adder. Storing an element
// precomputes its odd multiples (1 add for PC2: 3A; 3 for k = 3: 3A, 5A, 7A) in an (n + k)-bit adder.

struct DaismCase {
  std::string name;
  daism::Spec spec;
  IntegerOperands operands;  // for int8
  ProductShape shape;
  Events expected;
  Events expected_store;
};

daism::Spec daism_spec(const std::string& format, daism::Variant variant, int k, int kept_columns) {
  daism::Spec spec;
  spec.format = daism::parse_operand_format(format);
  spec.multiplier.variant = variant;
  spec.multiplier.k = k;
  spec.multiplier.kept_columns = kept_columns;
  return spec;
}

std::unique_ptr<Macro> daism_macro(const DaismCase& c) {
  const daism::DaismSpec spec(c.spec);
  return c.spec.format.floating ? spec.for_format(c.spec.format.fp) : spec.for_operands(c.operands);
}

DaismCase daism_bf16_pc2_weights_stored() {
  // bf16: n = 8 (7 mantissa bits and the hidden one), e = 8; PC2: G = 8 / 2 = 4 digit groups; all 2n = 16
  // columns sensed, so a stored element takes 16 + 1 + 8 = 25 sensed columns. K = 5.
  const Events expected = hand_counted({
      {EventKind::Mac, 3 * 4 * 5},
      {EventKind::ArrayActivation, 3 * 5 /*driving elements*/},
      {EventKind::RowDrive, 3 * 5 * 4},
      {EventKind::CellRead, 3 * 5 * 4 * 4 /*stored elements per read*/ * 16},
      {EventKind::Sense, 3 * 4 * 5 * (16 + 1 + 8)},
      {{EventKind::PeripheralAddition, 8 + 1}, 3 * 4 * 5},
      {{EventKind::Normalization, 8}, 3 * 4 * 5},
      {{EventKind::FloatAddition, 0, NumberFormat{8, 23}}, 3 * 4 * 5},
  });
  // 4 x 5 stored weights, 1 addition (3A) each, of 8 + 2 bits.
  const Events expected_store = hand_counted({{{EventKind::PeripheralAddition, 8 + 2}, 4 * 5 * 1}});
  return {"bf16 PC2, weights stored",
          daism_spec("bf16", daism::Variant::PrecomputedDigits, 2, 0),
          {},
          {3, 4, 5, 1},
          expected,
          expected_store};
}

DaismCase daism_fp16_or_truncated_inputs_stored() {
  daism::Spec spec = daism_spec("fp16", daism::Variant::Or, 1, 12);
  spec.stored_operand = daism::StoredOperand::Inputs;
  spec.accumulation = {5, 10};
  // fp16: n = 11, e = 5; OR: one digit group per bit, G = 11; 12 of 22 columns kept. Inputs stored: each of
  // the cols K = 3 x 8 weights drives a read against the rows = 2 inputs of its k.
  const Events expected = hand_counted({
      {EventKind::Mac, 2 * 3 * 8},
      {EventKind::ArrayActivation, 3 * 8},
      {EventKind::RowDrive, 3 * 8 * 11},
      {EventKind::CellRead, 3 * 8 * 11 * 2 * 12},
      {EventKind::Sense, 2 * 3 * 8 * (12 + 1 + 5)},
      {{EventKind::PeripheralAddition, 5 + 1}, 2 * 3 * 8},
      {{EventKind::Normalization, 11}, 2 * 3 * 8},
      {{EventKind::FloatAddition, 0, NumberFormat{5, 10}}, 2 * 3 * 8},
  });
  // OR stores only shifted copies: nothing to precompute.
  return {"fp16 OR, 12 columns kept, inputs stored", spec, {}, {2, 3, 2, 4}, expected, Events{}};
}

DaismCase daism_int_top3() {
  // Integer codes W6 and signed A5: magnitudes of 5 and 4 bits, n = max = 5. Top-3: G = 1 + (5 - 3) = 3;
  // 2n = 10 columns and a sign column. K = 3.
  const Events expected = hand_counted({
      {EventKind::Mac, 2 * 2 * 3},
      {EventKind::ArrayActivation, 2 * 3},
      {EventKind::RowDrive, 2 * 3 * 3},
      {EventKind::CellRead, 2 * 3 * 3 * 2 * 10},
      {EventKind::Sense, 2 * 2 * 3 * (10 + 1)},
      {{EventKind::PeripheralAddition, 2 * 5}, 2 * 2 * 3},
  });
  // 2 x 3 stored weights, 3 additions (3A, 5A, 7A) each, of 5 + 3 bits.
  const Events expected_store = hand_counted({{{EventKind::PeripheralAddition, 5 + 3}, 2 * 3 * 3}});
  return {"int W6 signed A5, top-3",
          daism_spec("int8", daism::Variant::PrecomputedTop, 3, 0),
          {6, 5, true, {}},
          {2, 2, 3, 1},
          expected,
          expected_store};
}

std::vector<DaismCase> daism_cases() {
  return {daism_bf16_pc2_weights_stored(), daism_fp16_or_truncated_inputs_stored(), daism_int_top3()};
}

TEST(EventCountsDaism, Bf16Pc2WithWeightsStored) {
  const auto c = daism_bf16_pc2_weights_stored();
  const auto macro = daism_macro(c);
  expect_events(macro->count(c.shape), c.expected, c.name);
  expect_events(macro->store_events(c.shape), c.expected_store, c.name + " (store)");
}

TEST(EventCountsDaism, Fp16OrTruncatedWithInputsStored) {
  const auto c = daism_fp16_or_truncated_inputs_stored();
  const auto macro = daism_macro(c);
  expect_events(macro->count(c.shape), c.expected, c.name);
  expect_events(macro->store_events(c.shape), c.expected_store, c.name + " (store)");
}

TEST(EventCountsDaism, IntegerCodesOnTheTopThreeVariant) {
  const auto c = daism_int_top3();
  const auto macro = daism_macro(c);
  expect_events(macro->count(c.shape), c.expected, c.name);
  expect_events(macro->store_events(c.shape), c.expected_store, c.name + " (store)");
}

TEST(EventCountsDaism, ForwardRecordsTheHandCountedEvents) {
  std::mt19937 rng(43);
  for (const auto& c : daism_cases()) {
    const auto macro = daism_macro(c);
    Events recorded;
    if (c.spec.format.floating) {
      const auto x = random_values(rng, c.shape.rows * c.shape.depth());
      const auto w = random_values(rng, c.shape.cols * c.shape.depth());
      recorded = forward_events(*macro, c.shape, x, w);
    } else {
      const auto x = random_codes(rng, c.shape.rows * c.shape.depth(), -15, 15);  // signed A5
      const auto w = random_codes(rng, c.shape.cols * c.shape.depth(), -31, 31);  // W6, sign-magnitude
      recorded = forward_events(*macro, c.shape, x, w);
    }
    expect_events(recorded, c.expected, c.name);
  }
}

// ---- sot_mram_fp (docs/macros/sot_mram_fp.md, "Events and their counts") ---------------------------------
//
// Per product: rows cols K MACs, each an in-memory multiply and an in-memory add of the format; rows K tile
// activations (one input element against a row of stored weights). The update: one multiply and one add per
// weight.

struct SotMramCase {
  std::string name;
  NumberFormat format;
  ProductShape shape;
  Events expected;
};

Events sot_mram_events(const NumberFormat& format, int64_t macs, int64_t activations) {
  return hand_counted({
      {EventKind::Mac, macs},
      {EventKind::ArrayActivation, activations},
      {{EventKind::InMemoryFloatMultiplication, 0, format}, macs},
      {{EventKind::InMemoryFloatAddition, 0, format}, macs},
  });
}

std::vector<SotMramCase> sot_mram_cases() {
  return {
      {"bf16, linear K = 4", {8, 7}, {2, 3, 4, 1}, sot_mram_events({8, 7}, 2 * 3 * 4, 2 * 4)},
      {"fp16, 3x3 conv of 2 channels", {5, 10}, {1, 5, 2, 9}, sot_mram_events({5, 10}, 1 * 5 * 18, 1 * 18)},
      {"e4m3, one column", {4, 3}, {4, 1, 3, 4}, sot_mram_events({4, 3}, 4 * 1 * 12, 4 * 12)},
  };
}

std::unique_ptr<Macro> sot_mram_macro(const NumberFormat& format) {
  sot_mram::Spec spec;
  spec.engine.format = format;
  return sot_mram::SotMramFpSpec(spec).for_format(format);
}

TEST(EventCountsSotMram, CountsOfThreeFormatsAndShapes) {
  for (const auto& c : sot_mram_cases()) expect_events(sot_mram_macro(c.format)->count(c.shape), c.expected, c.name);
}

TEST(EventCountsSotMram, ForwardRecordsTheHandCountedEvents) {
  std::mt19937 rng(47);
  for (const auto& c : sot_mram_cases()) {
    const auto macro = sot_mram_macro(c.format);
    const auto x = random_values(rng, c.shape.rows * c.shape.depth());
    const auto w = random_values(rng, c.shape.cols * c.shape.depth());
    expect_events(forward_events(*macro, c.shape, x, w), c.expected, c.name);
  }
}

TEST(EventCountsSotMram, TheUpdateIsOneMultiplyAndOneAddPerWeight) {
  const NumberFormat bf16{8, 7};
  std::vector<float> w = {0.5f, -1.0f, 2.0f, 0.25f, 3.0f, -0.75f, 1.5f};
  const std::vector<float> gradient = {0.1f, 0.2f, -0.3f, 0.4f, -0.5f, 0.6f, 0.7f};
  Events recorded;
  sot_mram_macro(bf16)->update_weights(7, w.data(), gradient.data(), 0.01, &recorded);
  expect_events(recorded,
                hand_counted({{{EventKind::InMemoryFloatMultiplication, 0, bf16}, 7},
                              {{EventKind::InMemoryFloatAddition, 0, bf16}, 7}}),
                "7 weights updated");
}

// ---- footprints: how a product occupies arrays, for the cost model's mapping (docs/cost.md) ------

// Tiles as {begin, end} pairs, for comparison.
std::vector<std::pair<int64_t, int64_t>> tile_bounds(const ArrayFootprint& footprint) {
  std::vector<std::pair<int64_t, int64_t>> bounds;
  for (const auto& tile : footprint.row_tiles) bounds.emplace_back(tile.begin, tile.end);
  return bounds;
}

TEST(Footprints, OneColumnPerStoredBitOfEveryOutput) {
  const ProductShape shape{3, 20, 30, 1};  // K = 30 in tiles of 16: rows 0-15 and 16-29
  const std::vector<std::pair<int64_t, int64_t>> two_tiles = {{0, 16}, {16, 30}};

  digital_sram::Spec digital;
  digital.weight_bits = 4;
  digital.input_bits = 6;
  digital.rows_per_activation = 16;
  digital.row_mapping = RowMapping::Packed;
  const auto d = digital_sram::DigitalSramMacro(digital).footprint(shape);
  EXPECT_EQ(tile_bounds(d), two_tiles);
  EXPECT_EQ(d.rows_per_tile, 16);
  EXPECT_EQ(d.columns_per_output, 4);  // a weight bit per column
  EXPECT_EQ(d.stored_bits, 4);
  EXPECT_EQ(d.input_bits, 6);
  EXPECT_EQ(d.stored_columns, 20);
  EXPECT_EQ(d.products_per_column_group, 1);

  analog_sram::Spec analog;
  analog.weight_bits = 4;
  analog.input_bits = 6;
  analog.rows_per_conversion = 16;
  analog.row_mapping = RowMapping::Packed;
  const auto a = analog_sram::Engine(analog).footprint(shape);
  EXPECT_EQ(tile_bounds(a), two_tiles);
  EXPECT_EQ(a.rows_per_tile, 16);
  EXPECT_EQ(a.columns_per_output, 4);
  EXPECT_EQ(a.stored_bits, 4);
  EXPECT_EQ(a.input_bits, 6);
  EXPECT_EQ(a.stored_columns, 20);

  // DDC-PIM, offset binary W5 (n = 4 stored bits), 6 pairs of the 20 columns: 20 - 6 = 14 stored
  // columns (a pair shares its cells), 3 depthwise blocks per column group.
  ddc_pim::Spec ddc;
  ddc.operands = {5, 6, false, {PairEncoding::OffsetBinary, 6, false}};
  ddc.rows_per_activation = 16;
  ddc.depthwise_blocks_per_column_group = 3;
  const auto p = ddc_pim::DdcPimMacro(ddc).footprint(shape);
  EXPECT_EQ(tile_bounds(p), two_tiles);
  EXPECT_EQ(p.rows_per_tile, 16);
  EXPECT_EQ(p.columns_per_output, 4);
  EXPECT_EQ(p.stored_bits, 4);
  EXPECT_EQ(p.input_bits, 6);
  EXPECT_EQ(p.stored_columns, 20 - 6);
  EXPECT_EQ(p.products_per_column_group, 3);

  // SOT-MRAM fp16 (1 + 5 + 10 bits per value): one input element per row tile, every value 16 columns.
  const auto s = sot_mram_macro({5, 10})->footprint({3, 20, 2, 2});
  EXPECT_EQ(tile_bounds(s), (std::vector<std::pair<int64_t, int64_t>>{{0, 1}, {1, 2}, {2, 3}, {3, 4}}));
  EXPECT_EQ(s.rows_per_tile, 1);
  EXPECT_EQ(s.columns_per_output, 16);
  EXPECT_EQ(s.stored_bits, 16);
  EXPECT_EQ(s.input_bits, 16);
  EXPECT_EQ(s.stored_columns, 20);
}

}  // namespace
}  // namespace bitline::core
