#pragma once
// What the macro benchmarks share: the reference conv's forward pass and a training step of the
// default cnn, each on a macro (every layer in simulate mode) or in fp32 (no macro), measured the
// same way for every macro type so that their ratios to fp32 compare.
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "core/macro.h"
#include "nn/model.h"
#include "nn/quant_layers.h"
#include "nn/runtime.h"
#include "nn/train.h"

namespace bitline::bench {

inline void put_on_macro(nn::QuantLayer& layer, const std::shared_ptr<const core::MacroSpec>& macro) {
  auto spec = layer.spec();
  spec.mode = nn::LayerMode::Simulate;
  spec.macro = macro;
  layer.set_spec(spec);
}

// DESIGN.md's reference layer: conv 64->64, 3x3, pad 1, 32x32, batch 8, forward; on `macro`, or in
// fp32 when it is null.
inline void reference_conv_forward(benchmark::State& state, const std::shared_ptr<const core::MacroSpec>& macro,
                                   int threads, const std::string& label) {
  nn::set_threads(threads);
  torch::manual_seed(0);
  nn::QConv2d conv(nn::QConv2dOptions{64, 64, 3, 1, 1, 1, 1, false});
  if (macro) put_on_macro(*conv, macro);
  auto input = torch::randn({8, 64, 32, 32});
  torch::NoGradGuard no_grad;
  for (auto _ : state) benchmark::DoNotOptimize(conv->forward(input));
  state.SetLabel(macro ? label : "fp32");
  state.counters["GMAC/s"] = benchmark::Counter(8.0 * 64 * 64 * 9 * 32 * 32 * 1e-9 * state.iterations(),
                                                benchmark::Counter::kIsRate);
}

// The macro's forward product alone on the reference layer's im2col shape (rows 8 x 32 x 32, K =
// 64 x 3 x 3, 64 outputs, 302 M MACs) with fp32 operands: what the layer adds around it (im2col, the
// CSNR's exact product) is the difference from reference_conv_forward.
inline void reference_conv_product(benchmark::State& state, const core::Macro& macro) {
  const core::ProductShape shape{8 * 32 * 32, 64, 64, 9};
  torch::manual_seed(0);
  const auto x = torch::randn({shape.rows, shape.depth()});
  const auto w = torch::randn({shape.cols, shape.depth()});
  auto y = torch::empty({shape.rows, shape.cols});
  for (auto _ : state) {
    macro.forward(shape, x.data_ptr<float>(), w.data_ptr<float>(), {}, y.data_ptr<float>(), nullptr);
  }
  state.counters["GMAC/s"] = benchmark::Counter(static_cast<double>(shape.rows * shape.cols * shape.depth()) * 1e-9 *
                                                    static_cast<double>(state.iterations()),
                                                benchmark::Counter::kIsRate);
}

// One training step of the default cnn (forward, backward, update) on a batch of 128
// Fashion-MNIST-shaped images, as nn::train_stage runs it: SGD with momentum, except for the weights
// a macro updates in place. An epoch is 469 such steps plus data loading, the same for both, so the
// ratio of steps bounds that of epochs.
inline void cnn_training_step(benchmark::State& state, const std::shared_ptr<const core::MacroSpec>& macro,
                              int threads, const std::string& label) {
  nn::set_threads(threads);
  torch::manual_seed(0);
  nn::ModelSpec model_spec;
  model_spec.name = "cnn";
  auto model = nn::build_model(model_spec);
  if (macro) {
    for (const auto& [name, layer] : nn::quant_layers(*model)) put_on_macro(*layer, macro);
  }
  model->train();
  const auto updated_on_macro = nn::layers_updated_on_macro(*model);
  torch::optim::SGD optimizer(nn::optimizer_parameters(*model, updated_on_macro),
                              torch::optim::SGDOptions(0.01).momentum(0.9));
  auto images = torch::randn({128, 1, 28, 28});
  auto labels = torch::randint(0, 10, {128}, torch::kLong);
  for (auto _ : state) {
    model->zero_grad();
    auto loss = torch::nn::functional::cross_entropy(model->forward(images), labels);
    loss.backward();
    optimizer.step();
    for (auto& layer : updated_on_macro) layer->update_weight_on_macro(0.01);
  }
  state.SetLabel(macro ? label : "fp32");
  state.counters["images/s"] = benchmark::Counter(128.0 * state.iterations(), benchmark::Counter::kIsRate);
}

}  // namespace bitline::bench
