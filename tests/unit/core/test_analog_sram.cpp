#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <numeric>
#include <random>
#include <vector>

#include "core/analog_sram/engine.h"
#include "core/counter_hash.h"

namespace bitline::core::analog_sram {
namespace {

std::vector<int32_t> random_codes(std::mt19937& rng, int64_t count, int64_t lo, int64_t hi) {
  std::uniform_int_distribution<int32_t> dist(static_cast<int32_t>(lo), static_cast<int32_t>(hi));
  std::vector<int32_t> codes(static_cast<std::size_t>(count));
  for (auto& c : codes) c = dist(rng);
  return codes;
}

std::vector<int64_t> exact_product(const ProductShape& s, const std::vector<int32_t>& x, const std::vector<int32_t>& w) {
  std::vector<int64_t> y(static_cast<std::size_t>(s.rows * s.cols), 0);
  for (int64_t r = 0; r < s.rows; ++r)
    for (int64_t o = 0; o < s.cols; ++o)
      for (int64_t k = 0; k < s.depth(); ++k) y[r * s.cols + o] += int64_t{x[r * s.depth() + k]} * w[o * s.depth() + k];
  return y;
}

int64_t max_code(int bits, bool is_signed) { return is_signed ? (int64_t{1} << (bits - 1)) - 1 : (int64_t{1} << bits) - 1; }

TEST(AnalogSramGolden, AsimLinearExampleGives102) {
  // spec/papers.md §5(b) golden example [V:code, run]: 255 -> 1, W2 A2 unsigned, nrow 255, 4-bit
  // ADC, all weights 1, 40 inputs at code 3: every bit-plane MAC is 40 -> code 2 -> 34, so
  // 34 * (1 + 2) = 102 (the ideal integer result is 120).
  Spec spec;
  spec.weight_bits = 2;
  spec.input_bits = 2;
  spec.rows_per_conversion = 255;
  spec.adc_bits = 4;
  spec.row_mapping = RowMapping::Packed;
  Engine engine(spec);
  const ProductShape shape{1, 1, 255, 1};
  std::vector<int32_t> x(255, 0), w(255, 1);
  std::fill(x.begin(), x.begin() + 40, 3);
  float y = 0;
  engine.matmul(shape, x.data(), w.data(), {}, &y, nullptr);
  EXPECT_FLOAT_EQ(y, 102.0f);
  EXPECT_FALSE(engine.lossless());
}

TEST(AnalogSramInvariant, LosslessReadoutIsExactForRandomConfigurations) {
  // DESIGN.md invariant 3. Lossless when the ADC has as many levels as the largest chunk's full
  // scale: (2^e - 1) * N = 2^B - 1 (or a multiple of it).
  std::mt19937 rng(11);
  struct Case { int wbits, xbits, e, adc; int64_t nrow; bool is_signed; RowMapping mapping; int hybrid; };
  const std::vector<Case> cases = {
      {8, 8, 1, 8, 255, false, RowMapping::ChannelAligned, 0}, {4, 4, 1, 4, 15, false, RowMapping::Packed, 0},
      {3, 5, 1, 5, 31, true, RowMapping::Packed, 2},           {6, 4, 2, 4, 5, false, RowMapping::ChannelAligned, 0},
      {5, 7, 2, 4, 5, true, RowMapping::Packed, 1},             {8, 8, 4, 8, 17, false, RowMapping::Packed, 3},
      {2, 3, 3, 3, 1, false, RowMapping::ChannelAligned, 0},    {7, 9, 2, 6, 21, true, RowMapping::Packed, 0},
  };
  for (const auto& c : cases) {
    Spec spec;
    spec.weight_bits = c.wbits;
    spec.input_bits = c.xbits;
    spec.input_bits_per_cycle = c.e;
    spec.adc_bits = c.adc;
    spec.rows_per_conversion = c.nrow;
    spec.signed_inputs = c.is_signed;
    spec.row_mapping = c.mapping;
    spec.hybrid_levels = c.hybrid;
    Engine engine(spec);
    ASSERT_TRUE(engine.lossless()) << c.wbits << "/" << c.xbits << "/" << c.e << "/" << c.adc << "/" << c.nrow;
    const ProductShape shape{5, 4, 7, 9};  // 63 rows of K
    const int64_t xmax = max_code(c.xbits, c.is_signed), wmax = max_code(c.wbits, true);
    const auto x = random_codes(rng, shape.rows * shape.depth(), c.is_signed ? -xmax : 0, xmax);
    const auto w = random_codes(rng, shape.cols * shape.depth(), -wmax, wmax);
    std::vector<float> y(static_cast<std::size_t>(shape.rows * shape.cols));
    engine.matmul(shape, x.data(), w.data(), {}, y.data(), nullptr);
    const auto expected = exact_product(shape, x, w);
    for (std::size_t i = 0; i < y.size(); ++i) ASSERT_EQ(static_cast<int64_t>(y[i]), expected[i]) << "case " << c.wbits;
  }
}

TEST(AnalogSramInvariant, CountEqualsRecordedEvents) {
  std::mt19937 rng(5);
  for (int variant = 0; variant < 6; ++variant) {
    Spec spec;
    spec.input_bits_per_cycle = 1 + variant % 3;
    spec.hybrid_levels = variant % 4;
    spec.top_levels = variant % 2 ? TopLevels::MajorityVote : TopLevels::Digital;
    spec.vote_samples = 3 + 2 * (variant % 2);
    spec.additive_sigma_fs = variant >= 3 ? 0.01 : 0.0;
    spec.rows_per_conversion = 20 + 7 * variant;
    spec.row_mapping = variant % 2 ? RowMapping::Packed : RowMapping::ChannelAligned;
    Engine engine(spec);
    const ProductShape shape{3 + variant, 2 + variant, 5 + variant, variant % 2 ? 1 : 9};
    const auto x = random_codes(rng, shape.rows * shape.depth(), 0, 255);
    const auto w = random_codes(rng, shape.cols * shape.depth(), -127, 127);
    std::vector<float> y(static_cast<std::size_t>(shape.rows * shape.cols));
    // The reference path counts each activation, drive, conversion and addition as it does the work
    // (the SIMD kernel reports count()): count() is checked against an execution.
    Events recorded;
    engine.matmul_reference(shape, x.data(), w.data(), {}, y.data(), &recorded);
    EXPECT_TRUE(recorded == engine.count(shape)) << "variant " << variant;
    EXPECT_EQ(recorded.total(core::EventKind::Mac), shape.rows * shape.cols * shape.depth());
  }
}

TEST(AnalogSramInvariant, PerColumnVariationWithEveryCycleDigitalIsExact) {
  // Regression: with every cycle digital there are no conversions to vary; the SIMD kernel used to
  // build per-column tables from readouts that did not exist, and crashed.
  std::mt19937 rng(6);
  Spec spec;
  spec.hybrid_levels = spec.weight_bits + spec.input_bits;
  spec.variation = {0.02, 0.5, 3};
  Engine engine(spec);
  EXPECT_TRUE(engine.lossless());
  const ProductShape shape{4, 9, 30, 9};
  const auto x = random_codes(rng, shape.rows * shape.depth(), 0, 255);
  const auto w = random_codes(rng, shape.cols * shape.depth(), -127, 127);
  std::vector<float> y(static_cast<std::size_t>(shape.rows * shape.cols));
  engine.matmul(shape, x.data(), w.data(), {}, y.data(), nullptr);
  for (int64_t r = 0; r < shape.rows; ++r) {
    for (int64_t o = 0; o < shape.cols; ++o) {
      int64_t exact = 0;
      for (int64_t k = 0; k < shape.depth(); ++k) exact += int64_t{x[r * shape.depth() + k]} * w[o * shape.depth() + k];
      ASSERT_EQ(y[static_cast<std::size_t>(r * shape.cols + o)], static_cast<float>(exact));
    }
  }
}

TEST(AnalogSramCount, ConversionsPerOutputFollowTheCyclePlan) {
  // spec/papers.md §5(b) derived facts: W8A8 conversions per output and tile: 64 bit-serial,
  // 32 with 2-bit and 16 with 4-bit input encoding.
  for (auto [e, expected] : {std::pair{1, 64}, std::pair{2, 32}, std::pair{4, 16}}) {
    Spec spec;
    spec.input_bits_per_cycle = e;
    Engine engine(spec);
    EXPECT_EQ(engine.count({1, 1, 28, 9}).total(core::EventKind::AdcConversion), expected) << e;
    EXPECT_EQ(engine.count({1, 1, 64, 9}).total(core::EventKind::AdcConversion), 3 * expected) << e;  // 3 tiles of 28 channels
  }
}

TEST(AnalogSramTiling, ChannelAlignedPackedAndAsimDroppedChannels) {
  Spec spec;
  auto tiles = row_tiles(spec, 64, 9);
  ASSERT_EQ(tiles.size(), 3u);  // 28 channels x 9 = 252 rows per tile
  EXPECT_EQ(tiles[0].end, 252);
  EXPECT_EQ(tiles[2].begin, 504);
  EXPECT_EQ(tiles[2].end, 576);
  spec.row_mapping = RowMapping::Packed;
  tiles = row_tiles(spec, 64, 9);
  ASSERT_EQ(tiles.size(), 3u);
  EXPECT_EQ(tiles[0].end, 255);
  EXPECT_EQ(tiles[2].end, 576);
  // ASiM's edge case: C = 785 at N = 255 needs 29 channel tiles but ASiM loops 28 times.
  spec.row_mapping = RowMapping::ChannelAligned;
  EXPECT_EQ(row_tiles(spec, 785, 9).size(), 29u);
  spec.asim_drop_channels = true;
  EXPECT_EQ(row_tiles(spec, 785, 9).size(), 28u);
  EXPECT_EQ(row_tiles(spec, 784, 9).size(), 28u);  // nothing dropped below the edge
}

TEST(AnalogSramCycles, HybridLevelsRemoveTheDocumentedNoiseShare) {
  // spec/papers.md §5(b): share of output noise variance removed by making the top L levels
  // digital (bit-serial W8A8, equal sigma per cycle): 56.25%, 84.38%, 94.92%, 98.44%.
  const double expected[] = {0.5625, 0.84375, 0.94922, 0.98438};
  for (int levels = 1; levels <= 4; ++levels) {
    Spec spec;
    spec.hybrid_levels = levels;
    double total = 0, removed = 0;
    int digital = 0;
    for (const auto& c : cycle_plan(spec)) {
      const double variance = std::pow(4.0, c.shift);
      total += variance;
      if (c.kind == CycleKind::Digital) {
        removed += variance;
        ++digital;
      }
    }
    EXPECT_NEAR(removed / total, expected[levels - 1], 5e-5) << levels;  // table gives 2 decimals of %
    EXPECT_EQ(digital, levels * (levels + 1) / 2);  // 1, 3, 6, 10 digital cycles
  }
}

TEST(AnalogSramCycles, SignedInputsTakeTheSignBitAsItsOwnCycle) {
  Spec spec;
  spec.input_bits = 9;
  spec.signed_inputs = true;
  spec.input_bits_per_cycle = 2;
  EXPECT_EQ(input_chunk_count(spec), 5);  // 8 magnitude bits in 4 chunks + the sign bit
  const auto cycles = cycle_plan(spec);
  const auto& sign_cycle = cycles[4];  // weight bit 0, chunk 4
  EXPECT_EQ(sign_cycle.input_first_bit, 8);
  EXPECT_EQ(sign_cycle.input_bit_count, 1);
  EXPECT_EQ(sign_cycle.sign, -1);
  EXPECT_EQ(cycles.back().sign, 1);  // negative weight MSB x negative input MSB
}

TEST(AnalogSramReadout, AdcLsbFractionsOfFullScale) {
  // spec/papers.md §5(b): LSB = 1/(2^B - 1) of full scale: 8 b 0.392%, 6 b 1.587%, 4 b 6.667%.
  for (auto [bits, percent] : {std::pair{8, 0.392}, std::pair{6, 1.587}, std::pair{4, 6.667}}) {
    Spec spec;
    spec.adc_bits = bits;
    EXPECT_NEAR(100.0 / spec.adc_levels(), percent, 5e-4);
  }
  Spec spec;  // N = 256 with 8 bits is lossy: m = 128 reads back as 128.5
  spec.rows_per_conversion = 256;
  Readout readout(spec, 1, false);
  EXPECT_FALSE(readout.lossless());
  EXPECT_NEAR(readout.value(readout.noiseless_code(128)), 128.5, 0.01);  // 128 * 256 / 255
}

TEST(AnalogSramReadout, SampledCodesFollowTheAnalyticDistribution) {
  Spec spec;
  spec.additive_sigma_fs = 1.0 / 255;  // 1 LSB
  spec.asim_mac_sigma_fs = 0.01;
  Readout readout(spec, 1, true);
  for (int64_t mac : {0, 1, 17, 128, 255}) {
    const auto p = readout.code_probabilities(mac);
    std::vector<int> counts(p.size(), 0);
    const int draws = 200000;
    for (int d = 0; d < draws; ++d) ++counts[static_cast<std::size_t>(readout.sample_code(mac, static_cast<uint32_t>(counter_hash(3, mac, d))))];
    for (std::size_t c = 0; c < p.size(); ++c) {
      const double sd = std::sqrt(draws * p[c] * (1 - p[c])) + 1;
      EXPECT_NEAR(counts[c], draws * p[c], 5 * sd) << "mac " << mac << " code " << c;
    }
  }
}

TEST(AnalogSramReadout, NoiseOfOneLsbHasTheExpectedSpread) {
  Spec spec;
  spec.additive_sigma_fs = 1.0 / 255;
  Readout readout(spec, 1, true);
  double sum = 0, sum_sq = 0;
  const int draws = 200000;
  for (int d = 0; d < draws; ++d) {
    const double error = readout.sample_code(128, static_cast<uint32_t>(counter_hash(9, d))) - 128.0;
    sum += error;
    sum_sq += error * error;
  }
  // Rounded N(0, 1) LSB: mean 0, variance 1 + 1/12 (Sheppard's correction).
  EXPECT_NEAR(sum / draws, 0.0, 0.01);
  EXPECT_NEAR(sum_sq / draws, 1.0 + 1.0 / 12, 0.02);
}

TEST(AnalogSramReadout, MajorityVoteStatisticsMatchTheDerivedTable) {
  // spec/papers.md §5(b) [D]: ASiM semantics (Gaussian sigma in LSB, tie -> smallest), away from
  // the clamp. sigma 0.5 LSB: n=1 P(exact) 0.683, n=3 0.763 mean -0.106, n=5 0.871 mean -0.068;
  // sigma 1.0: n=3 0.366 mean -0.455, n=5 0.485 mean -0.220.
  struct Row { double sigma_lsb; int n; double exact, mean; };
  for (const Row& row : {Row{0.5, 1, 0.683, 0.0}, Row{0.5, 3, 0.763, -0.106}, Row{0.5, 5, 0.871, -0.068},
                         Row{1.0, 3, 0.366, -0.455}, Row{1.0, 5, 0.485, -0.220}}) {
    Spec spec;
    spec.additive_sigma_fs = row.sigma_lsb / 255;
    Readout readout(spec, 1, true);
    int exact = 0;
    double sum = 0;
    const int trials = 100000;
    int32_t codes[5];
    for (int t = 0; t < trials; ++t) {
      for (int v = 0; v < row.n; ++v) codes[v] = readout.sample_code(128, static_cast<uint32_t>(counter_hash(21, t, v)));
      const int32_t winner = majority_vote(codes, row.n, VoteTieRule::Smallest);
      exact += winner == 128;
      sum += winner - 128;
    }
    EXPECT_NEAR(static_cast<double>(exact) / trials, row.exact, 0.01) << row.sigma_lsb << " n=" << row.n;
    EXPECT_NEAR(sum / trials, row.mean, 0.015) << row.sigma_lsb << " n=" << row.n;
  }
}

TEST(AnalogSramReadout, TieRulesPickTheDocumentedCode) {
  const int32_t codes[] = {7, 5, 9};
  EXPECT_EQ(majority_vote(codes, 3, VoteTieRule::Smallest), 5);
  EXPECT_EQ(majority_vote(codes, 3, VoteTieRule::Largest), 9);
  EXPECT_EQ(majority_vote(codes, 3, VoteTieRule::ClosestToMean), 7);
  const int32_t clear[] = {4, 6, 6, 4, 6};
  EXPECT_EQ(majority_vote(clear, 5, VoteTieRule::Smallest), 6);
}

TEST(AnalogSramReadout, GainCompressionLowersLargeMacs) {
  Spec spec;
  spec.gain_compression_alpha = 0.2;
  Readout readout(spec, 1, false);
  EXPECT_EQ(readout.noiseless_code(0), 0);
  // v = 1 -> 1 / 1.2 of full scale
  EXPECT_EQ(readout.noiseless_code(255), static_cast<int32_t>(std::nearbyint(255 / 1.2f)));
}

TEST(AnalogSramNoise, ResultIsIndependentOfThreadsAndBatchSplit) {
  Spec spec;
  spec.additive_sigma_fs = 1.0 / 255;
  spec.hybrid_levels = 2;
  spec.top_levels = TopLevels::MajorityVote;
  Engine engine(spec);
  std::mt19937 rng(8);
  const ProductShape shape{12, 5, 30, 9};
  const auto x = random_codes(rng, shape.rows * shape.depth(), 0, 255);
  const auto w = random_codes(rng, shape.cols * shape.depth(), -127, 127);
  const NoiseKey key{7, 100, 3};  // 4 samples of 3 rows
  auto run = [&](int threads) {
    omp_set_num_threads(threads);
    std::vector<float> y(static_cast<std::size_t>(shape.rows * shape.cols));
    engine.matmul(shape, x.data(), w.data(), key, y.data(), nullptr);
    return y;
  };
  const auto one = run(1), two = run(2);
  EXPECT_EQ(one, two);
  // The second half of the batch alone (samples 102, 103) gives the same rows.
  ProductShape half = shape;
  half.rows = 6;
  std::vector<float> y_half(static_cast<std::size_t>(half.rows * half.cols));
  engine.matmul(half, x.data() + 6 * shape.depth(), w.data(), {7, 102, 3}, y_half.data(), nullptr);
  EXPECT_TRUE(std::equal(y_half.begin(), y_half.end(), one.begin() + 6 * shape.cols));
  // Another seed gives other noise.
  Spec other = spec;
  other.seed = 1;
  std::vector<float> y_other(one.size());
  Engine(other).matmul(shape, x.data(), w.data(), key, y_other.data(), nullptr);
  EXPECT_NE(one, y_other);
}

TEST(AnalogSramSpec, InvalidSpecsAreRejected) {
  Spec spec;
  spec.rows_per_conversion = 0;
  EXPECT_THROW(validate(spec), std::invalid_argument);
  spec = Spec{};
  spec.adc_bits = 17;
  EXPECT_THROW(validate(spec), std::invalid_argument);
  spec = Spec{};
  spec.input_bits_per_cycle = 9;
  EXPECT_THROW(validate(spec), std::invalid_argument);
  // Readout tables of (2^e - 1) N + 1 entries: 16-bit chunks over 65536 rows would take gigabytes.
  spec = Spec{};
  spec.input_bits = 16;
  spec.input_bits_per_cycle = 16;
  spec.rows_per_conversion = 65536;
  EXPECT_THROW(validate(spec), std::invalid_argument);
  spec.rows_per_conversion = 256;  // 65535 x 256 < 2^24
  EXPECT_NO_THROW(validate(spec));
}

}  // namespace
}  // namespace bitline::core::analog_sram
