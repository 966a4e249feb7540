#include "core/ddc_pim/macro.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "core/digital_sram/digital_sram.h"

namespace bitline::core::ddc_pim {
namespace {

// Bits that hold |Σ x w| of a product: stored bits + input bits + log2(depth), rounded up.
int product_bits(int stored_bits, int input_bits, int64_t depth) {
  return stored_bits + input_bits + static_cast<int>(std::ceil(std::log2(static_cast<double>(std::max<int64_t>(depth, 2)))));
}

}  // namespace

int32_t stored_code(int32_t code, Encoding encoding, int stored_bits) {
  const int32_t levels = int32_t{1} << stored_bits;
  if (encoding == Encoding::TwosComplement) {
    if (code < -levels / 2 || code >= levels / 2) {
      throw std::invalid_argument("weight code " + std::to_string(code) + " does not fit " + std::to_string(stored_bits) +
                                  "-bit two's complement");
    }
    return code & (levels - 1);
  }
  if (code % 2 == 0 || code < -(levels - 1) || code > levels - 1) {
    throw std::invalid_argument("weight code " + std::to_string(code) + " is not an odd code of the " +
                                std::to_string(stored_bits) + "-bit offset-binary grid");
  }
  return (code + levels - 1) / 2;
}

int32_t complement_code(int32_t code, Encoding encoding) {
  return encoding == Encoding::TwosComplement ? -code - 1 : -code;
}

void validate(const Spec& spec) {
  validate_integer_operands(spec.operands, spec.input_bits_per_cycle);
  if (spec.encoding() == Encoding::OffsetBinary && spec.operands.weight_bits < 3) {
    throw std::invalid_argument("offset binary needs weight_bits >= 3 (n + 1 bits of codes for n >= 2 stored bits)");
  }
  if (spec.rows_per_activation < 1 || spec.rows_per_activation > 65536) {
    throw std::invalid_argument("rows_per_activation must be in [1, 65536]");
  }
  if (spec.depthwise_blocks_per_column_group < 1 || spec.depthwise_blocks_per_column_group > 65536) {
    throw std::invalid_argument("depthwise_blocks_per_column_group must be in [1, 65536]");
  }
  if (spec.operands.column_pairs.pairs < 0) throw std::invalid_argument("column pairs must be >= 0");
}

DdcPimMacro::DdcPimMacro(const Spec& spec) : spec_(spec) {
  validate(spec_);
  chunks_ = input_chunks(spec_.operands, spec_.input_bits_per_cycle);
}

int64_t DdcPimMacro::column_value(const int32_t* x_row, const int32_t* w_row, int64_t depth, bool complemented) const {
  const int n = spec_.stored_bits();
  const int32_t all_bits = (int32_t{1} << n) - 1;
  std::vector<int32_t> stored(static_cast<std::size_t>(depth));
  for (int64_t k = 0; k < depth; ++k) {
    const int32_t u = stored_code(w_row[k], spec_.encoding(), n);
    stored[static_cast<std::size_t>(k)] = complemented ? (u ^ all_bits) : u;
  }
  const auto tiles = row_tiles(RowMapping::Packed, spec_.rows_per_activation, depth, 1);
  int64_t weighted = 0, input_sum = 0;
  for (const auto& tile : tiles) {
    for (const auto& chunk : chunks_) {
      const int32_t chunk_mask = (int32_t{1} << chunk.bits) - 1;
      const int64_t chunk_weight = (chunk.sign ? -1 : 1) * (int64_t{1} << chunk.first_bit);
      int64_t chunk_inputs = 0;
      for (int64_t k = tile.begin; k < tile.end; ++k) chunk_inputs += (x_row[k] >> chunk.first_bit) & chunk_mask;
      input_sum += chunk_inputs * chunk_weight;
      for (int bit = 0; bit < n; ++bit) {
        // One column's adder tree: the chunk's inputs on the rows whose cell holds a 1 on this side.
        int64_t count = 0;
        for (int64_t k = tile.begin; k < tile.end; ++k) {
          if ((stored[static_cast<std::size_t>(k)] >> bit) & 1) count += (x_row[k] >> chunk.first_bit) & chunk_mask;
        }
        const bool negative_bit = spec_.encoding() == Encoding::TwosComplement && bit == n - 1;
        weighted += (negative_bit ? -1 : 1) * (count << bit) * chunk_weight;
      }
    }
  }
  // Offset binary: d = 2u - (2^n - 1), so Σ x d = 2 Σ x u - (2^n - 1) Σ x.
  return spec_.encoding() == Encoding::TwosComplement ? weighted : 2 * weighted - int64_t{all_bits} * input_sum;
}

void DdcPimMacro::forward(const ProductShape& shape, const int32_t* x, const int32_t* w, const NoiseKey&, float* out,
                          Events* events) const {
  const int64_t depth = shape.depth();
  const ColumnPairs& pairs = spec_.operands.column_pairs;
  if (2 * pairs.pairs > shape.cols) {
    throw std::invalid_argument(std::to_string(pairs.pairs) + " column pairs need " + std::to_string(2 * pairs.pairs) +
                                " columns, the product has " + std::to_string(shape.cols));
  }
  // The Q̄ column of each pair must be what the cells hold there: the complement of the Q column.
  for (int64_t p = 0; p < pairs.pairs; ++p) {
    const int32_t* w_q = w + 2 * p * depth;
    const int32_t* w_qbar = w_q + depth;
    for (int64_t k = 0; k < depth; ++k) {
      if (w_qbar[k] != complement_code(w_q[k], spec_.encoding())) {
        throw PairNotStorable("column " + std::to_string(2 * p + 1) + " (code " + std::to_string(w_qbar[k]) + ") is not the " +
                                  to_string(spec_.encoding()) + " complement of column " + std::to_string(2 * p) +
                                  " (code " + std::to_string(w_q[k]) + ") at row " + std::to_string(k) +
                                  ": the pair cannot share cells",
                              p, k);
      }
    }
  }
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < shape.rows; ++r) {
    for (int64_t o = 0; o < shape.cols; ++o) {
      const int32_t* x_row = pairs.separate_inputs ? x + (r * shape.cols + o) * depth : x + r * depth;
      const bool on_qbar = o < 2 * pairs.pairs && o % 2 == 1;
      const int32_t* stored_row = w + (on_qbar ? o - 1 : o) * depth;
      out[r * shape.cols + o] = static_cast<float>(column_value(x_row, stored_row, depth, on_qbar));
    }
  }
  if (events != nullptr) *events += count(shape);
}

void DdcPimMacro::dual_broadcast(const ProductShape& shape, const int32_t* x_q, const int32_t* x_qbar, const int32_t* w,
                                 float* out_q, float* out_qbar) const {
  if (shape.cols != 1) throw std::invalid_argument("dual broadcast computes one channel per side (cols = 1)");
  const int64_t depth = shape.depth();
  for (int64_t r = 0; r < shape.rows; ++r) {
    out_q[r] = static_cast<float>(column_value(x_q + r * depth, w, depth, false));
    out_qbar[r] = static_cast<float>(column_value(x_qbar + r * depth, w, depth, true));
  }
}

Events DdcPimMacro::count(const ProductShape& shape) const {
  const ColumnPairs& pairs = spec_.operands.column_pairs;
  if (pairs.separate_inputs && shape.cols > 2) {
    throw std::invalid_argument("dual broadcast drives two input streams: at most 2 columns per product, found " +
                                std::to_string(shape.cols));
  }
  const int n = spec_.stored_bits();
  const auto tiles = row_tiles(RowMapping::Packed, spec_.rows_per_activation, shape.channels, shape.kernel_area);
  const int64_t streams = pairs.separate_inputs ? shape.cols : 1;  // input streams on each row
  // Per logical output as digital_sram; a shared column group is read and summed on Q and on Q̄.
  Events events = digital_sram::bit_serial_events(shape, tiles, chunks_, n, streams);
  if (spec_.encoding() == Encoding::OffsetBinary) {
    // One Σx tree per input stream and output row, and one correction per output.
    for (const auto& tile : tiles) {
      for (const auto& chunk : chunks_) {
        for (const auto& [width, additions] : digital_sram::adder_tree_additions(tile.end - tile.begin, chunk.bits)) {
          events.add({EventKind::AdderTreeAddition, width}, additions * shape.rows * streams);
        }
      }
    }
    events.add({EventKind::PeripheralAddition, product_bits(n, spec_.operands.input_bits, shape.depth())},
               shape.rows * shape.cols);
  }
  return events;
}

ArrayFootprint DdcPimMacro::footprint(const ProductShape& shape) const {
  const int n = spec_.stored_bits();
  ArrayFootprint footprint{row_tiles(RowMapping::Packed, spec_.rows_per_activation, shape.channels, shape.kernel_area),
                           spec_.rows_per_activation, n, n, spec_.operands.input_bits,
                           shape.cols - spec_.operands.column_pairs.pairs};
  footprint.products_per_column_group = spec_.depthwise_blocks_per_column_group;
  return footprint;
}

std::unique_ptr<Macro> DdcPimSpec::for_operands(const IntegerOperands& operands) const {
  Spec spec = spec_;
  spec.operands = operands;
  return std::make_unique<DdcPimMacro>(spec);
}

std::string DdcPimSpec::readout() const {
  return "exact adder trees on Q and Q̄ over " + std::to_string(spec_.rows_per_activation) + " rows, " +
         std::to_string(spec_.input_bits_per_cycle) + " input bit" +
         (spec_.input_bits_per_cycle == 1 ? "" : "s") + " per cycle";
}

std::vector<EventKind> DdcPimSpec::emitted_kinds() const {
  return {EventKind::Mac,      EventKind::ArrayActivation,   EventKind::RowDrive,
          EventKind::CellRead, EventKind::AdderTreeAddition, EventKind::ShiftAdd,
          EventKind::Accumulation, EventKind::PeripheralAddition};
}

cost::MacroInventory DdcPimSpec::macro_inventory(const std::vector<const Macro*>& layers, const cost::Hardware& hardware,
                                                 const cost::ComponentLibrary& c) const {
  const auto columns = static_cast<double>(hardware.array_columns);
  int64_t tree_bits = 0;
  int stored_bits = 1;
  for (const Macro* layer : layers) {
    const Spec& spec = dynamic_cast<const DdcPimMacro&>(*layer).spec();
    const int64_t inputs = std::min(spec.rows_per_activation, hardware.array_rows);
    tree_bits = std::max(tree_bits, digital_sram::adder_tree_bits(inputs, spec.input_bits_per_cycle));
    stored_bits = std::max(stored_bits, spec.stored_bits());
  }
  // Both sides of every column: an adder tree and a shift-adder each; accumulators for both
  // filters of a column group [A: the reconfigurable unit's segment switches are not priced].
  cost::MacroInventory inventory = cost::array_inventory(hardware, c);
  inventory[static_cast<int>(cost::Part::AdderTree)] = {2 * columns * static_cast<double>(tree_bits), c.adder_area_um2_per_bit};
  inventory[static_cast<int>(cost::Part::ShiftAdd)] = {2 * columns, c.shift_add_area_um2};
  inventory[static_cast<int>(cost::Part::Accumulator)] = {2 * std::floor(columns / stored_bits), c.accumulator_area_um2};
  return inventory;
}

}  // namespace bitline::core::ddc_pim
