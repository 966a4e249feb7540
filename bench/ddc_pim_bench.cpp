// DDC-PIM (docs/performance.md): the FCC matching of EfficientNet-B0's largest layer, a paired layer
// on the ddc_pim macro against its integer reference, and an FCC training step against a QAT step,
// each baseline measured in this run. Run: build/bench/ddc_pim_bench --benchmark_counters_tabular=true
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <random>

#include "core/ddc_pim/macro.h"
#include "core/digital_sram/digital_sram.h"
#include "core/ddc_pim/pairing.h"
#include "nn/model.h"
#include "nn/quant_layers.h"
#include "nn/runtime.h"

namespace {

using bitline::nn::LayerMode;
namespace ddc = bitline::core::ddc_pim;

// EfficientNet-B0's largest layer, the 1x1 head conv: 1280 filters of 320 weights, as 8-bit codes of a
// trained layer (roughly normal, a quarter of the range wide). Variant 0 = exact, 1 = greedy.
void BM_DdcPimPairing(benchmark::State& state) {
  const int64_t filters = 1280, depth = 320;
  std::mt19937 rng(1);
  std::normal_distribution<double> weight(0.0, 32.0);
  std::vector<int32_t> codes(static_cast<std::size_t>(filters * depth));
  for (auto& code : codes) code = static_cast<int32_t>(std::clamp(std::lround(weight(rng)), -127L, 127L));
  const auto matching = state.range(0) == 0 ? ddc::Matching::Exact : ddc::Matching::Greedy;
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        ddc::pair_filters(codes.data(), filters, depth, ddc::complement_sum_twos_complement(), matching));
  }
  state.SetLabel(state.range(0) == 0 ? "exact (LEMON)" : "greedy");
}
BENCHMARK(BM_DdcPimPairing)->Arg(0)->Arg(1)->ArgName("matching")->Unit(benchmark::kMillisecond)->UseRealTime();

std::shared_ptr<bitline::nn::FilterPairing> adjacent_pairs(int64_t filters) {
  auto pairing = std::make_shared<bitline::nn::FilterPairing>();
  for (int64_t i = 0; i + 1 < filters; i += 2) pairing->pairs.emplace_back(i, i + 1);
  return pairing;
}

void set_mode(bitline::nn::QuantLayer& layer, LayerMode mode, bool paired, int64_t filters,
              std::shared_ptr<const bitline::core::MacroSpec> macro = std::make_shared<ddc::DdcPimSpec>(ddc::Spec{})) {
  bitline::nn::LayerQuantSpec spec;
  spec.mode = mode;
  if (mode == LayerMode::Simulate) spec.macro = std::move(macro);
  if (paired) spec.pairing = adjacent_pairs(filters);
  layer.set_spec(spec);
}

// A MobileNetV2 block's layers on 28x28 (batch 8): pointwise 96 -> 96 or depthwise 96 channels 3x3.
// Variant 0 = fp32, 1 = integer reference (quantized), 2 = the integer reference with the pairs tied,
// 3 = simulate on ddc_pim, pairs tied, 4 = simulate on digital_sram, unpaired (for comparison).
void BM_DdcPimLayer(benchmark::State& state) {
  const bool depthwise = state.range(0) == 1;
  const auto variant = state.range(1);
  bitline::nn::set_threads(2);
  torch::manual_seed(0);
  bitline::nn::QConv2d conv(depthwise ? bitline::nn::QConv2dOptions{96, 96, 3, 1, 1, 1, 96, false}
                                      : bitline::nn::QConv2dOptions{96, 96, 1, 1, 0, 1, 1, false});
  const auto input = torch::rand({8, 96, 28, 28});
  torch::NoGradGuard no_grad;
  conv->set_observer_phase(bitline::nn::ObserverPhase::Calibrate);
  conv->forward(input);
  conv->set_observer_phase(bitline::nn::ObserverPhase::Frozen);
  const char* labels[] = {"fp32", "integer reference", "integer reference, paired", "ddc_pim, paired",
                          "digital_sram, unpaired"};
  if (variant == 1 || variant == 2) set_mode(*conv, LayerMode::Quantized, variant == 2, 96);
  if (variant == 3) set_mode(*conv, LayerMode::Simulate, true, 96);
  if (variant == 4) {
    set_mode(*conv, LayerMode::Simulate, false, 96,
             std::make_shared<bitline::core::digital_sram::DigitalSramSpec>(bitline::core::digital_sram::Spec{}));
  }
  for (auto _ : state) benchmark::DoNotOptimize(conv->forward(input));
  state.SetLabel(std::string(depthwise ? "depthwise " : "pointwise ") + labels[variant]);
}
BENCHMARK(BM_DdcPimLayer)
    ->ArgsProduct({{0, 1}, {0, 1, 2, 3, 4}})
    ->ArgNames({"depthwise", "variant"})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// One training step of MobileNetV2 (width 0.5, batch 128, 28x28 Fashion-MNIST-shaped images):
// variant 0 = QAT, 1 = FCC (QAT with every pointwise and depthwise layer's filters tied in pairs).
// An epoch is such steps plus data loading, so the ratio of steps is that of epochs.
void BM_FccTrainingStep(benchmark::State& state) {
  const bool fcc = state.range(0) == 1;
  bitline::nn::set_threads(2);
  torch::manual_seed(0);
  bitline::nn::ModelSpec model_spec;
  model_spec.name = "mobilenetv2";
  model_spec.width_multiplier = 0.5;
  auto model = bitline::nn::build_model(model_spec);
  const auto images = torch::randn({128, 1, 28, 28});
  const auto labels = torch::randint(0, 10, {128}, torch::kLong);
  model->train();
  bitline::nn::set_observer_phase(*model, bitline::nn::ObserverPhase::Track);
  model->forward(images);  // activation ranges before quantized mode
  for (auto& [name, layer] : bitline::nn::quant_layers(*model)) {
    const auto weight = layer->stored_weight();
    const auto* conv = dynamic_cast<const bitline::nn::QConv2dImpl*>(layer.get());
    const bool pairable = conv != nullptr && ((conv->options().groups == 1 && conv->options().kernel_size == 1) ||
                                              conv->options().groups == conv->options().out_channels);
    set_mode(*layer, LayerMode::Quantized, fcc && pairable, weight.defined() ? weight.size(0) : 0);
  }
  torch::optim::SGD optimizer(model->parameters(), torch::optim::SGDOptions(0.01).momentum(0.9));
  for (auto _ : state) {
    optimizer.zero_grad();
    auto loss = torch::nn::functional::cross_entropy(model->forward(images), labels);
    loss.backward();
    optimizer.step();
  }
  state.SetLabel(fcc ? "FCC (pairs tied)" : "QAT");
}
BENCHMARK(BM_FccTrainingStep)->Arg(0)->Arg(1)->ArgName("fcc")->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
