// The analog SRAM macro product (core::analog_sram::Engine::matmul) on DESIGN.md's reference layer:
// conv 64->64, 3x3, pad 1, 32x32 input, batch 8 as im2col rows (8192 rows x 64 columns, K = 64 x 9
// in 3 channel-aligned tiles of <= 252 rows), W8A8 bit-serial, nrow 255: 100.7 M ADC conversions.
// No LibTorch: the whole simulated layer against LibTorch fp32 is measured in one run by
// bench/layers_bench.cpp (BM_SimulatedConv against BM_ReferenceConv/mode:0). Here: the kernel
// alone, fast path against the scalar reference path.
// Run: build/bench/analog_sram_bench --benchmark_counters_tabular=true
// Counters: Gconv/s = ADC conversions per second.
#include <benchmark/benchmark.h>
#include <omp.h>

#include <random>
#include <vector>

#include "core/analog_sram/engine.h"

namespace {

using namespace bitline::core::analog_sram;

struct ReferenceLayer {
  ProductShape shape{8 * 32 * 32, 64, 64, 9};
  std::vector<int32_t> x, w;
  ReferenceLayer() {
    std::mt19937 rng(1);
    // Post-ReLU-like activations: half zeros, the rest uniform codes; signed 8-bit weights.
    std::uniform_int_distribution<int32_t> code(0, 255), weight(-127, 127);
    std::bernoulli_distribution zero(0.5);
    x.resize(static_cast<std::size_t>(shape.rows * shape.depth()));
    for (auto& v : x) v = zero(rng) ? 0 : code(rng);
    w.resize(static_cast<std::size_t>(shape.cols * shape.depth()));
    for (auto& v : w) v = weight(rng);
  }
};

const ReferenceLayer& reference_layer() {
  static const ReferenceLayer layer;
  return layer;
}

Spec macro_spec(int adc_bits, double sigma_fs) {
  Spec spec;  // W8A8, unsigned inputs, bit-serial, nrow 255, channel-aligned
  spec.adc_bits = adc_bits;
  spec.additive_sigma_fs = sigma_fs;
  spec.seed = 7;
  return spec;
}

void run_product(benchmark::State& state, const Spec& spec, bool reference) {
  const int threads = static_cast<int>(state.range(0));
  omp_set_num_threads(threads);
  const auto& layer = reference_layer();
  const Engine engine(spec);
  std::vector<float> out(static_cast<std::size_t>(layer.shape.rows * layer.shape.cols));
  const NoiseKey key{11, 0, 32 * 32};
  for (auto _ : state) {
    if (reference) {
      engine.matmul_reference(layer.shape, layer.x.data(), layer.w.data(), key, out.data(), nullptr);
    } else {
      engine.matmul(layer.shape, layer.x.data(), layer.w.data(), key, out.data(), nullptr);
    }
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  const double conversions = static_cast<double>(engine.count(layer.shape).total(bitline::core::EventKind::AdcConversion));
  state.counters["Gconv/s"] = benchmark::Counter(1e-9 * conversions * static_cast<double>(state.iterations()),
                                                 benchmark::Counter::kIsRate);
  state.SetLabel(reference || !engine.fast_kernel() ? "scalar reference path" : "fast kernel");
}

// (a) 7-bit ADC, noise-free: lossy, every conversion through the ADC lookup table.
void BM_Adc7NoiseFree(benchmark::State& state) { run_product(state, macro_spec(7, 0.0), false); }
// (b) 8-bit ADC, additive noise sigma = 1 LSB.
void BM_Adc8Sigma1Lsb(benchmark::State& state) { run_product(state, macro_spec(8, 1.0 / 255), false); }
// (c) 6-bit ADC, the same analog noise (1/255 of full scale = 1/4 LSB of the 6-bit ADC).
void BM_Adc6Sigma1Lsb8(benchmark::State& state) { run_product(state, macro_spec(6, 1.0 / 255), false); }
// The scalar reference path on (a) and (b), for the speed-up.
void BM_Reference_Adc7NoiseFree(benchmark::State& state) { run_product(state, macro_spec(7, 0.0), true); }
void BM_Reference_Adc8Sigma1Lsb(benchmark::State& state) { run_product(state, macro_spec(8, 1.0 / 255), true); }

#define BITLINE_PRODUCT_BENCHMARK(name) \
  BENCHMARK(name)->ArgName("threads")->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime()

BITLINE_PRODUCT_BENCHMARK(BM_Adc7NoiseFree);
BITLINE_PRODUCT_BENCHMARK(BM_Adc8Sigma1Lsb);
BITLINE_PRODUCT_BENCHMARK(BM_Adc6Sigma1Lsb8);
BITLINE_PRODUCT_BENCHMARK(BM_Reference_Adc7NoiseFree)->Iterations(1);
BITLINE_PRODUCT_BENCHMARK(BM_Reference_Adc8Sigma1Lsb)->Iterations(1);

}  // namespace

BENCHMARK_MAIN();
