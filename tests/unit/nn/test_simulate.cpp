#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <functional>

#include "core/analog_sram/macro_type.h"
#include "core/conv_rows.h"
#include "nn/quant_layers.h"

namespace bitline::nn {
namespace {

using core::analog_sram::RowMapping;

// Simulate mode on an analog SRAM macro with this ADC and N; `knobs` edits its other settings.
LayerQuantSpec simulate_spec(int weight_bits, int activation_bits, int adc_bits, int64_t nrow,
                             const std::function<void(core::analog_sram::Spec&)>& knobs = {}) {
  LayerQuantSpec spec;
  spec.mode = LayerMode::Simulate;
  spec.weight_bits = weight_bits;
  spec.activation_bits = activation_bits;
  spec.weight_granularity = WeightGranularity::PerTensor;
  spec.activation_scaling = ActivationScaling::AsimDynamic;
  spec.activation_sign = ActivationSign::Unsigned;
  core::analog_sram::Spec macro;
  macro.adc_bits = adc_bits;
  macro.rows_per_conversion = nrow;
  if (knobs) knobs(macro);
  spec.macro = std::make_shared<core::analog_sram::AnalogSramSpec>(macro);
  return spec;
}

template <class Layer>
void set_mode(Layer& layer, LayerQuantSpec spec, LayerMode mode) {
  spec.mode = mode;
  layer->set_spec(spec);
}

TEST(SimulateGolden, AsimLinearExampleGives102) {
  // spec/papers.md §5(b) golden example [V:code, run]: ASiMLinear(255 -> 1), wbit = xbit = 2,
  // unsigned, nrow 255, adc_prec 4, all weights 1, 40 inputs of 3.0: output 102.0 (ideal 120).
  QLinear layer(QLinearOptions{255, 1, /*bias=*/false});
  {
    torch::NoGradGuard no_grad;
    layer->weight.fill_(1.0);
  }
  auto spec = simulate_spec(2, 2, 4, 255, [](auto& macro) { macro.asim_drop_channels = true; });
  layer->set_spec(spec);
  layer->eval();
  auto x = torch::zeros({1, 255});
  x.slice(1, 0, 40).fill_(3.0);
  torch::NoGradGuard no_grad;
  // ASiM's scales carry +1e-7 (s_w = 1 + 1e-7, s_x = 3 + 1e-7), hence the tolerance.
  EXPECT_NEAR(layer->forward(x).item<float>(), 102.0f, 1e-4f);
  set_mode(layer, spec, LayerMode::Quantized);
  EXPECT_NEAR(layer->forward(x).item<float>(), 120.0f, 1e-4f);
}

TEST(SimulateInvariant, LosslessMacroEqualsTheIntegerReference) {
  torch::manual_seed(4);
  QConv2d conv(QConv2dOptions{6, 5, 3, 1, 1, 1, 1, false});
  QLinear linear(QLinearOptions{20, 7, true});
  QMatmul matmul;
  auto spec = simulate_spec(8, 8, 8, 255);  // 8-bit ADC, N = 255: lossless
  spec.activation_sign = ActivationSign::Auto;
  auto x = torch::randn({2, 6, 7, 7}), v = torch::randn({3, 20}), a = torch::rand({2, 2, 4, 6}), b = torch::randn({2, 2, 6, 3});
  torch::NoGradGuard no_grad;
  conv->set_spec(spec);
  linear->set_spec(spec);
  matmul->set_spec(spec);
  const auto conv_sim = conv->forward(x), linear_sim = linear->forward(v), matmul_sim = matmul->forward(a, b);
  set_mode(conv, spec, LayerMode::Quantized);
  set_mode(linear, spec, LayerMode::Quantized);
  set_mode(matmul, spec, LayerMode::Quantized);
  EXPECT_TRUE(conv_sim.equal(conv->forward(x)));
  EXPECT_TRUE(linear_sim.equal(linear->forward(v)));
  EXPECT_TRUE(matmul_sim.equal(matmul->forward(a, b)));
  EXPECT_TRUE(std::isinf(conv->simulation_stats().csnr_db()));
  EXPECT_GT(conv->simulation_stats().events.total(core::EventKind::AdcConversion), 0);
}

TEST(SimulateLayout, ConvEqualsLinearOnUnfoldedPatches) {
  // A lossy ADC (6 bits) makes the result depend on tile contents, so this checks the im2col layout
  // and tiling of the conv path against the linear path on the same patches (packed tiles in both).
  torch::manual_seed(5);
  QConv2d conv(QConv2dOptions{7, 4, 3, 1, 1, 1, 1, false});
  QLinear linear(QLinearOptions{63, 4, false});
  {
    torch::NoGradGuard no_grad;
    linear->weight.copy_(conv->weight.reshape({4, 63}));
  }
  auto spec = simulate_spec(8, 8, 6, 31, [](auto& macro) { macro.row_mapping = RowMapping::Packed; });
  conv->set_spec(spec);
  linear->set_spec(spec);
  auto x = torch::rand({2, 7, 5, 5});
  torch::NoGradGuard no_grad;
  auto conv_out = conv->forward(x);  // [2, 4, 5, 5]
  auto patches = torch::nn::functional::unfold(x, torch::nn::functional::UnfoldFuncOptions({3, 3}).padding(1));
  auto linear_out = linear->forward(patches.transpose(1, 2));  // [2, 25, 4]
  EXPECT_TRUE(conv_out.reshape({2, 4, 25}).transpose(1, 2).allclose(linear_out, 1e-5, 1e-5));
  set_mode(conv, spec, LayerMode::Quantized);
  EXPECT_FALSE(conv_out.equal(conv->forward(x)));  // the 6-bit ADC really lost information
  EXPECT_TRUE(std::isfinite(conv->simulation_stats().csnr_db()));
}

TEST(SimulateLayout, ConvRowsEqualTorchUnfoldForStridesPaddingsAndDilations) {
  struct Case {
    int64_t channels, height, width, kernel, stride, padding, dilation;
  };
  for (const Case& c : {Case{3, 7, 5, 3, 1, 1, 1}, Case{2, 9, 8, 3, 2, 1, 1}, Case{4, 8, 8, 3, 1, 2, 2},
                        Case{1, 6, 7, 1, 2, 0, 1}, Case{2, 10, 9, 5, 3, 2, 2}}) {
    const core::ConvGeometry geometry{2, c.channels, c.height, c.width, c.kernel, c.stride, c.padding, c.dilation};
    auto x = torch::randint(-100, 100, {2, c.channels, c.height, c.width}, torch::kInt32);
    // Rows of the channels [1, channels) only, as one group of a grouped conv takes them.
    const int64_t first = c.channels > 1 ? 1 : 0, count = c.channels - first;
    auto rows = torch::empty({2 * geometry.positions(), count * c.kernel * c.kernel}, torch::kInt32);
    core::conv_rows(geometry, x.data_ptr<int32_t>(), first, count, rows.data_ptr<int32_t>());
    auto expected = torch::nn::functional::unfold(x.slice(1, first).to(torch::kFloat64),
                                                  torch::nn::functional::UnfoldFuncOptions({c.kernel, c.kernel})
                                                      .stride(c.stride)
                                                      .padding(c.padding)
                                                      .dilation(c.dilation))
                        .transpose(1, 2)
                        .reshape({-1, count * c.kernel * c.kernel});
    EXPECT_TRUE(rows.to(torch::kFloat64).equal(expected)) << "kernel " << c.kernel << " stride " << c.stride;
  }
}

TEST(SimulateLayout, GroupedConvEqualsSeparateConvsPerGroup) {
  torch::manual_seed(6);
  QConv2d grouped(QConv2dOptions{4, 6, 3, 1, 1, 1, 2, false});
  QConv2d first(QConv2dOptions{2, 3, 3, 1, 1, 1, 1, false}), second(QConv2dOptions{2, 3, 3, 1, 1, 1, 1, false});
  {
    torch::NoGradGuard no_grad;
    first->weight.copy_(grouped->weight.slice(0, 0, 3));
    second->weight.copy_(grouped->weight.slice(0, 3, 6));
  }
  auto spec = simulate_spec(8, 8, 5, 15);
  spec.weight_granularity = WeightGranularity::PerChannel;
  for (auto* layer : {&grouped, &first, &second}) (*layer)->set_spec(spec);
  auto x = torch::rand({1, 4, 6, 6});
  torch::NoGradGuard no_grad;
  auto together = grouped->forward(x);
  // ASiM-dynamic ranges are per tensor: give the halves the same range by scaling to x's max.
  auto half_a = x.slice(1, 0, 2).clone(), half_b = x.slice(1, 2, 4).clone();
  half_a.view(-1)[0] = x.max();
  half_b.view(-1)[0] = x.max();
  auto expected_a = first->forward(half_a), expected_b = second->forward(half_b);
  // Element (0, 0, 0) of each half was changed; compare everything except the outputs it touches.
  EXPECT_TRUE(together.slice(1, 0, 3).slice(2, 2).allclose(expected_a.slice(2, 2), 1e-5, 1e-5));
  EXPECT_TRUE(together.slice(1, 3, 6).slice(2, 2).allclose(expected_b.slice(2, 2), 1e-5, 1e-5));
}

TEST(SimulateTraining, GradientIsTheStraightThroughGradientOfTheQuantizedProduct) {
  torch::manual_seed(7);
  QLinear layer(QLinearOptions{30, 3, true});
  auto spec = simulate_spec(6, 6, 4, 15);  // very lossy
  auto x = torch::rand({4, 30});
  layer->set_spec(spec);
  layer->forward(x).sum().backward();
  const auto simulate_grad = layer->weight.grad().clone();
  layer->weight.mutable_grad().zero_();
  set_mode(layer, spec, LayerMode::Quantized);
  layer->forward(x).sum().backward();
  EXPECT_TRUE(simulate_grad.allclose(layer->weight.grad()));
}

TEST(SimulateNoise, RowsAreKeyedBySampleNotByBatch) {
  torch::manual_seed(8);
  QConv2d conv(QConv2dOptions{3, 4, 3, 1, 1, 1, 1, false});
  auto spec = simulate_spec(8, 8, 8, 255, [](auto& macro) { macro.additive_sigma_fs = 1.0 / 255; });
  spec.activation_scaling = ActivationScaling::Static;
  auto x = torch::rand({6, 3, 5, 5});
  conv->train();
  conv->set_observer_phase(ObserverPhase::Track);
  {
    torch::NoGradGuard no_grad;
    conv->forward(x);
  }
  conv->eval();
  conv->set_observer_phase(ObserverPhase::Frozen);
  conv->set_spec(spec);
  torch::NoGradGuard no_grad;
  set_first_sample(0);
  auto whole = conv->forward(x);
  set_first_sample(0);
  auto head = conv->forward(x.slice(0, 0, 2));
  set_first_sample(2);
  auto tail = conv->forward(x.slice(0, 2, 6));
  EXPECT_TRUE(whole.equal(torch::cat({head, tail})));
  set_first_sample(100);
  EXPECT_FALSE(whole.slice(0, 0, 2).equal(conv->forward(x.slice(0, 0, 2))));  // other samples, other noise
  set_first_sample(0);
}

TEST(NoiseAwareTraining, MultipliesOutputsByNoiseOnlyWhileTraining) {
  torch::manual_seed(9);
  QLinear layer(QLinearOptions{8, 4, false});
  LayerQuantSpec spec;
  spec.nat_sigma = 0.5;
  layer->set_spec(spec);
  auto x = torch::rand({16, 8});
  torch::NoGradGuard no_grad;
  layer->eval();
  auto clean = layer->forward(x);
  layer->train();
  auto noisy = layer->forward(x);
  const double relative = ((noisy - clean) / clean).std().item<double>();
  EXPECT_NEAR(relative, 0.5, 0.15);
}

}  // namespace
}  // namespace bitline::nn

namespace bitline::nn {
namespace {

TEST(SimulateGradient, CurveSlopeScalesTheStraightThroughGradientByTheTransfersGain) {
  // A gain-compressed ADC reads low. curve_slope keeps the forward value and multiplies the
  // identity's gradient by the least-squares gain sum(y_sim y_q) / sum(y_q^2) of the batch.
  torch::manual_seed(3);
  QLinear layer(QLinearOptions{40, 6, /*bias=*/false});
  auto spec = simulate_spec(6, 6, 6, 63, [](auto& macro) { macro.gain_compression_alpha = 0.8; });
  const auto x = torch::rand({5, 40});
  auto run = [&](LayerQuantSpec::SimulateGradient gradient, LayerMode mode) {
    auto s = spec;
    s.simulate_gradient = gradient;
    set_mode(layer, s, mode);
    auto input = x.clone().requires_grad_(true);
    auto y = layer->forward(input);
    y.sum().backward();
    return std::make_pair(y.detach(), input.grad().clone());
  };
  const auto [identity_y, identity_grad] = run(LayerQuantSpec::SimulateGradient::Identity, LayerMode::Simulate);
  const auto [slope_y, slope_grad] = run(LayerQuantSpec::SimulateGradient::CurveSlope, LayerMode::Simulate);
  const auto [reference_y, reference_grad] = run(LayerQuantSpec::SimulateGradient::Identity, LayerMode::Quantized);
  EXPECT_TRUE(slope_y.equal(identity_y));  // the forward pass is the macro's either way
  // Per-tensor scales: the gain of the scaled outputs is the gain of the integer products.
  const double gain = (identity_y * reference_y).sum().item<double>() / reference_y.square().sum().item<double>();
  EXPECT_LT(gain, 0.95);
  EXPECT_GT(gain, 0.3);
  EXPECT_TRUE(identity_grad.allclose(reference_grad));
  EXPECT_TRUE(slope_grad.allclose(identity_grad * gain, 1e-4, 1e-6));
}

}  // namespace
}  // namespace bitline::nn
