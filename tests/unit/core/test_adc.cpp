#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/adc/characterize.h"
#include "core/adc/converter.h"
#include "core/analog_sram/engine.h"
#include "core/counter_hash.h"

namespace bitline::core::adc {
namespace {

using analog_sram::Engine;
using analog_sram::ProductShape;
using analog_sram::Readout;
using analog_sram::Spec;

// Expects `call` to throw std::invalid_argument whose message contains `fragment`.
template <class Call>
void expect_invalid(Call call, const std::string& fragment) {
  try {
    call();
    ADD_FAILURE() << "no error; expected one mentioning '" << fragment << "'";
  } catch (const std::invalid_argument& error) {
    EXPECT_NE(std::string(error.what()).find(fragment), std::string::npos) << error.what();
  }
}

TEST(AdcLinearity, InlAndDnlOfAKnownTransferEqualHandComputedValues) {
  // 2-bit ADC, codes 1..3 start at 0.5, 1.7 and 2.4 LSB (ideal: 0.5, 1.5, 2.5). By hand:
  // INL = T(k) - (k - 1/2) = {0, +0.2, -0.1}; DNL = T(k+1) - T(k) - 1 = {+0.2, -0.3}.
  const auto shape = linearity({0.5, 1.7, 2.4});
  ASSERT_EQ(shape.inl_lsb.size(), 3u);
  ASSERT_EQ(shape.dnl_lsb.size(), 2u);
  EXPECT_NEAR(shape.inl_lsb[0], 0.0, 1e-12);
  EXPECT_NEAR(shape.inl_lsb[1], 0.2, 1e-12);
  EXPECT_NEAR(shape.inl_lsb[2], -0.1, 1e-12);
  EXPECT_NEAR(shape.dnl_lsb[0], 0.2, 1e-12);
  EXPECT_NEAR(shape.dnl_lsb[1], -0.3, 1e-12);
  EXPECT_NEAR(shape.max_abs_inl_lsb, 0.2, 1e-12);
  EXPECT_NEAR(shape.max_abs_dnl_lsb, 0.3, 1e-12);
}

TEST(AdcLinearity, TablesOfInlAndDnlGiveTheThresholdsTheyDescribe) {
  const auto from_inl = ThresholdConverter::from_inl(2, {0.0, 0.2, -0.1});
  EXPECT_NEAR(from_inl.thresholds_lsb()[1], 1.7, 1e-12);
  EXPECT_NEAR(from_inl.thresholds_lsb()[2], 2.4, 1e-12);
  const auto from_dnl = ThresholdConverter::from_dnl(2, {0.2, -0.3});
  EXPECT_NEAR(from_dnl.thresholds_lsb()[0], 0.5, 1e-12);  // first transition ideal
  EXPECT_NEAR(from_dnl.thresholds_lsb()[1], 1.7, 1e-12);
  EXPECT_NEAR(from_dnl.thresholds_lsb()[2], 2.4, 1e-12);
  // code(v): v = 1.6 LSB is below code 2's threshold of 1.7.
  EXPECT_EQ(from_inl.code(1.6 / 3), 1);
  EXPECT_EQ(from_inl.code(1.75 / 3), 2);
}

TEST(AdcLinearity, MalformedTablesAreRejectedNamingTheProblem) {
  expect_invalid([] { ThresholdConverter(2, {0.5, 1.5}); }, "needs 3 thresholds");
  expect_invalid([] { ThresholdConverter(2, {0.5, 1.5, 1.2}); }, "nondecreasing: code 3");
  expect_invalid([] { ThresholdConverter(2, {0.5, NAN, 2.5}); }, "code 2 is not finite");
  expect_invalid([] { ThresholdConverter::from_inl(3, {0.0, 0.1}); }, "needs 7 INL values");
  expect_invalid([] { ThresholdConverter::from_dnl(2, {0.1}); }, "needs 2 DNL values");
  expect_invalid([] { ThresholdConverter::from_dnl(2, {0.1, -1.5}); }, "DNL of code 2 is below -1 LSB");
}

// Engine outputs with the ideal rounding and with a threshold table of zero INL.
void expect_same_products(Spec spec, uint64_t seed) {
  std::mt19937 rng(static_cast<unsigned>(seed));
  const ProductShape shape{6, 9, 30, 9};
  std::vector<int32_t> x(static_cast<std::size_t>(shape.rows * shape.depth())), w(static_cast<std::size_t>(shape.cols * shape.depth()));
  for (auto& v : x) v = static_cast<int32_t>(rng() % 256);
  for (auto& v : w) v = static_cast<int32_t>(rng() % 256) - 128;
  std::vector<float> ideal(static_cast<std::size_t>(shape.rows * shape.cols)), table(ideal.size());
  Engine(spec).matmul(shape, x.data(), w.data(), {}, ideal.data(), nullptr);
  spec.converter = std::make_shared<ThresholdConverter>(spec.adc_bits, ThresholdConverter::ideal_thresholds_lsb(spec.adc_bits));
  Engine(spec).matmul(shape, x.data(), w.data(), {}, table.data(), nullptr);
  EXPECT_EQ(ideal, table) << spec.adc_bits << "-bit ADC";
}

TEST(AdcTransfer, MonotonicTransferWithZeroInlBehavesAsTheIdealConverter) {
  for (int bits : {4, 6, 7}) {
    Spec spec;
    spec.adc_bits = bits;
    // No MAC lands exactly on a threshold (m L / 255 = k - 1/2 needs 255 | m for these L), where
    // ASiM's round-half-even and a threshold's ">=" would differ.
    Readout ideal(spec, 1, true);
    spec.converter = std::make_shared<ThresholdConverter>(bits, ThresholdConverter::ideal_thresholds_lsb(bits));
    Readout table(spec, 1, true);
    for (int64_t m = 0; m <= 255; ++m) ASSERT_EQ(ideal.noiseless_code(m), table.noiseless_code(m)) << "m " << m;
    spec.converter = nullptr;
    expect_same_products(spec, static_cast<uint64_t>(bits));
  }
  // With noise the code distributions agree too.
  Spec noisy;
  noisy.adc_bits = 6;
  noisy.additive_sigma_fs = 0.7 / 63;
  Readout ideal(noisy, 1, true);
  noisy.converter = std::make_shared<ThresholdConverter>(6, ThresholdConverter::ideal_thresholds_lsb(6));
  Readout table(noisy, 1, true);
  for (int64_t m : {0, 3, 100, 254}) {
    const auto p = ideal.code_probabilities(m), q = table.code_probabilities(m);
    for (std::size_t c = 0; c < p.size(); ++c) EXPECT_NEAR(p[c], q[c], 1e-12) << "m " << m << " code " << c;
  }
}

TEST(AdcTransfer, InlShiftsCodesWhereTheThresholdsMoved) {
  Spec spec;
  spec.adc_bits = 4;  // 1 LSB = 17 MACs at N = 255
  auto thresholds = ThresholdConverter::ideal_thresholds_lsb(4);
  thresholds[4] += 0.5;  // code 5 starts at 5 LSB = 85 MACs instead of 4.5 LSB = 76.5
  spec.converter = std::make_shared<ThresholdConverter>(4, thresholds);
  Readout readout(spec, 1, true);
  EXPECT_EQ(readout.noiseless_code(77), 4);
  EXPECT_EQ(readout.noiseless_code(84), 4);
  EXPECT_EQ(readout.noiseless_code(85), 5);
  EXPECT_EQ(readout.noiseless_code(76), 4);
  EXPECT_FALSE(readout.noisy());
}

CcoDesign reference_cco(int bits, const std::string& corner, double vdd_v) {
  const auto table = default_cco_operating_points();
  CcoDesign design;
  design.bits = bits;
  design.design = cco_operating_point(table, "TT", 0.9);
  design.operating = cco_operating_point(table, corner, vdd_v);
  return design;
}

TEST(AdcCco, WindowSpansTheCodesAtTheDesignPoint) {
  const CcoConverter cco(reference_cco(6, "TT", 0.9));
  EXPECT_NEAR(cco.ideal_count(0.0), 0.0, 0.5);   // the offset is a whole number of counts
  EXPECT_NEAR(cco.ideal_count(1.0), 63.0, 0.5);  // full scale spans all 63 levels
  // Saturation compresses: mid-scale lands above half the codes.
  EXPECT_GT(cco.ideal_count(0.5), 31.5);
  EXPECT_TRUE(cco.random());
}

TEST(AdcCco, RandomPhaseMakesTheMeanCodeTheMeanCount) {
  const CcoConverter cco(reference_cco(5, "SS", 0.7));
  std::vector<double> at_least(31);
  for (double v : {0.1, 0.37, 0.8}) {
    const double x = cco.ideal_count(v);
    ASSERT_GT(x, 0.0);
    ASSERT_LT(x, 31.0);
    cco.exceedance(v, 0.0, at_least.data());
    double mean = 0;
    for (double p : at_least) mean += p;  // E[code] = sum_k P(code >= k)
    EXPECT_NEAR(mean, x, 1e-9);
    // Only floor(x) and floor(x) + 1 occur, with probabilities 1 - frac(x) and frac(x).
    const int low = static_cast<int>(std::floor(x));
    EXPECT_DOUBLE_EQ(at_least[static_cast<std::size_t>(low) - 1], 1.0);
    EXPECT_NEAR(at_least[static_cast<std::size_t>(low)], x - low, 1e-12);
    if (low + 1 < 31) {
      EXPECT_DOUBLE_EQ(at_least[static_cast<std::size_t>(low) + 1], 0.0);
    }
  }
  // Input noise averages the dither: the mean code is still the mean count where no clipping occurs.
  cco.exceedance(0.5, 0.01, at_least.data());
  double noisy_mean = 0;
  for (double p : at_least) noisy_mean += p;
  EXPECT_NEAR(noisy_mean, cco.ideal_count(0.5), 0.05);  // curvature only
}

TEST(AdcCco, EnergyPerConversionIsCVSquaredTimesOscillations) {
  auto design = reference_cco(6, "TT", 0.9);
  design.c_eff_ff = 10;
  const CcoConverter cco(design);
  // Hand: f(I_fs) = f0 + K I / (1 + I / Isat) = 100 + 20 * 5 / 1.05 = 195.238 MHz at TT 0.9 V;
  // window = 63 / (195.238 - 100) MHz = 661.5 ns; E = 10 fF * 0.81 V^2 * 195.238 MHz * 661.5 ns.
  EXPECT_NEAR(cco.window_ns(), 661.5, 1e-9);
  EXPECT_NEAR(cco.energy_pj(1.0), 10e-15 * 0.81 * (100 + 100 / 1.05) * 1e6 * 661.5e-9 * 1e12, 1e-9);
  // Lower supply: less energy per conversion.
  design.operating = cco_operating_point(default_cco_operating_points(), "TT", 0.6);
  EXPECT_LT(CcoConverter(design).energy_pj(1.0), 0.5 * cco.energy_pj(1.0));
}

TEST(AdcCco, OperatingPointsInterpolateInVddAndRejectUnknownPoints) {
  const auto table = default_cco_operating_points();
  const auto lo = cco_operating_point(table, "FF", 0.7), hi = cco_operating_point(table, "FF", 0.8);
  const auto mid = cco_operating_point(table, "FF", 0.75);
  EXPECT_NEAR(mid.f0_mhz, 0.5 * (lo.f0_mhz + hi.f0_mhz), 1e-9);
  EXPECT_NEAR(mid.isat_ua, 0.5 * (lo.isat_ua + hi.isat_ua), 1e-9);
  expect_invalid([&] { cco_operating_point(table, "XX", 0.8); }, "no CCO operating point for corner 'XX'");
  expect_invalid([&] { cco_operating_point(table, "TT", 1.2); }, "outside corner TT's table range [0.6, 1]");
  auto doubled = table;
  doubled.push_back(table.front());
  expect_invalid([&] { cco_operating_point(doubled, "TT", 0.8); }, "lists V_DD");
}

TEST(AdcVariation, ColumnGainAndOffsetFollowTheirSigma) {
  const Variation variation{0.03, 0.4, 77};
  const int columns = 40000;
  double gain_sum = 0, gain_sq = 0, offset_sum = 0, offset_sq = 0;
  for (int c = 0; c < columns; ++c) {
    const auto error = column_error(variation, static_cast<uint64_t>(c));
    gain_sum += error.gain - 1;
    gain_sq += (error.gain - 1) * (error.gain - 1);
    offset_sum += error.offset_lsb;
    offset_sq += error.offset_lsb * error.offset_lsb;
  }
  // Sample mean within 4 standard errors; sample sigma within 3 % (its standard error is ~0.35 %).
  EXPECT_NEAR(gain_sum / columns, 0.0, 4 * 0.03 / std::sqrt(columns));
  EXPECT_NEAR(std::sqrt(gain_sq / columns), 0.03, 0.03 * 0.03);
  EXPECT_NEAR(offset_sum / columns, 0.0, 4 * 0.4 / std::sqrt(columns));
  EXPECT_NEAR(std::sqrt(offset_sq / columns), 0.4, 0.4 * 0.03);
  // A chip instance is a pure function of its seed.
  EXPECT_EQ(column_error(variation, 5).gain, column_error(variation, 5).gain);
  EXPECT_NE(column_error(variation, 5).gain, column_error({0.03, 0.4, 78}, 5).gain);
}

TEST(AdcVariation, ColumnErrorShiftsTheInputOfTheConverter) {
  auto ideal = std::make_shared<ThresholdConverter>(4, ThresholdConverter::ideal_thresholds_lsb(4));
  const ColumnConverter column(ideal, {1.1, -0.5});
  // v = 6 LSB: the column sees 1.1 * 6 - 0.5 = 6.1 LSB, code 6; v = 7 LSB: 7.2 LSB, code 7;
  // v = 12 LSB: 12.7 LSB, code 13 (the ideal converter gives 12).
  EXPECT_EQ(column.code(6.0 / 15), 6);
  EXPECT_EQ(column.code(7.0 / 15), 7);
  EXPECT_EQ(column.code(12.0 / 15), 13);
}

TEST(AdcReadout, CcoCodesFollowTheirDistributionAndTheKernelMatchesTheReference) {
  Spec spec;
  spec.adc_bits = 6;
  spec.converter = std::make_shared<CcoConverter>(reference_cco(6, "SS", 0.6));
  spec.additive_sigma_fs = 0.3 / 63;
  EXPECT_TRUE(spec.noisy());
  Readout readout(spec, 1, true);
  for (int64_t mac : {0, 40, 200}) {
    const auto p = readout.code_probabilities(mac);
    std::vector<int> counts(p.size(), 0);
    const int draws = 100000;
    for (int d = 0; d < draws; ++d) {
      ++counts[static_cast<std::size_t>(readout.sample_code(mac, static_cast<uint32_t>(counter_hash(5, mac, d))))];
    }
    for (std::size_t c = 0; c < p.size(); ++c) {
      const double sd = std::sqrt(draws * p[c] * (1 - p[c])) + 1;
      EXPECT_NEAR(counts[c], draws * p[c], 5 * sd) << "mac " << mac << " code " << c;
    }
  }
  // The fast kernel (where the CPU has it) and the scalar path agree bit for bit.
  const Engine engine(spec);
  std::mt19937 rng(3);
  const ProductShape shape{7, 20, 64, 9};
  std::vector<int32_t> x(static_cast<std::size_t>(shape.rows * shape.depth())), w(static_cast<std::size_t>(shape.cols * shape.depth()));
  for (auto& v : x) v = static_cast<int32_t>(rng() % 256) * static_cast<int32_t>(rng() % 2);
  for (auto& v : w) v = static_cast<int32_t>(rng() % 256) - 128;
  std::vector<float> fast(static_cast<std::size_t>(shape.rows * shape.cols)), reference(fast.size());
  const analog_sram::NoiseKey key{9, 0, 1};
  engine.matmul(shape, x.data(), w.data(), key, fast.data(), nullptr);
  engine.matmul_reference(shape, x.data(), w.data(), key, reference.data(), nullptr);
  EXPECT_EQ(fast, reference);
}

TEST(AdcReadout, ParasiticCapacitanceScalesTheColumnValue) {
  Spec spec;
  spec.adc_bits = 8;
  spec.parasitic_capacitance_ratio = 255.0 / 9;  // N / (N + r) = 0.9
  Readout readout(spec, 1, true);
  EXPECT_NEAR(readout.analog_value(200), 200.0 / 255 * 0.9, 1e-12);
  EXPECT_EQ(readout.noiseless_code(200), 180);  // round(200 * 0.9)
  EXPECT_FALSE(readout.lossless());
}

}  // namespace
}  // namespace bitline::core::adc

namespace bitline::core::adc {
namespace {

TEST(AdcCharacterize, IdealConverterHasItsBitsOfEnobAndNoInlOrDnl) {
  const ThresholdConverter ideal(6, ThresholdConverter::ideal_thresholds_lsb(6));
  const auto result = characterize(ideal, CharacterizeOptions{});
  ASSERT_EQ(result.transition_lsb.size(), 63u);
  for (std::size_t k = 0; k < 63; ++k) EXPECT_NEAR(result.transition_lsb[k], k + 0.5, 1e-9);
  EXPECT_LT(result.linearity.max_abs_inl_lsb, 1e-9);
  EXPECT_LT(result.linearity.max_abs_dnl_lsb, 1e-9);
  EXPECT_EQ(result.missing_codes, 0);
  // Quantization error uniform over +-1/2 LSB: RMS 1/sqrt(12), so the ramp's ENOB is the bits.
  EXPECT_NEAR(result.ramp_rms_error_lsb, 1.0 / std::sqrt(12.0), 0.005);
  EXPECT_NEAR(result.ramp_enob_bits, 6.0, 0.02);
  // Sine over the full scale: SNDR = 6.02 N + 1.76 dB for N bits (the range is 63, not 64, LSB).
  EXPECT_NEAR(result.sine_enob_bits, std::log2(63.0), 0.1);
  EXPECT_EQ(result.energy_mean_pj, 0.0);
}

TEST(AdcCharacterize, TransitionsOfATableAreItsThresholdsAndNoiseCostsEnob) {
  std::vector<double> inl(15, 0.0);
  inl[6] = 0.4;
  inl[7] = -0.3;
  const auto table = ThresholdConverter::from_inl(4, inl);
  const auto clean = characterize(table, CharacterizeOptions{});
  for (std::size_t k = 0; k < 15; ++k) EXPECT_NEAR(clean.transition_lsb[k], table.thresholds_lsb()[k], 1e-9);
  EXPECT_NEAR(clean.linearity.max_abs_inl_lsb, 0.4, 1e-9);
  EXPECT_NEAR(clean.linearity.max_abs_dnl_lsb, 0.7, 1e-9);  // T(8) - T(7) - 1 = -0.7
  CharacterizeOptions noisy;
  noisy.noise_sigma_lsb = 0.5;
  const auto with_noise = characterize(table, noisy);
  // Noise keeps the 50 % points of a symmetric table but adds error power.
  EXPECT_NEAR(with_noise.transition_lsb[2], table.thresholds_lsb()[2], 1e-6);
  EXPECT_LT(with_noise.ramp_enob_bits, clean.ramp_enob_bits - 0.3);
  EXPECT_LT(with_noise.sine_enob_bits, clean.sine_enob_bits - 0.3);
}

}  // namespace
}  // namespace bitline::core::adc

namespace bitline::core::adc {
namespace {

// A W2 A1 macro with 15 rows per conversion in packed tiles and a 4-bit ADC: 1 code = 1 MAC.
Spec w2a1_macro() {
  Spec spec;
  spec.weight_bits = 2;
  spec.input_bits = 1;
  spec.rows_per_conversion = 15;
  spec.adc_bits = 4;
  spec.row_mapping = analog_sram::RowMapping::Packed;
  return spec;
}

TEST(AdcVariation, EachPhysicalColumnReadsThroughItsOwnErrorInTheMacro) {
  // One input row against 3 output columns of a W2 A1 macro, N = 15 rows, 4-bit ADC: lossless
  // without variation. With it, every (tile, column, weight bit) conversion is the column-error
  // converter's code, rebuilt here from the documented key counter_hash(layer, tile, o, i).
  Spec spec = w2a1_macro();
  spec.variation = {0.05, 0.6, 21};
  const Engine engine(spec);
  EXPECT_FALSE(engine.lossless());
  const ProductShape shape{1, 3, 30, 1};  // two tiles of 15 rows
  std::mt19937 rng(4);
  std::vector<int32_t> x(30), w(90);
  for (auto& v : x) v = static_cast<int32_t>(rng() % 2);
  for (auto& v : w) v = static_cast<int32_t>(rng() % 4) - 2;
  const analog_sram::NoiseKey key{1234, 0, 1};
  std::vector<float> out(3);
  analog_sram::Events events;
  engine.matmul(shape, x.data(), w.data(), key, out.data(), &events);
  EXPECT_TRUE(events == engine.count(shape));
  const auto ideal = std::make_shared<ThresholdConverter>(4, ThresholdConverter::ideal_thresholds_lsb(4));
  for (int o = 0; o < 3; ++o) {
    double expected = 0;
    for (int t = 0; t < 2; ++t) {
      for (int i = 0; i < 2; ++i) {
        int mac = 0;
        for (int k = 15 * t; k < 15 * t + 15; ++k) mac += x[k] * ((static_cast<uint32_t>(w[o * 30 + k]) >> i) & 1);
        const ColumnConverter column(ideal, column_error(spec.variation, counter_hash(key.layer, t, o, i)));
        const int sign = i == 1 ? -1 : 1;  // two's complement MSB
        expected += sign * (1 << i) * column.code(mac / 15.0);  // 1 code = 1 MAC here
      }
    }
    EXPECT_FLOAT_EQ(out[o], static_cast<float>(expected)) << "column " << o;
  }
  // Another chip instance reads differently; the same one again identically.
  auto other = spec;
  other.variation.chip_seed = 22;
  std::vector<float> again(3), different(3);
  engine.matmul(shape, x.data(), w.data(), key, again.data(), nullptr);
  Engine(other).matmul(shape, x.data(), w.data(), key, different.data(), nullptr);
  EXPECT_EQ(out, again);
  EXPECT_NE(out, different);
}

TEST(AdcVariation, MeasuredColumnTablesRepeatAcrossTheArrayAndCombineWithVariation) {
  // Three measured tables (4-bit, 1 code = 1 MAC at N = 15) for a W2 A1 macro with 4 output
  // columns: physical column p = 2 o + i reads table p % 3 in both row tiles. Rebuilt here by hand;
  // then the same with a chip's gain/offset errors on top of each table.
  auto shifted = [](double shift_lsb) {
    auto thresholds = ThresholdConverter::ideal_thresholds_lsb(4);
    for (auto& t : thresholds) t += shift_lsb;
    return std::make_shared<ThresholdConverter>(4, thresholds);
  };
  Spec spec = w2a1_macro();
  spec.column_converters = {shifted(0.0), shifted(0.45), shifted(-0.7)};
  const ProductShape shape{1, 4, 30, 1};
  std::mt19937 rng(6);
  std::vector<int32_t> x(30), w(120);
  for (auto& v : x) v = static_cast<int32_t>(rng() % 2);
  for (auto& v : w) v = static_cast<int32_t>(rng() % 4) - 2;
  const analog_sram::NoiseKey key{99, 0, 1};
  for (const bool with_variation : {false, true}) {
    if (with_variation) spec.variation = {0.04, 0.3, 5};
    const Engine engine(spec);
    EXPECT_FALSE(engine.lossless());
    std::vector<float> out(4), reference(4);
    engine.matmul(shape, x.data(), w.data(), key, out.data(), nullptr);
    engine.matmul_reference(shape, x.data(), w.data(), key, reference.data(), nullptr);
    EXPECT_EQ(out, reference);
    for (int o = 0; o < 4; ++o) {
      double expected = 0;
      for (int t = 0; t < 2; ++t) {
        for (int i = 0; i < 2; ++i) {
          int mac = 0;
          for (int k = 15 * t; k < 15 * t + 15; ++k) mac += x[k] * ((static_cast<uint32_t>(w[o * 30 + k]) >> i) & 1);
          std::shared_ptr<const Converter> table = spec.column_converters[static_cast<std::size_t>(2 * o + i) % 3];
          if (with_variation) {
            table = std::make_shared<ColumnConverter>(table, column_error(spec.variation, counter_hash(key.layer, t, o, i)));
          }
          expected += (i == 1 ? -1 : 1) * (1 << i) * table->code(mac / 15.0);
        }
      }
      EXPECT_FLOAT_EQ(out[o], static_cast<float>(expected)) << "column " << o << (with_variation ? " with variation" : "");
    }
  }
}

}  // namespace
}  // namespace bitline::core::adc
