#include "core/digital_sram/digital_sram.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace bitline::core::digital_sram {

void validate(const Spec& spec) {
  validate_integer_operands(spec.operands(), spec.input_bits_per_cycle);
  if (spec.rows_per_activation < 1 || spec.rows_per_activation > 65536) {
    throw std::invalid_argument("rows_per_activation must be in [1, 65536]");
  }
}

std::vector<std::pair<int, int64_t>> adder_tree_additions(int64_t inputs, int input_bits) {
  std::vector<std::pair<int, int64_t>> levels;
  for (int64_t values = inputs, width = input_bits; values > 1; ++width) {
    const int64_t pairs = values / 2;
    levels.emplace_back(static_cast<int>(width), pairs);
    values -= pairs;
  }
  return levels;
}

int64_t adder_tree_bits(int64_t inputs, int input_bits) {
  int64_t bits = 0;
  for (const auto& [width, additions] : adder_tree_additions(inputs, input_bits)) bits += width * additions;
  return bits;
}

DigitalSramMacro::DigitalSramMacro(const Spec& spec) : spec_(spec) {
  validate(spec_);
  chunks_ = input_chunks(spec_.operands(), spec_.input_bits_per_cycle);
}

void DigitalSramMacro::forward(const ProductShape& shape, const int32_t* x, const int32_t* w, const NoiseKey&, float* out,
                               Events* events) const {
  const int64_t depth = shape.depth();
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < shape.rows; ++r) {
    const int32_t* x_row = x + r * depth;
    for (int64_t o = 0; o < shape.cols; ++o) {
      const int32_t* w_row = w + o * depth;
      int64_t sum = 0;
      for (int64_t k = 0; k < depth; ++k) sum += int64_t{x_row[k]} * w_row[k];
      out[r * shape.cols + o] = static_cast<float>(sum);
    }
  }
  if (events != nullptr) *events += count(shape);
}

Events bit_serial_events(const ProductShape& shape, const std::vector<Tile>& tiles, const std::vector<InputChunk>& chunks,
                         int stored_bits, int64_t input_streams) {
  int64_t rows_in_tiles = 0;
  for (const auto& tile : tiles) rows_in_tiles += tile.end - tile.begin;
  const auto cycles = static_cast<int64_t>(chunks.size());
  const int64_t outputs = shape.rows * shape.cols;
  const int64_t outputs_by_tile = outputs * static_cast<int64_t>(tiles.size());
  const int64_t row_activations = shape.rows * rows_in_tiles * cycles;
  Events events;
  events.add(EventKind::Mac, outputs * rows_in_tiles);
  events.add(EventKind::ArrayActivation, shape.rows * static_cast<int64_t>(tiles.size()) * cycles);
  events.add(EventKind::RowDrive, row_activations * input_streams);
  events.add(EventKind::CellRead, row_activations * shape.cols * stored_bits);
  // Every physical column (output column and stored bit) sums each tile's rows once per chunk.
  const int64_t trees_per_tile_and_chunk = outputs * stored_bits;
  for (const auto& tile : tiles) {
    for (const auto& chunk : chunks) {
      for (const auto& [width, additions] : adder_tree_additions(tile.end - tile.begin, chunk.bits)) {
        events.add({EventKind::AdderTreeAddition, width}, additions * trees_per_tile_and_chunk);
      }
    }
  }
  events.add(EventKind::ShiftAdd, outputs_by_tile * stored_bits * cycles);
  events.add(EventKind::Accumulation, outputs_by_tile);
  return events;
}

Events DigitalSramMacro::count(const ProductShape& shape) const {
  return bit_serial_events(shape, row_tiles(spec_.row_mapping, spec_.rows_per_activation, shape.channels, shape.kernel_area),
                           chunks_, spec_.weight_bits);
}

core::ArrayFootprint DigitalSramMacro::footprint(const ProductShape& shape) const {
  return {row_tiles(spec_.row_mapping, spec_.rows_per_activation, shape.channels, shape.kernel_area),
          spec_.rows_per_activation, spec_.weight_bits, spec_.weight_bits, spec_.input_bits, shape.cols};
}

std::unique_ptr<core::Macro> DigitalSramSpec::for_operands(const core::IntegerOperands& operands) const {
  Spec spec = spec_;
  spec.weight_bits = operands.weight_bits;
  spec.input_bits = operands.input_bits;
  spec.signed_inputs = operands.signed_inputs;
  return std::make_unique<DigitalSramMacro>(spec);
}

std::string DigitalSramSpec::readout() const {
  return "exact adder tree over " + std::to_string(spec_.rows_per_activation) + " rows, " +
         std::to_string(spec_.input_bits_per_cycle) + " input bit" + (spec_.input_bits_per_cycle == 1 ? "" : "s") +
         " per cycle";
}

std::vector<core::EventKind> DigitalSramSpec::emitted_kinds() const {
  return {EventKind::Mac,      EventKind::ArrayActivation,   EventKind::RowDrive,
          EventKind::CellRead, EventKind::AdderTreeAddition, EventKind::ShiftAdd,
          EventKind::Accumulation};
}

cost::MacroInventory DigitalSramSpec::macro_inventory(const std::vector<const core::Macro*>& layers,
                                                      const cost::Hardware& hardware, const cost::ComponentLibrary& c) const {
  // One design serves every layer: adder trees as large as the largest layer's, accumulators for
  // the widest weights' output columns.
  const auto columns = static_cast<double>(hardware.array_columns);
  int64_t tree_bits = 0;
  int weight_bits = 1;
  for (const core::Macro* layer : layers) {
    const Spec& spec = dynamic_cast<const DigitalSramMacro&>(*layer).spec();
    const int64_t inputs = std::min(spec.rows_per_activation, hardware.array_rows);
    tree_bits = std::max(tree_bits, adder_tree_bits(inputs, spec.input_bits_per_cycle));
    weight_bits = std::max(weight_bits, spec.weight_bits);
  }
  cost::MacroInventory inventory = cost::array_inventory(hardware, c);
  inventory[static_cast<int>(cost::Part::AdderTree)] = {columns * static_cast<double>(tree_bits), c.adder_area_um2_per_bit};
  inventory[static_cast<int>(cost::Part::ShiftAdd)] = {columns, c.shift_add_area_um2};
  inventory[static_cast<int>(cost::Part::Accumulator)] = {std::floor(columns / weight_bits), c.accumulator_area_um2};
  return inventory;
}

}  // namespace bitline::core::digital_sram
