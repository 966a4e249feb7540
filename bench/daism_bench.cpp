// DAISM products against LibTorch fp32 on the same shapes, both measured in this run
// (docs/performance.md). Run: build/bench/daism_bench --benchmark_counters_tabular=true
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include "core/daism/macro.h"
#include "nn/model.h"
#include "nn/quant_layers.h"
#include "nn/runtime.h"

namespace {

using bitline::nn::LayerMode;

// PC2 on bf16 (the paper's target), fp32 accumulation, all three training products.
std::shared_ptr<const bitline::core::MacroSpec> daism_pc2() {
  bitline::core::daism::Spec spec;
  spec.multiplier.operand_bits = spec.format.operand_bits();
  spec.multiplier.variant = bitline::core::daism::Variant::PrecomputedDigits;
  spec.multiplier.k = 2;
  spec.training = {true, true, true};
  return std::make_shared<bitline::core::daism::DaismSpec>(spec);
}

void on_daism(bitline::nn::QuantLayer& layer) {
  auto spec = layer.spec();
  spec.mode = LayerMode::Simulate;
  spec.macro = daism_pc2();
  layer.set_spec(spec);
}

// DESIGN.md's reference layer: conv 64->64, 3x3, pad 1, 32x32, batch 8, forward. Variant 0 = fp32,
// 1 = on DAISM PC2 bf16.
void BM_DaismReferenceConv(benchmark::State& state) {
  const bool daism = state.range(0) == 1;
  bitline::nn::set_threads(static_cast<int>(state.range(1)));
  torch::manual_seed(0);
  bitline::nn::QConv2d conv(bitline::nn::QConv2dOptions{64, 64, 3, 1, 1, 1, 1, false});
  if (daism) on_daism(*conv);
  auto input = torch::randn({8, 64, 32, 32});
  torch::NoGradGuard no_grad;
  for (auto _ : state) benchmark::DoNotOptimize(conv->forward(input));
  state.SetLabel(daism ? "DAISM PC2 bf16" : "fp32");
  state.counters["GMAC/s"] = benchmark::Counter(8.0 * 64 * 64 * 9 * 32 * 32 * 1e-9 * state.iterations(),
                                                benchmark::Counter::kIsRate);
}
BENCHMARK(BM_DaismReferenceConv)
    ->ArgsProduct({{0, 1}, {1, 2}})
    ->ArgNames({"variant", "threads"})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// The macro's product alone on the reference layer's im2col shape (rows 8 x 32 x 32, K = 64 x 3 x 3,
// 64 outputs): what the layer adds around it (im2col, the CSNR's exact product) is the difference.
void BM_DaismGemm(benchmark::State& state) {
  bitline::nn::set_threads(static_cast<int>(state.range(0)));
  const bitline::core::ProductShape shape{8 * 32 * 32, 64, 64, 9};
  const auto macro = daism_pc2()->for_format({8, 23});
  torch::manual_seed(0);
  const auto x = torch::randn({shape.rows, shape.depth()});
  const auto w = torch::randn({shape.cols, shape.depth()});
  auto y = torch::empty({shape.rows, shape.cols});
  for (auto _ : state) {
    macro->forward(shape, x.data_ptr<float>(), w.data_ptr<float>(), {}, y.data_ptr<float>(), nullptr);
  }
  state.counters["Gproducts/s"] = benchmark::Counter(static_cast<double>(shape.rows * shape.cols * shape.depth()) * 1e-9 *
                                                         static_cast<double>(state.iterations()),
                                                     benchmark::Counter::kIsRate);
}
BENCHMARK(BM_DaismGemm)->Arg(1)->Arg(2)->ArgName("threads")->Unit(benchmark::kMillisecond)->UseRealTime();

// One training step of the default cnn (forward, backward, SGD update) on a batch of 128
// Fashion-MNIST-shaped images: an epoch is 469 such steps plus data loading, so the ratio of steps
// is that of epochs. Variant 0 = fp32, 1 = DAISM PC2 bf16 in all three products of every layer.
void BM_DaismTrainingStep(benchmark::State& state) {
  const bool daism = state.range(0) == 1;
  bitline::nn::set_threads(static_cast<int>(state.range(1)));
  torch::manual_seed(0);
  bitline::nn::ModelSpec model_spec;
  model_spec.name = "cnn";
  auto model = bitline::nn::build_model(model_spec);
  if (daism) {
    for (const auto& [name, layer] : bitline::nn::quant_layers(*model)) on_daism(*layer);
  }
  model->train();
  torch::optim::SGD optimizer(model->parameters(), torch::optim::SGDOptions(0.01).momentum(0.9));
  auto images = torch::randn({128, 1, 28, 28});
  auto labels = torch::randint(0, 10, {128}, torch::kLong);
  for (auto _ : state) {
    optimizer.zero_grad();
    auto loss = torch::nn::functional::cross_entropy(model->forward(images), labels);
    loss.backward();
    optimizer.step();
  }
  state.SetLabel(daism ? "DAISM PC2 bf16, 3 products" : "fp32");
  state.counters["images/s"] = benchmark::Counter(128.0 * state.iterations(), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_DaismTrainingStep)
    ->ArgsProduct({{0, 1}, {1, 2}})
    ->ArgNames({"variant", "threads"})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
