#pragma once
// The all-digital SRAM compute-in-memory macro (docs/macros/digital_sram.md), the baseline that
// DDC-PIM and DAISM are compared with. Weights are stored as bit columns (weight bit i of output
// column o in physical column o * weight_bits + i); inputs are applied bit-serially, e bits per
// cycle; in each cycle every column sums the products of its N activated rows exactly in an adder
// tree, and the partial sums are shifted and accumulated, across weight bits, input chunks and row
// tiles. Nothing is lost: the product is the exact integer product, and the events follow from the
// shape alone.
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/macro.h"

namespace bitline::core::digital_sram {

struct Spec {
  int weight_bits = 8;  // two's complement
  int input_bits = 8;
  bool signed_inputs = false;
  int input_bits_per_cycle = 1;       // e: 1 = bit-serial
  int64_t rows_per_activation = 255;  // N: rows activated together, the inputs of each column's adder tree
  RowMapping row_mapping = RowMapping::Packed;
  IntegerOperands operands() const { return {weight_bits, input_bits, signed_inputs, {}}; }
};
// Throws std::invalid_argument naming the offending field.
void validate(const Spec& spec);

// The additions of a balanced adder tree over `inputs` values of `input_bits` bits: (operand
// width, additions) per level. Level l adds pairs of (input_bits + l - 1)-bit values; an odd value
// passes to the next level unchanged [A]. inputs - 1 additions in all.
std::vector<std::pair<int, int64_t>> adder_tree_additions(int64_t inputs, int input_bits);
// The full-adder bits of that tree (Σ width · additions), for its area.
int64_t adder_tree_bits(int64_t inputs, int input_bits);

// The events of a bit-serial digital product (digital_sram's count, and DDC-PIM's per logical
// output): every output sums its `stored_bits` physical columns over each row tile in adder trees,
// once per input chunk, shift-adds and accumulates across tiles; `input_streams` inputs drive each
// row (2 under DDC-PIM's dual broadcast). Every output reads its own bits (cell reads).
Events bit_serial_events(const ProductShape& shape, const std::vector<Tile>& tiles, const std::vector<InputChunk>& chunks,
                         int stored_bits, int64_t input_streams = 1);

// The macro for one layer's operands.
class DigitalSramMacro : public core::Macro {
 public:
  explicit DigitalSramMacro(const Spec& spec);  // validates
  const Spec& spec() const { return spec_; }

  // The exact product, Σ_k x w per output (the adder trees and the shift-add lose nothing), and
  // the events of count(shape).
  void forward(const ProductShape& shape, const int32_t* x, const int32_t* w, const NoiseKey& key, float* out,
               Events* events) const override;
  using core::Macro::forward;
  // macs, tile activations and row drives per input chunk, cell reads (every driven row on every
  // physical column), adder-tree additions by operand width, shift-adds (one per cycle of each
  // output and tile) and accumulations across row tiles.
  Events count(const ProductShape& shape) const override;
  bool lossless() const override { return true; }
  core::ArrayFootprint footprint(const ProductShape& shape) const override;
  // One clock cycle per activation: the adder tree and shift-adder are pipelined [A].
  double cycles_per_activation(const cost::Hardware&, const cost::ComponentLibrary&) const override { return 1.0; }

 private:
  Spec spec_;
  std::vector<InputChunk> chunks_;  // of the inputs, one per cycle
};

class DigitalSramSpec : public core::MacroSpec {
 public:
  explicit DigitalSramSpec(Spec spec) : spec_(std::move(spec)) {}
  const Spec& spec() const { return spec_; }
  std::string type() const override { return "digital_sram"; }
  core::OperandKind operand_kind() const override { return core::OperandKind::IntegerCodes; }
  std::unique_ptr<core::Macro> for_operands(const core::IntegerOperands& operands) const override;
  std::string readout() const override;
  std::vector<core::EventKind> emitted_kinds() const override;
  // Cells, a row driver per row, a sense amplifier per column (weight writes and read-back), an
  // adder tree per column (its full-adder bits), a shift-adder per column and an accumulator per
  // output column; no ADC.
  cost::MacroInventory macro_inventory(const std::vector<const core::Macro*>& layers, const cost::Hardware& hardware,
                                       const cost::ComponentLibrary& library) const override;

 private:
  Spec spec_;
};

}  // namespace bitline::core::digital_sram
