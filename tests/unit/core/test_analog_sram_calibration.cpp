#include <gtest/gtest.h>

#include <vector>

#include "core/analog_sram/calibration.h"

namespace bitline::core::analog_sram {
namespace {

TEST(AnalogSramCalibration, FullScaleHoldsThePercentileOfMacs) {
  // All-ones weights and inputs with 10% ones: every bit-serial MAC of weight bit 0 x input bit 0
  // counts the ones in a tile; other cycles are 0 (weights are 1, inputs are 1).
  Spec spec;
  spec.rows_per_conversion = 100;
  spec.row_mapping = RowMapping::Packed;
  const ProductShape shape{1, 1, 100, 1};
  std::vector<int32_t> x(100, 0), w(100, 1);
  for (int k = 0; k < 10; ++k) x[static_cast<std::size_t>(k)] = 1;
  MacStatistics stats;
  stats.add(spec, shape, x.data(), w.data());
  EXPECT_EQ(stats.samples(), 64);  // 64 analog cycles, one tile
  // 63 of the 64 MACs are 0 and one is 10 (10% of N): the 100th percentile is 0.1 of full range,
  // the 50th is the floor of one ADC step.
  EXPECT_NEAR(stats.full_scale_fraction(100.0, 255), 0.1, 2.0 / 8192);
  EXPECT_NEAR(stats.full_scale_fraction(50.0, 255), 1.0 / 255, 1e-12);
  // 99 % of 64 samples is 63.36: holding it takes the 64th, the MAC of 10.
  EXPECT_NEAR(stats.full_scale_fraction(99.0, 255), 0.1, 2.0 / 8192);
  EXPECT_NEAR(stats.full_scale_fraction(98.0, 255), 1.0 / 255, 1e-12);  // 62.72: the 63rd, a zero
}

TEST(AnalogSramCalibration, CalibratedFullScaleClipsAndRefinesTheReadout) {
  Spec spec;
  spec.adc_bits = 4;
  spec.full_scale = FullScale::Calibrated;
  spec.calibrated_fraction = 0.1;  // full scale 25.5 MAC units
  Readout readout(spec, 1, false);
  EXPECT_NEAR(readout.full_scale(), 25.5, 1e-9);
  EXPECT_EQ(readout.noiseless_code(200), 15);  // clipped
  // Finer steps than the full range: 1.7 MAC units per code instead of 17.
  EXPECT_NEAR(readout.value(readout.noiseless_code(10)), 10.2, 1e-5);
}

}  // namespace
}  // namespace bitline::core::analog_sram
