#include "core/cost/cost_model.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace bitline::core::cost {
namespace {

void require(bool ok, const std::string& field, const std::string& expected, double found) {
  if (!ok) throw std::invalid_argument(field + " must be " + expected + ", found " + std::to_string(found));
}

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

analog_sram::Events times(analog_sram::Events events, int64_t count) {
  for (int64_t* field : {&events.macs, &events.adc_conversions, &events.digital_cycles, &events.voted_cycles,
                         &events.tile_activations, &events.row_drives, &events.shift_adds}) {
    *field *= count;
  }
  return events;
}

bool has_kind(const std::vector<analog_sram::Cycle>& cycles, bool analog) {
  for (const auto& cycle : cycles) {
    if ((cycle.kind != analog_sram::CycleKind::Digital) == analog) return true;
  }
  return false;
}

// Row tiles stacked in one macro (activated one after another, sharing its ADCs).
int64_t row_tiles_per_macro(const Hardware& hardware, const analog_sram::Spec& spec) {
  return hardware.array_rows / spec.rows_per_conversion;
}

// Macros side by side for a layer's outputs: each holds array_columns / weight_bits output columns.
int64_t column_tiles(const Hardware& hardware, const LayerWorkload& layer) {
  return ceil_div(layer.shape.cols, hardware.array_columns / layer.spec.weight_bits);
}

double adc_energy_pj(const ComponentLibrary& c, int bits) {
  const double sample_rate_msps = c.adc_conversion_ns > 0 ? 1e3 / c.adc_conversion_ns : 0.0;
  const double speed_wall = c.adc_fom_corner_msps > 0 ? std::max(1.0, sample_rate_msps / c.adc_fom_corner_msps) : 1.0;
  return c.adc_fom_fj_per_step * std::ldexp(1.0, bits) * speed_wall * 1e-3;
}

}  // namespace

double LayerCost::energy_total_pj() const {
  double total = 0;
  for (double e : energy_pj) total += e;
  return total;
}

void validate(const Hardware& h) {
  require(h.technology.node_nm > 0, "technology node_nm", "> 0", h.technology.node_nm);
  require(h.technology.vdd_v > 0, "technology vdd_v", "> 0", h.technology.vdd_v);
  require(h.clock_mhz > 0, "clock_mhz", "> 0", h.clock_mhz);
  require(h.array_rows >= 1, "array_rows", ">= 1", static_cast<double>(h.array_rows));
  require(h.array_columns >= 1, "array_columns", ">= 1", static_cast<double>(h.array_columns));
  require(h.columns_per_adc >= 1 && h.columns_per_adc <= h.array_columns, "columns_per_adc", "in [1, array_columns]",
          static_cast<double>(h.columns_per_adc));
  require(h.tiles >= 1, "tiles", ">= 1", static_cast<double>(h.tiles));
  require(h.macros_per_tile >= 1, "macros_per_tile", ">= 1", static_cast<double>(h.macros_per_tile));
  require(h.tile_buffer_kib >= 0, "tile_buffer_kib", ">= 0", h.tile_buffer_kib);
  require(h.global_buffer_kib >= 0, "global_buffer_kib", ">= 0", h.global_buffer_kib);
  require(h.output_bits >= 1, "output_bits", ">= 1", static_cast<double>(h.output_bits));
  require(h.interconnect_mm >= 0, "interconnect_mm", ">= 0", h.interconnect_mm);
  const auto& c = h.components;
  require(c.reference.node_nm > 0 && c.reference.vdd_v > 0, "components reference node_nm and vdd_v", "> 0",
          std::min(c.reference.node_nm, c.reference.vdd_v));
  const std::pair<const char*, double> non_negative[] = {
      {"adc_fom_fj_per_step", c.adc_fom_fj_per_step}, {"adc_area_um2_per_level", c.adc_area_um2_per_level},
      {"adc_conversion_ns", c.adc_conversion_ns}, {"adc_fom_corner_msps", c.adc_fom_corner_msps},
      {"sense_amp_area_um2", c.sense_amp_area_um2}, {"dac_energy_pj", c.dac_energy_pj}, {"dac_area_um2", c.dac_area_um2},
      {"cell_energy_fj", c.cell_energy_fj}, {"cell_area_um2", c.cell_area_um2},
      {"cell_write_energy_pj", c.cell_write_energy_pj}, {"adder_energy_pj_per_input", c.adder_energy_pj_per_input},
      {"adder_area_um2_per_input", c.adder_area_um2_per_input}, {"shift_add_energy_pj", c.shift_add_energy_pj},
      {"shift_add_area_um2", c.shift_add_area_um2}, {"accumulator_energy_pj", c.accumulator_energy_pj},
      {"accumulator_area_um2", c.accumulator_area_um2}, {"buffer_energy_pj_per_bit", c.buffer_energy_pj_per_bit},
      {"buffer_area_um2_per_bit", c.buffer_area_um2_per_bit},
      {"interconnect_energy_pj_per_bit_mm", c.interconnect_energy_pj_per_bit_mm},
      {"leakage_mw_per_mm2", c.leakage_mw_per_mm2}};
  for (const auto& [name, value] : non_negative) {
    require(std::isfinite(value) && value >= 0, std::string("components ") + name, "a finite number >= 0", value);
  }
}

int64_t macros_needed(const Hardware& hardware, const LayerWorkload& layer) {
  const auto& spec = layer.spec;
  if (spec.rows_per_conversion > hardware.array_rows) {
    throw std::invalid_argument("layer " + layer.name + " cannot be mapped: its row tiles of up to " +
                                std::to_string(spec.rows_per_conversion) + " rows (rows_per_conversion) exceed the " +
                                std::to_string(hardware.array_rows) + " rows of an array, even with folding");
  }
  if (spec.weight_bits > hardware.array_columns) {
    throw std::invalid_argument("layer " + layer.name + " cannot be mapped: one output column takes " +
                                std::to_string(spec.weight_bits) + " physical columns (weight bits), more than the " +
                                std::to_string(hardware.array_columns) + " columns of an array, even with folding");
  }
  const auto tiles = static_cast<int64_t>(analog_sram::row_tiles(spec, layer.shape.channels, layer.shape.kernel_area).size());
  const int64_t row_groups = ceil_div(tiles, row_tiles_per_macro(hardware, spec));
  return row_groups * column_tiles(hardware, layer) * layer.count;
}

LayerCost evaluate_layer(const Hardware& hardware, const ComponentLibrary& c, const LayerWorkload& layer,
                         int64_t replicas, int64_t folds, bool reload_weights) {
  const auto& spec = layer.spec;
  const auto& shape = layer.shape;
  const auto cycles = analog_sram::cycle_plan(spec);
  const auto tiles = analog_sram::row_tiles(spec, shape.channels, shape.kernel_area);
  const auto tile_count = static_cast<int64_t>(tiles.size());
  int64_t rows_in_tiles = 0;
  for (const auto& tile : tiles) rows_in_tiles += tile.end - tile.begin;

  LayerCost cost;
  cost.name = layer.name;
  cost.events = times(analog_sram::count_events(spec, cycles, shape), layer.count);
  cost.row_tiles = tile_count;
  cost.macros = macros_needed(hardware, layer);  // checks that the layer can be mapped first
  cost.column_tiles = column_tiles(hardware, layer);
  cost.folds = folds;
  cost.replicas = replicas;
  const double weight_bits_stored =
      static_cast<double>(rows_in_tiles) * static_cast<double>(shape.cols) * spec.weight_bits * static_cast<double>(layer.count);
  cost.utilization = weight_bits_stored / (static_cast<double>(cost.macros) * static_cast<double>(hardware.array_rows) *
                                           static_cast<double>(hardware.array_columns));

  // Time: every macro activates its rows once per (output row, input chunk) for each row tile it
  // holds; the macros of other tiles, column tiles, products and replicas work in parallel.
  const int64_t stacked = std::min(tile_count, row_tiles_per_macro(hardware, spec));
  const double conversion_ns = layer.adc_conversion_ns > 0 ? layer.adc_conversion_ns : c.adc_conversion_ns;
  const double adc_cycles = std::max(1.0, std::ceil(conversion_ns * hardware.clock_mhz * 1e-3 - 1e-9));
  const double cycles_per_activation =
      has_kind(cycles, true) ? static_cast<double>(hardware.columns_per_adc) * adc_cycles : 1.0;
  const double activations_per_macro =
      static_cast<double>(cost.events.tile_activations) / static_cast<double>(tile_count * layer.count) * static_cast<double>(stacked);
  const bool writes = reload_weights || layer.stored_operand_changes;
  const double write_cycles = writes ? static_cast<double>(folds * hardware.array_rows) : 0.0;  // one row per cycle [A]
  cost.cycles = activations_per_macro * cycles_per_activation * static_cast<double>(folds) / static_cast<double>(replicas) +
                write_cycles;
  cost.latency_ns = cost.cycles / hardware.clock_mhz * 1e3;

  // Energy per inference, by part, from the events.
  const auto& e = cost.events;
  const double outputs = static_cast<double>(shape.rows * shape.cols * layer.count);
  const double input_bits = static_cast<double>(shape.rows * shape.depth() * layer.count) * spec.input_bits;
  const double moved_bits = input_bits + outputs * static_cast<double>(hardware.output_bits);
  auto& energy = cost.energy_pj;
  const double adc_conversion_pj =
      layer.adc_energy_per_conversion_pj > 0 ? layer.adc_energy_per_conversion_pj : adc_energy_pj(c, spec.adc_bits);
  energy[static_cast<int>(Part::Adc)] = static_cast<double>(e.adc_conversions) * adc_conversion_pj;
  energy[static_cast<int>(Part::Dac)] = static_cast<double>(e.row_drives) * static_cast<double>(cost.column_tiles) * c.dac_energy_pj;
  energy[static_cast<int>(Part::Cells)] =
      static_cast<double>(e.row_drives) * static_cast<double>(shape.cols * spec.weight_bits) * c.cell_energy_fj * 1e-3;
  energy[static_cast<int>(Part::AdderTree)] = static_cast<double>(e.digital_cycles) *
                                             (static_cast<double>(rows_in_tiles) / static_cast<double>(tile_count)) *
                                             c.adder_energy_pj_per_input;
  energy[static_cast<int>(Part::ShiftAdd)] = static_cast<double>(e.shift_adds) * c.shift_add_energy_pj;
  energy[static_cast<int>(Part::Accumulator)] = outputs * static_cast<double>(tile_count) * c.accumulator_energy_pj;
  energy[static_cast<int>(Part::Buffer)] = moved_bits * c.buffer_energy_pj_per_bit;
  energy[static_cast<int>(Part::Interconnect)] = moved_bits * hardware.interconnect_mm * c.interconnect_energy_pj_per_bit_mm;
  energy[static_cast<int>(Part::WeightWrite)] = writes ? weight_bits_stored * c.cell_write_energy_pj : 0.0;
  return cost;
}

NetworkCost evaluate(const Hardware& hardware, const std::vector<LayerWorkload>& layers) {
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

  // Area: one chip design serves every layer; its ADCs are as wide as the widest layer's.
  int adc_bits = 1, weight_bits = 1;
  bool analog = false, digital = false;
  for (const auto& layer : layers) {
    const auto cycles = analog_sram::cycle_plan(layer.spec);
    analog = analog || has_kind(cycles, true);
    digital = digital || has_kind(cycles, false);
    adc_bits = std::max(adc_bits, layer.spec.adc_bits);
    weight_bits = std::max(weight_bits, layer.spec.weight_bits);
  }
  const auto rows = static_cast<double>(hardware.array_rows), columns = static_cast<double>(hardware.array_columns);
  const double adcs = analog ? std::ceil(columns / static_cast<double>(hardware.columns_per_adc)) : 0.0;
  auto& area = network.area_um2;
  const double macros = static_cast<double>(available);
  area[static_cast<int>(Part::Cells)] = macros * rows * columns * c.cell_area_um2;
  area[static_cast<int>(Part::Adc)] = macros * adcs * std::ldexp(c.adc_area_um2_per_level, adc_bits);
  area[static_cast<int>(Part::Dac)] = macros * rows * c.dac_area_um2;
  area[static_cast<int>(Part::SenseAmp)] = macros * columns * c.sense_amp_area_um2;
  area[static_cast<int>(Part::AdderTree)] = digital ? macros * columns * rows * c.adder_area_um2_per_input : 0.0;
  area[static_cast<int>(Part::ShiftAdd)] = macros * (adcs + (digital ? columns : 0.0)) * c.shift_add_area_um2;
  area[static_cast<int>(Part::Accumulator)] = macros * std::floor(columns / weight_bits) * c.accumulator_area_um2;
  area[static_cast<int>(Part::Buffer)] = (static_cast<double>(hardware.tiles) * hardware.tile_buffer_kib + hardware.global_buffer_kib) *
                                         8192.0 * c.buffer_area_um2_per_bit;
  for (double a : area) network.area_total_mm2 += a * 1e-6;
  for (int p : {static_cast<int>(Part::Cells), static_cast<int>(Part::Adc), static_cast<int>(Part::Dac),
                static_cast<int>(Part::SenseAmp), static_cast<int>(Part::AdderTree), static_cast<int>(Part::ShiftAdd),
                static_cast<int>(Part::Accumulator)}) {
    network.macro_area_mm2 += area[static_cast<std::size_t>(p)] * 1e-6 / macros;
  }

  const double leakage_mw = c.leakage_mw_per_mm2 * network.area_total_mm2;
  for (std::size_t l = 0; l < layers.size(); ++l) {
    LayerCost cost = evaluate_layer(hardware, c, layers[l], replicas[l], folds[l], !network.weights_resident);
    cost.energy_pj[static_cast<int>(Part::Leakage)] = leakage_mw * cost.latency_ns;  // mW * ns = pJ
    for (int p = 0; p < kPartCount; ++p) network.energy_pj[static_cast<std::size_t>(p)] += cost.energy_pj[static_cast<std::size_t>(p)];
    network.macs += static_cast<double>(cost.events.macs);
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
