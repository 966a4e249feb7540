// The cost model (core/cost) against hand computations, its monotonicity, the simulation's own
// event counts, and its errors for hardware that cannot work.
#include <gtest/gtest.h>

#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/adc/converter.h"
#include "core/analog_sram/engine.h"
#include "core/analog_sram/macro_type.h"
#include "core/cost/cost_model.h"

namespace bitline::core::cost {
namespace {

using analog_sram::Spec;

// One layer of the analog macro: its knobs (operand bits included) and its products.
struct AnalogLayer {
  std::string name = "fc";
  Spec spec;
  ProductShape shape;
  int64_t count = 1;
};

NetworkCost evaluate(const Hardware& hardware, const std::vector<AnalogLayer>& layers) {
  std::vector<LayerWorkload> workloads;
  for (const auto& layer : layers) {
    workloads.push_back({layer.name, std::make_shared<analog_sram::Engine>(layer.spec), layer.shape, layer.count, false});
  }
  return cost::evaluate(hardware, analog_sram::AnalogSramSpec(layers.empty() ? Spec{} : layers.front().spec), workloads);
}

// A converter with an energy and a conversion time of its own (as the CCO model has).
class TimedConverter : public adc::ThresholdConverter {
 public:
  TimedConverter(int bits, double energy_pj, double conversion_ns)
      : ThresholdConverter(bits, ideal_thresholds_lsb(bits)), energy_pj_(energy_pj), conversion_ns_(conversion_ns) {}
  double energy_pj(double) const override { return energy_pj_; }
  double conversion_ns() const override { return conversion_ns_; }

 private:
  double energy_pj_, conversion_ns_;
};

// One macro of 16 x 8 cells, two columns per ADC, 100 MHz, round component numbers at the
// chip's own technology (no scaling), no leakage.
Hardware small_chip() {
  Hardware h;
  h.technology = {45, 0.9};
  h.clock_mhz = 100;
  h.array_rows = 16;
  h.array_columns = 8;
  h.columns_per_adc = 2;
  h.tiles = 1;
  h.macros_per_tile = 1;
  h.tile_buffer_kib = 0;
  h.global_buffer_kib = 1;
  h.output_bits = 8;
  h.interconnect_mm = 2;
  ComponentLibrary& c = h.components;
  c = ComponentLibrary{};
  c.reference = {45, 0.9};
  c.adc_fom_fj_per_step = 1;
  c.adc_area_um2_per_level = 1;
  c.adc_conversion_ns = 10;
  c.adc_fom_corner_msps = 100;  // the conversion rate: no speed-wall penalty
  c.sense_amp_area_um2 = 1;
  c.dac_energy_pj = 0.5;
  c.dac_area_um2 = 2;
  c.cell_energy_fj = 1;
  c.cell_area_um2 = 0.5;
  c.cell_write_energy_pj = 0.1;
  c.adder_energy_pj_per_bit = 0.01;
  c.adder_area_um2_per_bit = 1;
  c.shift_add_energy_pj = 0.2;
  c.shift_add_area_um2 = 10;
  c.accumulator_energy_pj = 0.3;
  c.accumulator_area_um2 = 20;
  c.buffer_energy_pj_per_bit = 0.05;
  c.buffer_area_um2_per_bit = 0.25;
  c.interconnect_energy_pj_per_bit_mm = 0.01;
  c.leakage_mw_per_mm2 = 0;
  return h;
}

// W2 A2 unsigned, N = 16, 4-bit ADC: a linear layer of 3 rows, 4 outputs and 16 inputs fills the
// small chip's one macro exactly (16 rows, 4 outputs x 2 weight bits = 8 columns).
AnalogLayer small_layer() {
  AnalogLayer layer;
  layer.name = "fc";
  layer.spec.weight_bits = 2;
  layer.spec.input_bits = 2;
  layer.spec.rows_per_conversion = 16;
  layer.spec.adc_bits = 4;
  layer.spec.row_mapping = analog_sram::RowMapping::Packed;
  layer.shape = {3, 4, 16, 1};
  return layer;
}

double part(const PerPart& values, Part p) { return values[static_cast<std::size_t>(p)]; }

TEST(CostModel, OneLayerOnOneMacroMatchesTheHandComputation) {
  const NetworkCost cost = evaluate(small_chip(), {small_layer()});
  ASSERT_EQ(cost.layers.size(), 1u);
  const LayerCost& layer = cost.layers[0];
  // Cycles: 2 weight bits x 2 input bits = 4 analog cycles per (row, tile); 1 tile of 16 rows.
  EXPECT_EQ(layer.events.total(EventKind::Mac), 3 * 4 * 16);
  EXPECT_EQ(layer.events.count({EventKind::AdcConversion, 4}), 3 * 4 * 4);  // 48
  EXPECT_EQ(layer.events.total(EventKind::ArrayActivation), 3 * 2);       // rows x input chunks
  EXPECT_EQ(layer.events.total(EventKind::RowDrive), 3 * 16 * 2);         // 96
  EXPECT_EQ(layer.events.total(EventKind::CellRead), 96 * 8);             // each driven row on 4 x 2 columns
  EXPECT_EQ(layer.events.total(EventKind::ShiftAdd), 48);
  EXPECT_EQ(layer.events.total(EventKind::Accumulation), 12);             // outputs x 1 tile
  EXPECT_EQ(layer.chip_events.total(EventKind::BufferAccess), 96 + 96);   // input and output bits
  EXPECT_EQ(layer.chip_events.total(EventKind::CellWrite), 0);
  EXPECT_EQ(layer.macros, 1);
  EXPECT_EQ(layer.replicas, 1);
  EXPECT_EQ(layer.folds, 1);
  EXPECT_DOUBLE_EQ(layer.utilization, 1.0);
  EXPECT_TRUE(cost.weights_resident);
  // Energy (pJ): ADC 48 x 1 fJ x 2^4; DAC 96 x 0.5; cells 96 x 8 columns x 1 fJ; shift-add 48 x 0.2;
  // accumulator 12 outputs x 1 tile x 0.3; buffer (96 input + 96 output bits) x 0.05; wires 192 x 2 mm x 0.01.
  EXPECT_NEAR(part(layer.energy_pj, Part::Adc), 0.768, 1e-12);
  EXPECT_NEAR(part(layer.energy_pj, Part::Dac), 48.0, 1e-12);
  EXPECT_NEAR(part(layer.energy_pj, Part::Cells), 0.768, 1e-12);
  EXPECT_NEAR(part(layer.energy_pj, Part::ShiftAdd), 9.6, 1e-12);
  EXPECT_NEAR(part(layer.energy_pj, Part::Accumulator), 3.6, 1e-12);
  EXPECT_NEAR(part(layer.energy_pj, Part::Buffer), 9.6, 1e-12);
  EXPECT_NEAR(part(layer.energy_pj, Part::Interconnect), 3.84, 1e-12);
  EXPECT_EQ(part(layer.energy_pj, Part::WeightWrite), 0.0);  // resident: loaded once, not per inference
  EXPECT_EQ(part(layer.energy_pj, Part::AdderTree), 0.0);
  EXPECT_NEAR(cost.energy_total_pj, 76.176, 1e-9);
  // Latency: 6 activations x 2 columns per ADC x 1 cycle per conversion (10 ns at 100 MHz) = 12 cycles.
  EXPECT_DOUBLE_EQ(layer.cycles, 12);
  EXPECT_DOUBLE_EQ(layer.latency_ns, 120);
  EXPECT_DOUBLE_EQ(cost.pipeline_interval_ns, 120);
  // Area (um^2): cells 16 x 8 x 0.5; 4 ADCs x 2^4; 16 row drivers x 2; 8 sense amplifiers x 1;
  // 4 shift-adders x 10; 4 output columns x 20; 1 KiB buffer x 0.25 per bit.
  EXPECT_DOUBLE_EQ(part(cost.area_um2, Part::Cells), 64);
  EXPECT_DOUBLE_EQ(part(cost.area_um2, Part::Adc), 64);
  EXPECT_DOUBLE_EQ(part(cost.area_um2, Part::Dac), 32);
  EXPECT_DOUBLE_EQ(part(cost.area_um2, Part::SenseAmp), 8);
  EXPECT_DOUBLE_EQ(part(cost.area_um2, Part::ShiftAdd), 40);
  EXPECT_DOUBLE_EQ(part(cost.area_um2, Part::Accumulator), 80);
  EXPECT_DOUBLE_EQ(part(cost.area_um2, Part::Buffer), 2048);
  EXPECT_NEAR(cost.area_total_mm2, 2336e-6, 1e-15);
  // 384 operations per 120 ns and per 76.176 pJ.
  EXPECT_NEAR(cost.tops, 384 / 120e-9 * 1e-12, 1e-15);
  EXPECT_NEAR(cost.tops_per_w, 384 / 76.176e-12 * 1e-12, 1e-9);
  EXPECT_NEAR(cost.tops_per_mm2, cost.tops / 2336e-6, 1e-9);
}

TEST(CostModel, DigitalCyclesUseAdderTreesInsteadOfAdcs) {
  // Every cycle digital (hybrid levels = weight bits + input bits): no conversions; each digital
  // cycle sums the tile's 16 rows in an adder tree of 16 inputs, and every column has one.
  auto layer = small_layer();
  layer.spec.hybrid_levels = 4;
  const NetworkCost cost = evaluate(small_chip(), {layer});
  EXPECT_EQ(cost.layers[0].events.total(EventKind::AdcConversion), 0);
  EXPECT_EQ(cost.layers[0].events.total(EventKind::DigitalCycle), 48);
  EXPECT_EQ(cost.layers[0].events.count({EventKind::AdderTreeAddition, 1}), 48 * 16);
  EXPECT_EQ(part(cost.energy_pj, Part::Adc), 0.0);
  EXPECT_NEAR(part(cost.energy_pj, Part::AdderTree), 48 * 16 * 0.01, 1e-12);
  EXPECT_EQ(part(cost.area_um2, Part::Adc), 0.0);
  EXPECT_DOUBLE_EQ(part(cost.area_um2, Part::AdderTree), 8 * 16 * 1.0);
  EXPECT_DOUBLE_EQ(cost.layers[0].cycles, 6);  // one cycle per activation
}

TEST(CostModel, MoreAdcBitsCostMoreAdcEnergyAndMoreRowsPerConversionFewerConversions) {
  auto hardware = small_chip();
  hardware.array_rows = 64;
  double previous_energy = 0;
  for (int bits : {3, 4, 5, 6, 8}) {
    auto layer = small_layer();
    layer.spec.adc_bits = bits;
    const double energy = part(evaluate(hardware, {layer}).energy_pj, Part::Adc);
    EXPECT_GT(energy, previous_energy) << bits << " bits";
    previous_energy = energy;
  }
  int64_t previous_conversions = 0;
  for (int64_t rows : {64, 32, 16, 8, 4}) {  // fewer rows per conversion: more tiles, more conversions
    auto layer = small_layer();
    layer.shape = {3, 4, 64, 1};
    layer.spec.rows_per_conversion = rows;
    const int64_t conversions = evaluate(hardware, {layer}).layers[0].events.total(EventKind::AdcConversion);
    EXPECT_GT(conversions, previous_conversions) << rows << " rows per conversion";
    previous_conversions = conversions;
  }
}

TEST(CostModel, AdcEnergyIsFlatInTheSampleRateUpToTheCornerThenProportional) {
  auto hardware = small_chip();  // 10 ns per conversion: 100 MS/s, the corner
  const double at_corner = part(evaluate(hardware, {small_layer()}).energy_pj, Part::Adc);
  hardware.components.adc_conversion_ns = 20;  // 50 MS/s: flat
  EXPECT_DOUBLE_EQ(part(evaluate(hardware, {small_layer()}).energy_pj, Part::Adc), at_corner);
  hardware.components.adc_conversion_ns = 2.5;  // 400 MS/s: 4x the energy per conversion
  EXPECT_NEAR(part(evaluate(hardware, {small_layer()}).energy_pj, Part::Adc), 4 * at_corner, 1e-12);
}

TEST(CostModel, AnAdcWithItsOwnEnergyModelPricesItsConversionsWithIt) {
  const auto hardware = small_chip();
  auto layer = small_layer();
  const auto by_fom = evaluate(hardware, {layer});
  layer.spec.converter = std::make_shared<TimedConverter>(4, 0.7, 0);  // e.g. a CCO converter's mean energy
  const auto by_model = evaluate(hardware, {layer});
  const auto conversions = static_cast<double>(by_model.layers[0].events.total(EventKind::AdcConversion));
  EXPECT_NEAR(part(by_model.energy_pj, Part::Adc), conversions * 0.7, 1e-9);  // the mean over the ramp of a constant
  EXPECT_NE(part(by_fom.energy_pj, Part::Adc), part(by_model.energy_pj, Part::Adc));
  for (Part p : {Part::Dac, Part::Cells, Part::ShiftAdd, Part::Buffer}) EXPECT_DOUBLE_EQ(part(by_model.energy_pj, p), part(by_fom.energy_pj, p));
  // Its own conversion time: 35 ns at 100 MHz is 4 cycles where the library's 10 ns is one.
  layer.spec.converter = std::make_shared<TimedConverter>(4, 0.7, 35);
  EXPECT_DOUBLE_EQ(evaluate(hardware, {layer}).layers[0].cycles, 4 * by_fom.layers[0].cycles);
}

TEST(CostModel, EventCountsEqualWhatTheSimulationRecords) {
  // A conv layer with groups as `count` products of one sample: the cost model's events equal the
  // sum of the events the engine's reference path counts as it computes, product by product (the SIMD
  // kernel would report count() itself).
  std::mt19937 rng(3);
  AnalogLayer layer;
  layer.name = "conv";
  layer.spec.adc_bits = 6;
  layer.spec.hybrid_levels = 3;
  layer.spec.top_levels = analog_sram::TopLevels::MajorityVote;
  layer.spec.additive_sigma_fs = 0.01;
  layer.shape = {20, 6, 5, 9};
  layer.count = 3;
  const analog_sram::Engine engine(layer.spec);
  Events recorded;
  for (int64_t g = 0; g < layer.count; ++g) {
    std::vector<int32_t> x(static_cast<std::size_t>(layer.shape.rows * layer.shape.depth()));
    std::vector<int32_t> w(static_cast<std::size_t>(layer.shape.cols * layer.shape.depth()));
    for (auto& v : x) v = static_cast<int32_t>(rng() % 256);
    for (auto& v : w) v = static_cast<int32_t>(rng() % 255) - 127;
    std::vector<float> out(static_cast<std::size_t>(layer.shape.rows * layer.shape.cols));
    engine.matmul_reference(layer.shape, x.data(), w.data(), {static_cast<uint64_t>(g), 0, 20}, out.data(), &recorded);
  }
  Hardware hardware;
  const NetworkCost cost = evaluate(hardware, {layer});
  EXPECT_TRUE(cost.layers[0].events == recorded);
  EXPECT_GT(recorded.total(EventKind::VotedCycle), 0);
}

TEST(CostModel, LayersThatDoNotFitFoldAndReloadTheirWeights) {
  // 4 x 16 inputs x 4 outputs need 4 macros on a chip of 2: two folds, weights written each inference.
  auto hardware = small_chip();
  hardware.macros_per_tile = 2;
  auto layer = small_layer();
  layer.shape = {3, 4, 64, 1};
  const NetworkCost cost = evaluate(hardware, {layer});
  EXPECT_FALSE(cost.weights_resident);
  EXPECT_EQ(cost.layers[0].macros, 4);
  EXPECT_EQ(cost.layers[0].folds, 2);
  EXPECT_NEAR(part(cost.energy_pj, Part::WeightWrite), 64 * 4 * 2 * 0.1, 1e-9);  // every weight bit once
  // 4 row tiles of 16 rows, one per macro: each macro activates its tile 3 rows x 2 input chunks = 6
  // times, 2 cycles each (2 columns per ADC, one 10 ns conversion at 100 MHz), once per fold; then each
  // fold writes its 16 rows, one per cycle: 6 x 2 x 2 folds + 2 x 16.
  EXPECT_DOUBLE_EQ(cost.layers[0].cycles, 6 * 2 * 2 + 2 * 16);
  // Same layer with room for it: resident, and spare macros replicate it.
  hardware.macros_per_tile = 8;
  const NetworkCost roomy = evaluate(hardware, {layer});
  EXPECT_TRUE(roomy.weights_resident);
  EXPECT_EQ(roomy.layers[0].replicas, 2);
  EXPECT_DOUBLE_EQ(roomy.layers[0].cycles, 6.0 * 2 / 2);  // two copies share the rows; no writes
  EXPECT_EQ(part(roomy.energy_pj, Part::WeightWrite), 0.0);
  EXPECT_LT(roomy.layers[0].latency_ns, cost.layers[0].latency_ns);
}

TEST(CostModel, GroupedProductsShareAMacroUpToItsRowsAndColumns) {
  // 8 products of one output column each (a depthwise layer's channels), W2: 2 physical columns each,
  // 4 side by side in the 8 columns of the small chip's macro; each in its own rows (one input stream
  // per row). Depth 2: 16 / 2 = 8 fit by rows, 4 by columns: 2 macros. Depth 8: 16 / 8 = 2 by rows: 4.
  auto layer = small_layer();
  layer.count = 8;
  layer.shape = {3, 1, 2, 1};
  EXPECT_EQ(evaluate(small_chip(), {layer}).layers[0].macros, 8 / 4);
  layer.shape = {3, 1, 8, 1};
  EXPECT_EQ(evaluate(small_chip(), {layer}).layers[0].macros, 8 / 2);
}

TEST(CostModel, ComponentsScaleWithTheTechnology) {
  auto hardware = small_chip();
  const NetworkCost reference = evaluate(hardware, {small_layer()});
  hardware.technology = {90, 0.9};  // twice the feature size: 2x energy and 4x area
  const NetworkCost larger = evaluate(hardware, {small_layer()});
  EXPECT_NEAR(larger.energy_total_pj, 2 * reference.energy_total_pj, 1e-9);
  EXPECT_NEAR(larger.area_total_mm2, 4 * reference.area_total_mm2, 1e-12);
  // and a conversion of 20 ns: two cycles of the unchanged 100 MHz clock.
  EXPECT_DOUBLE_EQ(larger.layers[0].cycles, 2 * reference.layers[0].cycles);
  hardware.technology = {45, 1.8};  // twice the supply: 4x energy
  EXPECT_NEAR(evaluate(hardware, {small_layer()}).energy_total_pj, 4 * reference.energy_total_pj, 1e-9);
}

TEST(CostModel, LeakageIsStaticPowerOverTheLatency) {
  auto hardware = small_chip();
  hardware.components.leakage_mw_per_mm2 = 1000;
  const NetworkCost cost = evaluate(hardware, {small_layer()});
  EXPECT_NEAR(part(cost.energy_pj, Part::Leakage), 1000 * 2336e-6 * 120, 1e-9);  // mW x ns = pJ
}

TEST(CostModel, BadHardwareGetsErrorsNamingTheField) {
  auto expect_error = [](const Hardware& hardware, const AnalogLayer& layer, const std::string& message) {
    try {
      evaluate(hardware, {layer});
      ADD_FAILURE() << "expected an error containing: " << message;
    } catch (const std::invalid_argument& error) {
      EXPECT_NE(std::string(error.what()).find(message), std::string::npos) << error.what();
    }
  };
  auto zero_rows = small_chip();
  zero_rows.array_rows = 0;
  expect_error(zero_rows, small_layer(), "array_rows must be in [1, 1048576], found 0");
  auto negative = small_chip();
  negative.components.dac_energy_pj = -1;
  expect_error(negative, small_layer(), "components dac_energy_pj must be 0 or in [1e-09, 1e+09], found -1");
  // Past the physical ranges every figure derived would overflow to infinity (issue 25).
  auto huge_node = small_chip();
  huge_node.technology.node_nm = 1e300;
  expect_error(huge_node, small_layer(), "technology node_nm must be in [1, 1000], found 1e+300");
  auto fast_clock = small_chip();
  fast_clock.clock_mhz = 1e300;
  expect_error(fast_clock, small_layer(), "clock_mhz must be in [0.001, 100000], found 1e+300");
  auto hot_cell = small_chip();
  hot_cell.components.cell_energy_fj = 1e308;
  expect_error(hot_cell, small_layer(), "components cell_energy_fj must be 0 or in [1e-09, 1e+09], found 1e+308");
  auto short_array = small_chip();
  short_array.array_rows = 8;  // a row tile of 16 rows cannot be split by folding
  expect_error(short_array, small_layer(), "layer fc cannot be mapped: its row tiles of up to 16 rows exceed the 8 rows");
  auto narrow = small_chip();
  narrow.array_columns = 1;
  narrow.columns_per_adc = 1;
  expect_error(narrow, small_layer(), "one output column takes 2 physical columns");
}

}  // namespace
}  // namespace bitline::core::cost
