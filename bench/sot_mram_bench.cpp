// The SOT-MRAM FP engine's products against LibTorch fp32 on the same shapes, both measured in this
// run (docs/performance.md). Run: build/bench/sot_mram_bench --benchmark_counters_tabular=true
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include "core/sot_mram/macro.h"
#include "nn/model.h"
#include "nn/quant_layers.h"
#include "nn/runtime.h"

namespace {

using bitline::nn::LayerMode;

// bf16 with truncation (the datapath's default), every product and the update on the engine.
std::shared_ptr<const bitline::core::MacroSpec> engine_bf16() {
  return std::make_shared<bitline::core::sot_mram::SotMramFpSpec>(bitline::core::sot_mram::Spec{});
}

void on_engine(bitline::nn::QuantLayer& layer) {
  auto spec = layer.spec();
  spec.mode = LayerMode::Simulate;
  spec.macro = engine_bf16();
  layer.set_spec(spec);
}

// DESIGN.md's reference layer: conv 64->64, 3x3, pad 1, 32x32, batch 8, forward. Variant 0 = fp32
// (LibTorch), 1 = on the engine in bf16 with truncation (the layer: im2col, the operands rounded to
// bf16, the SIMD GEMM, and the CSNR's exact product).
void BM_SotMramReferenceConv(benchmark::State& state) {
  const bool engine = state.range(0) == 1;
  bitline::nn::set_threads(static_cast<int>(state.range(1)));
  torch::manual_seed(0);
  bitline::nn::QConv2d conv(bitline::nn::QConv2dOptions{64, 64, 3, 1, 1, 1, 1, false});
  if (engine) on_engine(*conv);
  auto input = torch::randn({8, 64, 32, 32});
  torch::NoGradGuard no_grad;
  for (auto _ : state) benchmark::DoNotOptimize(conv->forward(input));
  state.SetLabel(engine ? "SOT-MRAM bf16, truncation" : "fp32");
  state.counters["GMAC/s"] = benchmark::Counter(8.0 * 64 * 64 * 9 * 32 * 32 * 1e-9 * state.iterations(),
                                                benchmark::Counter::kIsRate);
}
BENCHMARK(BM_SotMramReferenceConv)
    ->ArgsProduct({{0, 1}, {1, 2}})
    ->ArgNames({"variant", "threads"})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// The engine's product alone on the reference layer's im2col shape, in bf16 (float lanes) and fp32
// (double lanes).
void BM_SotMramGemm(benchmark::State& state) {
  bitline::nn::set_threads(2);
  const bitline::core::ProductShape shape{8 * 32 * 32, 64, 64, 9};
  bitline::core::sot_mram::Spec spec;
  if (state.range(0) == 1) spec.engine.format = {8, 23};
  const auto macro = bitline::core::sot_mram::SotMramFpSpec(spec).for_format(spec.engine.format);
  torch::manual_seed(0);
  const auto x = torch::randn({shape.rows, shape.depth()});
  const auto w = torch::randn({shape.cols, shape.depth()});
  auto y = torch::empty({shape.rows, shape.cols});
  for (auto _ : state) {
    macro->forward(shape, x.data_ptr<float>(), w.data_ptr<float>(), {}, y.data_ptr<float>(), nullptr);
  }
  state.SetLabel(state.range(0) == 1 ? "fp32 (double lanes)" : "bf16 (float lanes)");
  state.counters["GMAC/s"] = benchmark::Counter(static_cast<double>(shape.rows * shape.cols * shape.depth()) * 1e-9 *
                                                    static_cast<double>(state.iterations()),
                                                benchmark::Counter::kIsRate);
}
BENCHMARK(BM_SotMramGemm)->Arg(0)->Arg(1)->ArgName("format")->Unit(benchmark::kMillisecond)->UseRealTime();

// One training step of the default cnn (forward, backward, update) on a batch of 128
// Fashion-MNIST-shaped images, as nn::train_stage runs it: an epoch is 469 such steps plus data
// loading, the same for both, so the ratio of steps bounds that of epochs. Variant 0 = fp32 (SGD with
// momentum), 1 = every layer's three products and its weight update on the engine in bf16 (the other
// parameters, batch norm and biases, by the fp32 optimizer).
void BM_SotMramTrainingStep(benchmark::State& state) {
  const bool engine = state.range(0) == 1;
  bitline::nn::set_threads(static_cast<int>(state.range(1)));
  torch::manual_seed(0);
  bitline::nn::ModelSpec model_spec;
  model_spec.name = "cnn";
  auto model = bitline::nn::build_model(model_spec);
  std::vector<std::shared_ptr<bitline::nn::QuantLayer>> updated_on_engine;
  if (engine) {
    for (const auto& [name, layer] : bitline::nn::quant_layers(*model)) {
      on_engine(*layer);
      updated_on_engine.push_back(layer);
    }
  }
  model->train();
  std::vector<torch::Tensor> parameters;
  for (const auto& parameter : model->parameters()) {
    bool on_engine_weight = false;
    for (const auto& layer : updated_on_engine) on_engine_weight |= layer->stored_weight().is_same(parameter);
    if (!on_engine_weight) parameters.push_back(parameter);
  }
  torch::optim::SGD optimizer(parameters, torch::optim::SGDOptions(0.01).momentum(0.9));
  auto images = torch::randn({128, 1, 28, 28});
  auto labels = torch::randint(0, 10, {128}, torch::kLong);
  for (auto _ : state) {
    model->zero_grad();
    auto loss = torch::nn::functional::cross_entropy(model->forward(images), labels);
    loss.backward();
    optimizer.step();
    for (auto& layer : updated_on_engine) layer->update_weight_on_macro(0.01);
  }
  state.SetLabel(engine ? "SOT-MRAM bf16: 3 products + update" : "fp32");
  state.counters["images/s"] = benchmark::Counter(128.0 * state.iterations(), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_SotMramTrainingStep)
    ->ArgsProduct({{0, 1}, {1, 2}})
    ->ArgNames({"variant", "threads"})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
