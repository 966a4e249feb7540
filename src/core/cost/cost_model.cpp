#include "core/cost/cost_model.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>
#include <string>

namespace bitline::core::cost {
namespace {

std::string number_text(double value) {
  std::ostringstream text;
  text << value;
  return text.str();
}

void require(bool ok, const std::string& field, const std::string& expected, double found) {
  if (!ok) throw std::invalid_argument(field + " must be " + expected + ", found " + number_text(found));
}

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Row tiles stacked in one macro (activated one after another, sharing its peripherals).
int64_t row_tiles_per_macro(const Hardware& hardware, const core::ArrayFootprint& footprint) {
  return hardware.array_rows / footprint.rows_per_tile;
}

// Macros side by side for a layer's outputs: each holds array_columns / columns_per_output of them.
int64_t column_tiles(const Hardware& hardware, const core::ArrayFootprint& footprint) {
  return ceil_div(footprint.stored_columns, hardware.array_columns / footprint.columns_per_output);
}

// How many of a layer's independent products (its groups: a depthwise conv's channels) one macro
// holds, when each takes a single row tile and fewer columns than the array has: block-diagonally,
// every product in its own rows (each row carries one input stream) and its own column group, or
// several per column group where the macro segments its adder trees. 1 otherwise.
int64_t products_per_macro(const Hardware& hardware, const LayerWorkload& layer, const core::ArrayFootprint& footprint) {
  if (layer.count == 1 || layer.stored_operand_changes || footprint.row_tiles.size() != 1) return 1;
  const int64_t product_columns = footprint.stored_columns * footprint.columns_per_output;
  if (product_columns > hardware.array_columns) return 1;
  const int64_t rows_used = footprint.row_tiles.front().end - footprint.row_tiles.front().begin;
  const int64_t row_blocks = hardware.array_rows / rows_used;
  const int64_t column_blocks = hardware.array_columns / product_columns * footprint.products_per_column_group;
  return std::max<int64_t>(1, std::min({row_blocks, column_blocks, layer.count}));
}

// Energy of `count` events of `type` (repeated per column tile where the kind says so): the
// macro's own model where it has one, else the vocabulary's price from the library.
double event_energy_pj(const core::Macro& macro, const Hardware& hardware, const ComponentLibrary& c,
                       const core::EventType& type, int64_t count, int64_t column_tiles) {
  const auto& info = core::event_info(type.kind);
  const double events = info.repeats_per_column_tile ? static_cast<double>(count) * static_cast<double>(column_tiles)
                                                     : static_cast<double>(count);
  if (const auto own = macro.own_energy_pj(type)) return events * *own;
  return info.energy_pj(c, hardware, type, events);
}

}  // namespace

double LayerCost::energy_total_pj() const {
  double total = 0;
  for (double e : energy_pj) total += e;
  return total;
}

void validate(const Hardware& h) {
  const auto in = [](const char* name, double value, FigureRange range) {
    require(std::isfinite(value) && value >= range.lo && value <= range.hi, name,
            "in [" + number_text(range.lo) + ", " + number_text(range.hi) + "]", value);
  };
  const auto count = [](const char* name, int64_t value, int64_t most) {
    require(value >= 1 && value <= most, name, "in [1, " + std::to_string(most) + "]", static_cast<double>(value));
  };
  in("technology node_nm", h.technology.node_nm, kTechnologyNodeNm);
  in("technology vdd_v", h.technology.vdd_v, kSupplyV);
  in("clock_mhz", h.clock_mhz, kClockMhz);
  count("array_rows", h.array_rows, kMaxArrayCount);
  count("array_columns", h.array_columns, kMaxArrayCount);
  count("columns_per_adc", h.columns_per_adc, h.array_columns);
  count("tiles", h.tiles, kMaxArrayCount);
  count("macros_per_tile", h.macros_per_tile, kMaxArrayCount);
  count("tiles x macros_per_tile", h.tiles * h.macros_per_tile, kMaxMacros);
  in("tile_buffer_kib", h.tile_buffer_kib, {0, kMaxBufferKib});
  in("global_buffer_kib", h.global_buffer_kib, {0, kMaxBufferKib});
  count("output_bits", h.output_bits, 64);
  in("interconnect_mm", h.interconnect_mm, {0, kMaxInterconnectMm});
  const auto& c = h.components;
  in("components reference node_nm", c.reference.node_nm, kTechnologyNodeNm);
  in("components reference vdd_v", c.reference.vdd_v, kSupplyV);
  const std::pair<const char*, double> figures[] = {
      {"adc_fom_fj_per_step", c.adc_fom_fj_per_step}, {"adc_area_um2_per_level", c.adc_area_um2_per_level},
      {"adc_conversion_ns", c.adc_conversion_ns}, {"adc_fom_corner_msps", c.adc_fom_corner_msps},
      {"sense_amp_area_um2", c.sense_amp_area_um2}, {"dac_energy_pj", c.dac_energy_pj}, {"dac_area_um2", c.dac_area_um2},
      {"cell_energy_fj", c.cell_energy_fj}, {"cell_area_um2", c.cell_area_um2},
      {"cell_write_energy_pj", c.cell_write_energy_pj}, {"adder_energy_pj_per_bit", c.adder_energy_pj_per_bit},
      {"adder_area_um2_per_bit", c.adder_area_um2_per_bit}, {"shift_add_energy_pj", c.shift_add_energy_pj},
      {"shift_add_area_um2", c.shift_add_area_um2}, {"accumulator_energy_pj", c.accumulator_energy_pj},
      {"accumulator_area_um2", c.accumulator_area_um2}, {"buffer_energy_pj_per_bit", c.buffer_energy_pj_per_bit},
      {"column_read_energy_pj", c.column_read_energy_pj},
      {"float_add_energy_pj_per_significand_bit", c.float_add_energy_pj_per_significand_bit},
      {"float_adder_area_um2_per_significand_bit", c.float_adder_area_um2_per_significand_bit},
      {"multiplier_energy_pj_per_bit_squared", c.multiplier_energy_pj_per_bit_squared},
      {"multiplier_area_um2_per_bit_squared", c.multiplier_area_um2_per_bit_squared},
      {"buffer_area_um2_per_bit", c.buffer_area_um2_per_bit},
      {"interconnect_energy_pj_per_bit_mm", c.interconnect_energy_pj_per_bit_mm},
      {"leakage_mw_per_mm2", c.leakage_mw_per_mm2}};
  for (const auto& [name, value] : figures) {
    require(value == 0 || (value >= kMinComponentFigure && value <= kMaxComponentFigure), std::string("components ") + name,
            "0 or in [" + number_text(kMinComponentFigure) + ", " + number_text(kMaxComponentFigure) + "]", value);
  }
}

MacroInventory array_inventory(const Hardware& hardware, const ComponentLibrary& c) {
  const auto rows = static_cast<double>(hardware.array_rows), columns = static_cast<double>(hardware.array_columns);
  MacroInventory inventory{};
  inventory[static_cast<int>(Part::Cells)] = {rows * columns, c.cell_area_um2};
  inventory[static_cast<int>(Part::Dac)] = {rows, c.dac_area_um2};
  inventory[static_cast<int>(Part::SenseAmp)] = {columns, c.sense_amp_area_um2};
  return inventory;
}

int64_t macros_needed(const Hardware& hardware, const LayerWorkload& layer) {
  const auto footprint = layer.macro->footprint(layer.shape);
  if (footprint.rows_per_tile > hardware.array_rows) {
    throw std::invalid_argument("layer " + layer.name + " cannot be mapped: its row tiles of up to " +
                                std::to_string(footprint.rows_per_tile) + " rows exceed the " +
                                std::to_string(hardware.array_rows) + " rows of an array, even with folding");
  }
  if (footprint.columns_per_output > hardware.array_columns) {
    throw std::invalid_argument("layer " + layer.name + " cannot be mapped: one output column takes " +
                                std::to_string(footprint.columns_per_output) + " physical columns (its stored bits), more than the " +
                                std::to_string(hardware.array_columns) + " columns of an array, even with folding");
  }
  const auto tiles = static_cast<int64_t>(footprint.row_tiles.size());
  const int64_t row_groups = ceil_div(tiles, row_tiles_per_macro(hardware, footprint));
  return row_groups * column_tiles(hardware, footprint) * ceil_div(layer.count, products_per_macro(hardware, layer, footprint));
}

LayerCost evaluate_layer(const Hardware& hardware, const ComponentLibrary& c, const LayerWorkload& layer,
                         int64_t replicas, int64_t folds, bool reload_weights) {
  const core::Macro& macro = *layer.macro;
  const auto& shape = layer.shape;
  const auto footprint = macro.footprint(shape);
  const auto tile_count = static_cast<int64_t>(footprint.row_tiles.size());
  int64_t rows_in_tiles = 0;
  for (const auto& tile : footprint.row_tiles) rows_in_tiles += tile.end - tile.begin;

  LayerCost cost;
  cost.name = layer.name;
  cost.events = macro.count(shape).scaled(layer.count);
  cost.row_tiles = tile_count;
  cost.macros = macros_needed(hardware, layer);  // checks that the layer can be mapped first
  cost.column_tiles = column_tiles(hardware, footprint);
  cost.folds = folds;
  cost.replicas = replicas;
  const int64_t bits_stored = rows_in_tiles * footprint.stored_columns * footprint.stored_bits * layer.count;
  cost.utilization = static_cast<double>(bits_stored) / (static_cast<double>(cost.macros) * static_cast<double>(hardware.array_rows) *
                                                         static_cast<double>(hardware.array_columns));

  // Time: every macro activates its rows once per (output row, input chunk) for each row tile it
  // holds; the macros of other tiles, column tiles, products and replicas work in parallel.
  const int64_t stacked = std::min(tile_count, row_tiles_per_macro(hardware, footprint));
  const double cycles_per_activation = macro.cycles_per_activation(hardware, c);
  const double activations_per_macro = static_cast<double>(cost.events.total(core::EventKind::ArrayActivation)) /
                                       static_cast<double>(tile_count * layer.count) * static_cast<double>(stacked);
  const bool writes = reload_weights || layer.stored_operand_changes;
  const double write_cycles = writes ? static_cast<double>(folds * hardware.array_rows) : 0.0;  // one row per cycle [A]
  cost.cycles = activations_per_macro * cycles_per_activation * static_cast<double>(folds) / static_cast<double>(replicas) +
                write_cycles;
  cost.latency_ns = cost.cycles / hardware.clock_mhz * 1e3;

  // Around the macro: inputs read from and outputs written to the buffers, over the interconnect,
  // and the weights written when they do not stay resident.
  const int64_t outputs = shape.rows * shape.cols * layer.count;
  const int64_t moved_bits =
      shape.rows * shape.depth() * layer.count * footprint.input_bits + outputs * hardware.output_bits;
  cost.chip_events.add(core::EventKind::BufferAccess, moved_bits);
  cost.chip_events.add(core::EventKind::WireTransfer, moved_bits);
  if (writes) {
    cost.chip_events.add(core::EventKind::CellWrite, bits_stored);
    cost.chip_events += macro.store_events(shape).scaled(layer.count);
  }

  // Energy per inference, by part, from the events.
  for (const auto* events : {&cost.events, &cost.chip_events}) {
    for (const auto& [type, count] : events->entries()) {
      const auto& info = core::event_info(type.kind);
      if (!info.priced) continue;
      cost.energy_pj[static_cast<int>(info.part)] += event_energy_pj(macro, hardware, c, type, count, cost.column_tiles);
    }
  }
  return cost;
}

NetworkCost evaluate(const Hardware& hardware, const core::MacroSpec& macro_type, const std::vector<LayerWorkload>& layers) {
  validate(hardware);
  const ComponentLibrary c = scaled(hardware.components, hardware.technology);
  const int64_t available = hardware.tiles * hardware.macros_per_tile;
  std::vector<int64_t> needed;
  int64_t total_needed = 0;
  for (const auto& layer : layers) {
    needed.push_back(macros_needed(hardware, layer));
    total_needed += needed.back();
  }
  NetworkCost network;
  network.weights_resident = total_needed <= available;
  std::vector<int64_t> replicas(layers.size(), 1), folds(layers.size(), 1);
  if (network.weights_resident) {
    // Spare macros replicate the slowest layers, one copy at a time.
    std::vector<double> base_latency;
    for (std::size_t l = 0; l < layers.size(); ++l) base_latency.push_back(evaluate_layer(hardware, c, layers[l], 1, 1, false).latency_ns);
    int64_t spare = available - total_needed;
    while (true) {
      std::size_t slowest = layers.size();
      for (std::size_t l = 0; l < layers.size(); ++l) {
        if (needed[l] > spare) continue;
        const double latency = base_latency[l] / static_cast<double>(replicas[l]);
        if (slowest == layers.size() || latency > base_latency[slowest] / static_cast<double>(replicas[slowest])) slowest = l;
      }
      if (slowest == layers.size()) break;
      ++replicas[slowest];
      spare -= needed[slowest];
    }
  } else {
    // Layers take the chip one after another, their weights loaded each time.
    for (std::size_t l = 0; l < layers.size(); ++l) {
      folds[l] = (needed[l] + available - 1) / available;
      replicas[l] = folds[l] == 1 ? available / needed[l] : 1;
    }
  }

  // Area: one chip design serves every layer; the macro type says what one macro holds.
  std::vector<const core::Macro*> macros;
  for (const auto& layer : layers) macros.push_back(layer.macro.get());
  const MacroInventory inventory = macro_type.macro_inventory(macros, hardware, c);
  const double chip_macros = static_cast<double>(available);
  auto& area = network.area_um2;
  for (int p = 0; p < kPartCount; ++p) {
    const auto& part = inventory[static_cast<std::size_t>(p)];
    area[static_cast<std::size_t>(p)] = chip_macros * part.instances * part.unit_area_um2;
  }
  area[static_cast<int>(Part::Buffer)] = (static_cast<double>(hardware.tiles) * hardware.tile_buffer_kib + hardware.global_buffer_kib) *
                                         8192.0 * c.buffer_area_um2_per_bit;
  for (double a : area) network.area_total_mm2 += a * 1e-6;
  for (Part p : {Part::Cells, Part::Adc, Part::Dac, Part::SenseAmp, Part::AdderTree, Part::ShiftAdd, Part::Accumulator,
                 Part::Periphery}) {
    network.macro_area_mm2 += area[static_cast<std::size_t>(p)] * 1e-6 / chip_macros;  // the parts inside a macro
  }

  const double leakage_mw = c.leakage_mw_per_mm2 * network.area_total_mm2;
  for (std::size_t l = 0; l < layers.size(); ++l) {
    LayerCost cost = evaluate_layer(hardware, c, layers[l], replicas[l], folds[l], !network.weights_resident);
    cost.energy_pj[static_cast<int>(Part::Leakage)] = leakage_mw * cost.latency_ns;  // mW * ns = pJ
    for (int p = 0; p < kPartCount; ++p) network.energy_pj[static_cast<std::size_t>(p)] += cost.energy_pj[static_cast<std::size_t>(p)];
    network.macs += static_cast<double>(cost.events.total(core::EventKind::Mac));
    network.cycles_layer_by_layer += cost.cycles;
    network.latency_layer_by_layer_ns += cost.latency_ns;
    network.pipeline_interval_ns = std::max(network.pipeline_interval_ns, cost.latency_ns);
    network.layers.push_back(std::move(cost));
  }
  for (double e : network.energy_pj) network.energy_total_pj += e;
  const double seconds = 1e-9 * (network.weights_resident ? network.pipeline_interval_ns : network.latency_layer_by_layer_ns);
  const double operations = 2 * network.macs;
  if (seconds > 0) {
    network.inferences_per_s = 1 / seconds;
    network.tops = operations / seconds * 1e-12;
  }
  if (network.energy_total_pj > 0) network.tops_per_w = operations / (network.energy_total_pj * 1e-12) * 1e-12;
  if (network.area_total_mm2 > 0) network.tops_per_mm2 = network.tops / network.area_total_mm2;
  return network;
}

}  // namespace bitline::core::cost
