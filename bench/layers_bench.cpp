// Quantized (integer-reference) layers against the fp32 LibTorch layer on the same shapes.
// Run: build/bench/bitline_bench --benchmark_counters_tabular=true
// Ratio = time(quantized) / time(float) of the same shape, both measured in this run.
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include "core/analog_sram/macro_type.h"
#include "core/digital_sram/digital_sram.h"
#include "nn/model.h"
#include "nn/quant_layers.h"
#include "nn/runtime.h"

namespace {

using bitline::nn::LayerMode;

// Sets the layer's static input range from one training-mode pass over `input`; leaves it in eval mode.
void observe_input_range(bitline::nn::QConv2d& conv, const torch::Tensor& input) {
  conv->train();
  conv->set_observer_phase(bitline::nn::ObserverPhase::Track);
  conv->forward(input);
  conv->eval();
}

// DESIGN.md's reference layer: conv 64->64, 3x3, pad 1, 32x32, batch 8.
void BM_ReferenceConv(benchmark::State& state) {
  const auto mode = static_cast<LayerMode>(state.range(0));
  bitline::nn::set_threads(static_cast<int>(state.range(1)));
  torch::manual_seed(0);
  bitline::nn::QConv2d conv(bitline::nn::QConv2dOptions{64, 64, 3, 1, 1, 1, 1, false});
  auto input = torch::rand({8, 64, 32, 32});
  observe_input_range(conv, input);
  auto spec = conv->spec();
  spec.mode = mode;
  conv->set_spec(spec);
  torch::NoGradGuard no_grad;
  for (auto _ : state) benchmark::DoNotOptimize(conv->forward(input));
  state.SetLabel(mode == LayerMode::Float ? "fp32" : "W8A8 integer reference");
  state.counters["GMAC/s"] = benchmark::Counter(8.0 * 64 * 64 * 9 * 32 * 32 * 1e-9 * state.iterations(),
                                                benchmark::Counter::kIsRate);
}
BENCHMARK(BM_ReferenceConv)
    ->ArgsProduct({{static_cast<int64_t>(LayerMode::Float), static_cast<int64_t>(LayerMode::Quantized)}, {1, 2}})
    ->ArgNames({"mode", "threads"})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// The analog SRAM macro of the benchmarks: W8A8 (set per layer), N = 255, bit-serial, this ADC and
// Gaussian noise of sigma LSB.
std::shared_ptr<const bitline::core::MacroSpec> analog_macro(int adc_bits, double sigma_lsb,
                                                             bitline::core::adc::Variation variation = {}) {
  bitline::core::analog_sram::Spec macro;
  macro.rows_per_conversion = 255;
  macro.adc_bits = adc_bits;
  macro.additive_sigma_fs = sigma_lsb / ((1 << adc_bits) - 1);
  macro.variation = variation;
  return std::make_shared<bitline::core::analog_sram::AnalogSramSpec>(macro);
}

// The all-digital SRAM macro of the benchmarks: N = 255, bit-serial.
std::shared_ptr<const bitline::core::MacroSpec> digital_macro() {
  return std::make_shared<bitline::core::digital_sram::DigitalSramSpec>(bitline::core::digital_sram::Spec{});
}

// The same layer in simulate mode (W8A8, N = 255, bit-serial) on the analog SRAM macro: variant 0
// = 7-bit ADC noise-free (lossy, so the macro kernel runs), 1 = 8-bit ADC with sigma = 1 LSB,
// 2 = 6-bit ADC with sigma = 1 LSB, 3 = variant 0 with a per-column transfer (every physical
// column's own gain and offset, docs/adc.md); and variant 4 on the all-digital SRAM macro (exact:
// the integer reference's product plus the macro's event count). Divide by BM_ReferenceConv/mode:0
// at the same threads; variant 3 / variant 0 is the cost of per-column transfers, variant 4 /
// BM_ReferenceConv/mode:1 that of simulating the digital macro.
void BM_SimulatedConv(benchmark::State& state) {
  const int variant = static_cast<int>(state.range(0));
  bitline::nn::set_threads(static_cast<int>(state.range(1)));
  torch::manual_seed(0);
  bitline::nn::QConv2d conv(bitline::nn::QConv2dOptions{64, 64, 3, 1, 1, 1, 1, false});
  // Post-ReLU-like input: half zeros.
  auto input = torch::relu(torch::randn({8, 64, 32, 32}));
  observe_input_range(conv, input);
  auto spec = conv->spec();
  spec.mode = LayerMode::Simulate;
  const bool noise_free = variant == 0 || variant == 3;
  const int adc_bits = noise_free ? 7 : variant == 1 ? 8 : 6;
  spec.macro = variant == 4 ? digital_macro()
                            : analog_macro(adc_bits, noise_free ? 0.0 : 1.0,
                                           variant == 3 ? bitline::core::adc::Variation{0.02, 0.5, 1}
                                                        : bitline::core::adc::Variation{});
  conv->set_spec(spec);
  torch::NoGradGuard no_grad;
  for (auto _ : state) benchmark::DoNotOptimize(conv->forward(input));
  const char* labels[] = {"simulate 7-bit ADC, noise-free", "simulate 8-bit ADC, 1 LSB noise",
                          "simulate 6-bit ADC, 1 LSB noise", "simulate 7-bit ADC, noise-free, per-column transfer",
                          "simulate digital_sram"};
  state.SetLabel(labels[variant]);
}
BENCHMARK(BM_SimulatedConv)
    ->ArgsProduct({{0, 1, 2, 3, 4}, {1, 2}})
    ->ArgNames({"variant", "threads"})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// Whole network: resnet20 on a batch of 500 Fashion-MNIST-shaped images (the experiments'
// evaluation batch), untrained weights, observers set by one batch. Variant 0 = fp32, 1 = W8A8
// integer reference, 2 = simulate on a W8A8 analog macro with a 6-bit ADC and sigma = 1 LSB (N =
// 255, bit-serial; conv1 computes digitally, as in the experiments), 3 = simulate on the digital
// SRAM macro (conv1 digital too). Ratios: variant 2 / variant 0, variant 3 / variant 1.
void BM_Resnet20Batch(benchmark::State& state) {
  const int variant = static_cast<int>(state.range(0));
  bitline::nn::set_threads(static_cast<int>(state.range(1)));
  torch::manual_seed(0);
  bitline::nn::ModelSpec model_spec;
  model_spec.name = "resnet20";
  auto model = bitline::nn::build_model(model_spec);
  auto images = torch::randn({500, 1, 28, 28});
  const auto layers = bitline::nn::quant_layers(*model);
  for (const auto& [name, layer] : layers) {
    auto spec = layer->spec();
    spec.mode = LayerMode::Quantized;
    spec.weight_granularity = bitline::nn::WeightGranularity::PerChannel;
    spec.activation_scaling = bitline::nn::ActivationScaling::Static;
    layer->set_spec(spec);
  }
  model->train();
  bitline::nn::set_observer_phase(*model, bitline::nn::ObserverPhase::Track);
  {
    torch::NoGradGuard no_grad;
    model->forward(images);
  }
  model->eval();
  for (const auto& [name, layer] : layers) {
    auto spec = layer->spec();
    spec.mode = variant == 0 ? LayerMode::Float : variant >= 2 && name != "conv1" ? LayerMode::Simulate
                                                                                  : LayerMode::Quantized;
    spec.macro = variant == 3 ? digital_macro() : analog_macro(6, 1.0);
    layer->set_spec(spec);
  }
  torch::NoGradGuard no_grad;
  for (auto _ : state) benchmark::DoNotOptimize(model->forward(images));
  const char* labels[] = {"fp32", "W8A8 integer reference", "simulate 6-bit ADC, 1 LSB noise", "simulate digital_sram"};
  state.SetLabel(labels[variant]);
  state.counters["images/s"] = benchmark::Counter(500.0 * state.iterations(), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Resnet20Batch)
    ->ArgsProduct({{0, 1, 2, 3}, {1, 2}})
    ->ArgNames({"variant", "threads"})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
