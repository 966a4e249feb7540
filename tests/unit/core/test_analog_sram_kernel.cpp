// The SIMD kernel of Engine::matmul against the scalar reference path: bit for bit equal results
// and events, over random specs and shapes. The kernel needs AVX-512 (with VBMI, VBMI2, VNNI and
// GFNI); on a CPU without it every kernel test skips with that reason, visibly in the suite's summary,
// instead of comparing the reference path with itself. There is no portable SIMD path to test in its
// place (docs/testing.md).
#include <gtest/gtest.h>
#include <omp.h>

#include <random>
#include <sstream>
#include <vector>

#include "core/analog_sram/engine.h"

namespace bitline::core::analog_sram {
namespace {

std::vector<int32_t> random_codes(std::mt19937& rng, int64_t count, int64_t lo, int64_t hi, double zeros) {
  std::uniform_int_distribution<int32_t> dist(static_cast<int32_t>(lo), static_cast<int32_t>(hi));
  std::bernoulli_distribution zero(zeros);
  std::vector<int32_t> codes(static_cast<std::size_t>(count));
  for (auto& c : codes) c = zero(rng) ? 0 : dist(rng);
  return codes;
}

std::string describe(const Spec& s, const ProductShape& shape) {
  std::ostringstream out;
  out << "W" << s.weight_bits << "A" << s.input_bits << (s.signed_inputs ? "s" : "u") << " e" << s.input_bits_per_cycle
      << " N" << s.rows_per_conversion << " adc" << s.adc_bits << " sigma " << s.additive_sigma_fs << "/"
      << s.asim_mac_sigma_fs << "/" << s.physical_mac_sigma_fs << " alpha " << s.gain_compression_alpha << " L"
      << s.hybrid_levels << (s.top_levels == TopLevels::MajorityVote ? " vote" : " digital") << " shape "
      << shape.rows << "x" << shape.cols << " C" << shape.channels << " k" << shape.kernel_area;
  return out.str();
}

// The CPU features the kernel needs, read here independently of the engine's own check.
bool cpu_runs_the_kernel() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vbmi") &&
         __builtin_cpu_supports("avx512vbmi2") && __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("gfni");
}

// Starts each kernel test: a visible skip where the kernel cannot run, else the path it runs, recorded.
#define SKIP_WITHOUT_THE_KERNEL()                                                                            \
  if (!cpu_runs_the_kernel()) GTEST_SKIP() << "this CPU lacks AVX-512 VBMI/VBMI2/VNNI/GFNI: the kernel cannot " \
                                              "run here, only the reference path would be compared with itself"; \
  RecordProperty("path", "avx512 kernel")

// Returns whether the kernel ran.
bool expect_same_as_reference(const Spec& spec, const ProductShape& shape, std::mt19937& rng, double zeros) {
  const Engine engine(spec);
  const int64_t xmax = spec.signed_inputs ? (int64_t{1} << (spec.input_bits - 1)) - 1 : (int64_t{1} << spec.input_bits) - 1;
  const int64_t wmax = (int64_t{1} << (spec.weight_bits - 1)) - 1;
  const auto x = random_codes(rng, shape.rows * shape.depth(), spec.signed_inputs ? -xmax - 1 : 0, xmax, zeros);
  const auto w = random_codes(rng, shape.cols * shape.depth(), -wmax - 1, wmax, 0.1);
  const NoiseKey key{rng(), 3, 5};
  std::vector<float> fast(static_cast<std::size_t>(shape.rows * shape.cols)), reference(fast.size());
  Events fast_events, reference_events;
  // With per-column variation both paths read the same cached per-column readouts.
  engine.matmul(shape, x.data(), w.data(), key, fast.data(), &fast_events);
  engine.matmul_reference(shape, x.data(), w.data(), key, reference.data(), &reference_events);
  const std::string what = describe(spec, shape) + (engine.fast_kernel() ? " (kernel)" : " (reference)");
  int mismatches = 0;
  for (std::size_t k = 0; k < fast.size() && mismatches < 5; ++k) {
    if (fast[k] != reference[k]) {
      ++mismatches;
      ADD_FAILURE() << what << ": output " << k << " (row " << k / shape.cols << ", column " << k % shape.cols
                    << ") kernel " << fast[k] << " reference " << reference[k];
    }
  }
  EXPECT_TRUE(fast_events == reference_events) << what;
  EXPECT_TRUE(fast_events == engine.count(shape)) << what;
  return engine.fast_kernel();
}

TEST(AnalogSramKernel, RunsOnTheReferenceLayerSpecWhereTheCpuHasIt) {
  SKIP_WITHOUT_THE_KERNEL();
  Spec spec;
  spec.adc_bits = 7;
  const Engine engine(spec);
  EXPECT_TRUE(engine.fast_kernel());
  spec.input_bits_per_cycle = 2;
  EXPECT_FALSE(Engine(spec).fast_kernel());  // bit-parallel inputs: reference path
}

TEST(AnalogSramKernel, EqualsTheReferencePathOnHandPickedSpecs) {
  SKIP_WITHOUT_THE_KERNEL();
  std::mt19937 rng(42);
  const ProductShape conv{37, 70, 30, 9};   // 3 channel-aligned tiles, two column blocks (one partial)
  const ProductShape linear{9, 13, 300, 1};  // 2 tiles, one partial column block
  std::vector<Spec> specs;
  Spec base;
  specs.push_back(base);  // lossless W8A8
  base.adc_bits = 7;
  specs.push_back(base);  // lossy
  base.adc_bits = 6;
  base.additive_sigma_fs = 1.0 / 255;
  specs.push_back(base);  // noisy, 6-bit
  base.adc_bits = 8;
  specs.push_back(base);  // noisy, 8-bit
  base.hybrid_levels = 3;
  specs.push_back(base);  // digital top levels
  base.top_levels = TopLevels::MajorityVote;
  base.vote_samples = 5;
  specs.push_back(base);  // voted top levels
  base = Spec{};
  base.signed_inputs = true;
  base.adc_bits = 5;
  base.asim_mac_sigma_fs = 0.02;
  base.gain_compression_alpha = 0.1;
  specs.push_back(base);  // signed inputs, MAC-dependent noise, compression
  base = Spec{};
  base.weight_bits = 4;
  base.input_bits = 4;
  base.rows_per_conversion = 100;
  base.adc_bits = 4;
  base.physical_mac_sigma_fs = 0.03;
  base.row_mapping = RowMapping::Packed;
  specs.push_back(base);  // narrow operands, N < 128, physical noise, packed
  base = Spec{};
  base.input_bits = 12;
  base.signed_inputs = true;
  base.weight_bits = 6;
  base.full_scale = FullScale::Calibrated;
  base.calibrated_fraction = 0.3;
  base.adc_bits = 8;
  base.hybrid_levels = 2;
  specs.push_back(base);  // wide inputs, calibrated (clipping) full scale
  base = Spec{};
  base.full_scale = FullScale::Calibrated;
  base.calibrated_fraction = 0.77;
  base.additive_sigma_fs = 0.004;
  specs.push_back(base);  // reconstructed values need two correction bytes
  base = Spec{};
  base.adc_bits = 7;
  std::vector<double> inl_lsb(127);
  for (auto& inl : inl_lsb) inl = std::uniform_real_distribution<double>(-0.45, 0.45)(rng);
  base.converter = std::make_shared<adc::ThresholdConverter>(adc::ThresholdConverter::from_inl(7, inl_lsb));
  specs.push_back(base);  // a converter with INL (a threshold table)
  base.additive_sigma_fs = 0.5 / 127;
  specs.push_back(base);  // the same with noise
  base = Spec{};
  base.adc_bits = 7;
  base.variation = {0.03, 0.4, 5};
  specs.push_back(base);  // per-column gain/offset: each lane reads its own table
  base.adc_bits = 8;
  base.hybrid_levels = 2;
  base.converter = std::make_shared<adc::ThresholdConverter>(adc::ThresholdConverter::from_inl(8, std::vector<double>(255, 0.2)));
  specs.push_back(base);  // wide codes, digital top levels, a table converter, variation
  base = Spec{};
  base.full_scale = FullScale::Calibrated;
  base.calibrated_fraction = 0.4;
  base.variation = {0.0, 1.5, 9};
  specs.push_back(base);  // clipping full scale, offsets only
  base = Spec{};
  base.input_bits_per_cycle = 2;
  base.adc_bits = 6;
  base.additive_sigma_fs = 0.01;
  specs.push_back(base);  // bit-parallel: the reference path on both sides
  for (const auto& spec : specs) {
    expect_same_as_reference(spec, conv, rng, 0.5);
    expect_same_as_reference(spec, linear, rng, 0.0);
  }
}

TEST(AnalogSramKernel, EqualsTheReferencePathOnRandomSpecs) {
  SKIP_WITHOUT_THE_KERNEL();
  std::mt19937 rng(7);
  int kernel_trials = 0;
  for (int trial = 0; trial < 60; ++trial) {
    Spec spec;
    spec.weight_bits = std::uniform_int_distribution<int>(2, 8)(rng);
    spec.signed_inputs = rng() % 3 == 0;
    spec.input_bits = std::uniform_int_distribution<int>(spec.signed_inputs ? 2 : 1, 10)(rng);
    spec.rows_per_conversion = std::uniform_int_distribution<int>(1, 255)(rng);
    spec.row_mapping = rng() % 2 ? RowMapping::Packed : RowMapping::ChannelAligned;
    spec.adc_bits = std::uniform_int_distribution<int>(1, 8)(rng);
    if (rng() % 2) spec.additive_sigma_fs = std::uniform_real_distribution<double>(0.0, 0.05)(rng);
    if (rng() % 4 == 0) spec.asim_mac_sigma_fs = 0.01;
    if (rng() % 4 == 0) spec.gain_compression_alpha = 0.2;
    if (rng() % 3 == 0) {
      spec.full_scale = FullScale::Calibrated;
      spec.calibrated_fraction = std::uniform_real_distribution<double>(0.05, 1.0)(rng);
    }
    spec.hybrid_levels = std::uniform_int_distribution<int>(0, 3)(rng);
    spec.top_levels = rng() % 2 ? TopLevels::MajorityVote : TopLevels::Digital;
    spec.vote_samples = 3;
    spec.seed = rng();
    if (rng() % 4 == 0) spec.variation = {0.02, 0.5, rng()};  // per-column (kernel when noise-free)
    const ProductShape shape{std::uniform_int_distribution<int64_t>(1, 20)(rng),
                             std::uniform_int_distribution<int64_t>(1, 150)(rng),
                             std::uniform_int_distribution<int64_t>(1, 40)(rng), rng() % 2 ? 9 : 1};
    kernel_trials += expect_same_as_reference(spec, shape, rng, rng() % 2 ? 0.5 : 0.0);
  }
  EXPECT_GE(kernel_trials, 40);  // most random specs run the kernel (noisy ones with variation do not)
  RecordProperty("kernel_trials", kernel_trials);
}

TEST(AnalogSramKernel, EqualsTheReferencePathWithLargeMacs) {
  SKIP_WITHOUT_THE_KERNEL();
  // Dense high codes and all-ones weights drive binary MACs up to N: the byte tables' upper halves.
  std::mt19937 rng(19);
  std::vector<Spec> specs(5);
  specs[0].adc_bits = 7;
  specs[1].additive_sigma_fs = 1.0 / 255;
  specs[2].adc_bits = 6;
  specs[2].additive_sigma_fs = 1.0 / 255;
  specs[3].adc_bits = 8;
  specs[3].asim_mac_sigma_fs = 0.02;
  specs[3].hybrid_levels = 2;
  specs[3].top_levels = TopLevels::MajorityVote;
  specs[4].signed_inputs = true;
  specs[4].adc_bits = 5;
  specs[4].hybrid_levels = 3;
  const ProductShape shape{11, 40, 60, 9};
  for (const auto& spec : specs) {
    const Engine engine(spec);
    std::uniform_int_distribution<int32_t> high(spec.signed_inputs ? -128 : 128, spec.signed_inputs ? -1 : 255);
    std::uniform_int_distribution<int32_t> any(-128, 127);
    std::vector<int32_t> x(static_cast<std::size_t>(shape.rows * shape.depth())), w(static_cast<std::size_t>(shape.cols * shape.depth()));
    for (auto& v : x) v = high(rng);
    for (auto& v : w) v = rng() % 4 ? -1 : any(rng);
    std::vector<float> fast(static_cast<std::size_t>(shape.rows * shape.cols)), reference(fast.size());
    engine.matmul(shape, x.data(), w.data(), {5, 0, 4}, fast.data(), nullptr);
    engine.matmul_reference(shape, x.data(), w.data(), {5, 0, 4}, reference.data(), nullptr);
    EXPECT_EQ(fast, reference) << describe(spec, shape);
  }
}

TEST(AnalogSramKernel, PerColumnTransfersEqualTheReferenceAtEveryCountRange) {
  SKIP_WITHOUT_THE_KERNEL();
  // The kernel converts per-column transfers with tables chosen by the largest count of a block of
  // rows (< 32, < 64, < 128, up to 255): dense inputs and mostly all-ones weights on N rows per
  // tile reach counts near N, so each N below exercises one of them; odd weight bits leave part
  // of the shared tables unused, and 12 input bits take two transposes.
  std::mt19937 rng(23);
  for (int rows_per_conversion : {24, 60, 120, 250}) {
    for (const auto& [weight_bits, input_bits] : {std::pair{8, 8}, std::pair{5, 12}, std::pair{3, 4}}) {
      Spec spec;
      spec.weight_bits = weight_bits;
      spec.input_bits = input_bits;
      spec.rows_per_conversion = rows_per_conversion;
      spec.row_mapping = RowMapping::Packed;
      spec.adc_bits = 7;
      spec.variation = {0.03, 0.6, rng()};
      const Engine engine(spec);
      const ProductShape shape{9, 70, 2 * rows_per_conversion + 7, 1};
      std::bernoulli_distribution dense(0.9);
      const int32_t all_ones_input = (1 << input_bits) - 1, weight_limit = (1 << (weight_bits - 1)) - 1;
      std::vector<int32_t> x(static_cast<std::size_t>(shape.rows * shape.depth())), w(static_cast<std::size_t>(shape.cols * shape.depth()));
      for (auto& v : x) v = dense(rng) ? all_ones_input : static_cast<int32_t>(rng() % (all_ones_input + 1));
      for (auto& v : w) v = dense(rng) ? -1 : static_cast<int32_t>(rng() % (2 * weight_limit + 1)) - weight_limit;
      std::vector<float> fast(static_cast<std::size_t>(shape.rows * shape.cols)), reference(fast.size());
      engine.matmul(shape, x.data(), w.data(), {7, 0, 3}, fast.data(), nullptr);
      engine.matmul_reference(shape, x.data(), w.data(), {7, 0, 3}, reference.data(), nullptr);
      EXPECT_EQ(fast, reference) << describe(spec, shape) << (engine.fast_kernel() ? " (kernel)" : " (reference)");
    }
  }
}

TEST(AnalogSramReadout, NoisyCodesOfClippedMacsStayWithinTheAdcRange) {
  // A calibrated full scale clips: MACs far above it must still read as the top code.
  Spec spec;
  spec.full_scale = FullScale::Calibrated;
  spec.calibrated_fraction = 0.3;
  spec.additive_sigma_fs = 0.01;
  const Readout readout(spec, 1, true);
  for (int64_t mac = 0; mac <= readout.max_mac(); ++mac) {
    for (uint32_t u : {0u, 1u, 0x7FFFFFFFu, 0xFFFFFFFFu}) {
      const int32_t code = readout.sample_code(mac, u);
      ASSERT_GE(code, 0) << mac;
      ASSERT_LE(code, spec.adc_levels()) << mac;
    }
  }
  EXPECT_EQ(readout.sample_code(readout.max_mac(), 0), spec.adc_levels());
}

TEST(AnalogSramKernel, NoisyResultIsIndependentOfThreads) {
  Spec spec;
  spec.adc_bits = 6;
  spec.additive_sigma_fs = 1.0 / 255;
  const Engine engine(spec);
  std::mt19937 rng(3);
  const ProductShape shape{50, 64, 64, 9};
  const auto x = random_codes(rng, shape.rows * shape.depth(), 0, 255, 0.5);
  const auto w = random_codes(rng, shape.cols * shape.depth(), -127, 127, 0.0);
  std::vector<float> one(static_cast<std::size_t>(shape.rows * shape.cols)), two(one.size());
  omp_set_num_threads(1);
  engine.matmul(shape, x.data(), w.data(), {1, 0, 7}, one.data(), nullptr);
  omp_set_num_threads(2);
  engine.matmul(shape, x.data(), w.data(), {1, 0, 7}, two.data(), nullptr);
  EXPECT_EQ(one, two);
}

}  // namespace
}  // namespace bitline::core::analog_sram
