// The cost model's speed (issue 5: at least 100k layer-mapping evaluations per second), against
// the accuracy simulation of the same layer in the same run: design-space sweeps must be limited
// by simulation, not by cost.
// Run: build/bench/cost_bench
#include <benchmark/benchmark.h>
#include <omp.h>

#include <random>
#include <vector>

#include "core/analog_sram/engine.h"
#include "core/analog_sram/macro_type.h"
#include "core/cost/cost_model.h"

namespace {

using namespace bitline::core;

// The macro of the reference layer of the other benchmarks: W8A8, N = 255, bit-serial, 7-bit ADC.
analog_sram::Spec reference_macro() {
  analog_sram::Spec spec;
  spec.adc_bits = 7;
  return spec;
}

// The reference layer for one image: 64 -> 64 channels, 3x3, 32x32 outputs.
cost::LayerWorkload reference_layer() {
  cost::LayerWorkload layer;
  layer.name = "conv";
  layer.macro = std::make_shared<analog_sram::Engine>(reference_macro());
  layer.shape = {32 * 32, 64, 64, 9};
  return layer;
}

// A resnet20-shaped network for CIFAR-10: 19 convs (16/32/64 channels at 32/16/8 pixels) and fc.
std::vector<cost::LayerWorkload> resnet20_layers() {
  std::vector<cost::LayerWorkload> layers;
  auto add = [&](int64_t positions, int64_t in, int64_t out, int64_t kernel_area) {
    auto layer = reference_layer();
    layer.name = "layer" + std::to_string(layers.size());
    layer.shape = {positions, out, in, kernel_area};
    layers.push_back(layer);
  };
  add(1024, 3, 16, 9);
  for (int i = 0; i < 6; ++i) add(1024, 16, 16, 9);
  add(256, 16, 32, 9);
  for (int i = 0; i < 5; ++i) add(256, 32, 32, 9);
  add(64, 32, 64, 9);
  for (int i = 0; i < 5; ++i) add(64, 64, 64, 9);
  add(1, 64, 10, 1);
  return layers;
}

void BM_CostLayerMapping(benchmark::State& state) {
  const cost::Hardware hardware;
  const auto components = cost::scaled(hardware.components, hardware.technology);
  const auto layer = reference_layer();
  for (auto _ : state) benchmark::DoNotOptimize(cost::evaluate_layer(hardware, components, layer, 1, 1, false));
  state.counters["mappings/s"] = benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_CostLayerMapping);

void BM_CostResnet20(benchmark::State& state) {
  const cost::Hardware hardware;
  const auto layers = resnet20_layers();
  const analog_sram::AnalogSramSpec macro_type(reference_macro());
  for (auto _ : state) benchmark::DoNotOptimize(cost::evaluate(hardware, macro_type, layers));
  state.counters["networks/s"] = benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_CostResnet20)->Unit(benchmark::kMicrosecond);

// Baseline: simulating the reference layer for one image on the macro (noise-free 7-bit ADC).
void BM_SimulateLayerOneImage(benchmark::State& state) {
  omp_set_num_threads(1);
  const auto layer = reference_layer();
  const analog_sram::Engine engine(reference_macro());
  std::mt19937 rng(1);
  std::vector<int32_t> x(static_cast<std::size_t>(layer.shape.rows * layer.shape.depth()));
  std::vector<int32_t> w(static_cast<std::size_t>(layer.shape.cols * layer.shape.depth()));
  for (auto& v : x) v = rng() % 2 ? 0 : static_cast<int32_t>(rng() % 256);
  for (auto& v : w) v = static_cast<int32_t>(rng() % 255) - 127;
  std::vector<float> out(static_cast<std::size_t>(layer.shape.rows * layer.shape.cols));
  for (auto _ : state) {
    engine.matmul(layer.shape, x.data(), w.data(), {1, 0, 1024}, out.data(), nullptr);
    benchmark::DoNotOptimize(out.data());
  }
}
BENCHMARK(BM_SimulateLayerOneImage)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
