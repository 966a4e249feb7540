// The analog macro's column readout (core/analog_sram/readout.h) against hand computations of the
// formulas in docs/macros/analog_sram.md: gain compression, charge sharing, the three noise terms and
// the code probabilities of a noisy ideal ADC.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/analog_sram/readout.h"

namespace bitline::core::analog_sram {
namespace {

// A 4-bit ADC (15 levels) reading 15 rows of bit-serial inputs: MAC m in [0, 15], full scale 15.
Spec fifteen_rows() {
  Spec spec;
  spec.rows_per_conversion = 15;
  spec.adc_bits = 4;
  return spec;
}

double phi(double z) { return 0.5 * std::erfc(-z / std::sqrt(2.0)); }

TEST(AnalogSramReadout, GainCompressionBendsTheTransferAsDocumented) {
  // v = m / 15, then v / (1 + 0.5 v); code = round(15 v).
  Spec spec = fifteen_rows();
  spec.gain_compression_alpha = 0.5;
  const Readout readout(spec, 1, false);
  EXPECT_DOUBLE_EQ(readout.analog_value(6), 0.4 / 1.2);
  EXPECT_EQ(readout.noiseless_code(6), 5);   // 15 x 0.4 / 1.2 = 5
  EXPECT_EQ(readout.noiseless_code(9), 7);   // 15 x 0.6 / 1.3 = 6.92
  EXPECT_EQ(readout.noiseless_code(15), 10);  // 15 x 1 / 1.5 = 10
  EXPECT_EQ(readout.value(5), 5.0f);          // code x full scale / levels
  EXPECT_FALSE(readout.lossless());
}

TEST(AnalogSramReadout, ChargeSharingScalesByRowsOverRowsPlusParasitic) {
  // N / (N + C_par / C_u) = 15 / (15 + 5) = 0.75.
  Spec spec = fifteen_rows();
  spec.parasitic_capacitance_ratio = 5;
  const Readout readout(spec, 1, false);
  EXPECT_DOUBLE_EQ(readout.charge_sharing_gain(), 0.75);
  EXPECT_DOUBLE_EQ(readout.analog_value(6), 0.4 * 0.75);
  EXPECT_EQ(readout.noiseless_code(7), 5);    // 15 x 7/15 x 0.75 = 5.25
  EXPECT_EQ(readout.noiseless_code(13), 10);  // 15 x 13/15 x 0.75 = 9.75
  EXPECT_EQ(readout.noiseless_code(15), 11);  // 11.25: the top codes are never reached
}

TEST(AnalogSramReadout, NoiseTermsAddInQuadrature) {
  // sigma(m) = sqrt(additive² + (asim / sqrt(m + 1))² + (physical sqrt(m / FS))²), FS = 15.
  Spec spec = fifteen_rows();
  spec.additive_sigma_fs = 0.01;
  spec.asim_mac_sigma_fs = 0.02;
  spec.physical_mac_sigma_fs = 0.03;
  const Readout readout(spec, 1, true);
  EXPECT_NEAR(readout.sigma_fs(3), std::sqrt(0.01 * 0.01 + (0.02 / 2) * (0.02 / 2) + 0.03 * 0.03 * 3 / 15), 1e-15);
  EXPECT_NEAR(readout.sigma_fs(0), std::sqrt(0.01 * 0.01 + 0.02 * 0.02), 1e-15);
  EXPECT_NEAR(readout.sigma_fs(15), std::sqrt(0.01 * 0.01 + (0.02 / 4) * (0.02 / 4) + 0.03 * 0.03), 1e-15);
}

TEST(AnalogSramReadout, NoisyCodeProbabilitiesAreTheGaussianMassOfEachCodesBin) {
  // 1 LSB of additive noise (sigma = 1/15): code c collects v + noise in [(c - 1/2)/15, (c + 1/2)/15),
  // codes 0 and 15 the tails. At m = 7 (v = 7/15) in LSB units: code 7 holds Φ(0.5) - Φ(-0.5), code 8
  // Φ(1.5) - Φ(0.5), code 15 1 - Φ(7.5), code 0 Φ(-6.5).
  Spec spec = fifteen_rows();
  spec.additive_sigma_fs = 1.0 / 15;
  const Readout readout(spec, 1, true);
  const auto p = readout.code_probabilities(7);
  ASSERT_EQ(p.size(), 16u);
  EXPECT_NEAR(p[7], phi(0.5) - phi(-0.5), 1e-12);
  EXPECT_NEAR(p[8], phi(1.5) - phi(0.5), 1e-12);
  EXPECT_NEAR(p[6], phi(-0.5) - phi(-1.5), 1e-12);
  EXPECT_NEAR(p[15], 1 - phi(7.5), 1e-15);
  EXPECT_NEAR(p[0], phi(-6.5), 1e-15);
}

}  // namespace
}  // namespace bitline::core::analog_sram
