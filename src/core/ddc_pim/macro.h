#pragma once
// The DDC-PIM macro (docs/macros/ddc_pim.md; papers.md §2): a digital, bit-serial SRAM macro like
// digital_sram whose 6T cells hold two filters, filter a on Q and its bitwise complement, filter b,
// on Q̄. Each column group of stored bits yields both filters' outputs per cycle: the Q-side adder
// tree sums x AND q, the Q̄-side tree x' AND NOT q. Pointwise (and any conv or linear) pairs see the
// same input (x' = x); depthwise pairs are two channels, driven by the dual broadcast with two
// input streams (x' the second channel's). Unpaired columns use the Q side only. The readout is
// exact, so the product equals the integer product of the paired codes.
//
// Weight encodings (papers.md §2(b); the layer's, IntegerOperands::column_pairs.encoding): two's
// complement stores the code w itself (~w = -w - 1); offset binary stores u = (d + 2^n - 1) / 2
// for the odd codes d of a mid-rise grid (core/macro.h, PairEncoding), ~d = -d, and the periphery
// subtracts (2^n - 1) Σx once per output [A].
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/macro.h"

namespace bitline::core::ddc_pim {

using Encoding = PairEncoding;

// The stored code of a column's integer code under `encoding` (n stored bits), and the code of the
// complementary (Q̄) side of a stored code.
int32_t stored_code(int32_t code, Encoding encoding, int stored_bits);
int32_t complement_code(int32_t code, Encoding encoding);

struct Spec {
  IntegerOperands operands;          // weight_bits: of the integer codes (offset binary: n + 1)
  int input_bits_per_cycle = 1;      // e: 1 = bit-serial [A]
  int64_t rows_per_activation = 255; // N: rows each adder tree sums [A: digital_sram's default]
  // Depthwise (dual broadcast): channel blocks of k² rows one column group holds, each read out by
  // its own segment of the adder tree (the reconfigurable unit) [A].
  int64_t depthwise_blocks_per_column_group = 1;
  Encoding encoding() const { return operands.column_pairs.encoding; }
  int stored_bits() const { return encoding() == Encoding::OffsetBinary ? operands.weight_bits - 1 : operands.weight_bits; }
};
// Throws std::invalid_argument naming the offending field.
void validate(const Spec& spec);

class DdcPimMacro : public Macro {
 public:
  explicit DdcPimMacro(const Spec& spec);  // validates
  const Spec& spec() const { return spec_; }

  // Bit-serial and bit-plane by bit-plane, as the array computes: per cycle and stored bit, the
  // Q-side count popcount(x AND q_k) and the Q̄-side count popcount(x' AND NOT q_k), shift-added.
  // Throws std::invalid_argument when a pair's codes are not complementary (the cells cannot hold
  // them) or a code does not fit the encoding.
  void forward(const ProductShape& shape, const int32_t* x, const int32_t* w, const NoiseKey& key, float* out,
               Events* events) const override;
  using Macro::forward;
  // Dual broadcast of one pair of depthwise channels: the Q side computes x_q · w, the Q̄ side
  // x_qbar · ~w. shape: one channel's product (cols = 1).
  void dual_broadcast(const ProductShape& shape, const int32_t* x_q, const int32_t* x_qbar, const int32_t* w,
                      float* out_q, float* out_qbar) const;
  // As digital_sram's count, per logical output, with two sides per shared column group: cell
  // reads on both sides, a second row drive per row under dual broadcast, and with offset binary
  // the Σx tree and one correction per output.
  Events count(const ProductShape& shape) const override;
  bool lossless() const override { return true; }
  ArrayFootprint footprint(const ProductShape& shape) const override;
  // One clock cycle per activation: both sides' adder trees and shift-adders are pipelined [A].
  double cycles_per_activation(const cost::Hardware&, const cost::ComponentLibrary&) const override { return 1.0; }

 private:
  // One output column's value for one row, bit-serially; `complemented`: read on Q̄.
  int64_t column_value(const int32_t* x_row, const int32_t* w_row, int64_t depth, bool complemented) const;
  Spec spec_;
  std::vector<InputChunk> chunks_;
};

class DdcPimSpec : public MacroSpec {
 public:
  explicit DdcPimSpec(Spec spec) : spec_(std::move(spec)) {}
  const Spec& spec() const { return spec_; }
  std::string type() const override { return "ddc_pim"; }
  OperandKind operand_kind() const override { return OperandKind::IntegerCodes; }
  std::unique_ptr<Macro> for_operands(const IntegerOperands& operands) const override;
  std::string readout() const override;
  bool stores_complementary_pairs() const override { return true; }
  std::vector<EventKind> emitted_kinds() const override;
  // digital_sram's parts with two adder trees and shift-adders per column (Q and Q̄ sides) and
  // accumulators for both filters of every column group.
  cost::MacroInventory macro_inventory(const std::vector<const Macro*>& layers, const cost::Hardware& hardware,
                                       const cost::ComponentLibrary& library) const override;

 private:
  Spec spec_;
};

}  // namespace bitline::core::ddc_pim
