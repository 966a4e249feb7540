#include "nn/quant_layers.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/error.h"
#include "core/quantizer.h"

namespace bitline::nn {
namespace {

LayerQuantSpec quantized_spec(int weight_bits = 8, int activation_bits = 8,
                              WeightGranularity granularity = WeightGranularity::PerChannel) {
  LayerQuantSpec spec;
  spec.mode = LayerMode::Quantized;
  spec.weight_bits = weight_bits;
  spec.activation_bits = activation_bits;
  spec.weight_granularity = granularity;
  return spec;
}

// Runs one training-mode forward pass so the layer's observer records x's range.
template <class Layer>
void observe_once(Layer& layer, const torch::Tensor& x) {
  layer->train();
  layer->set_observer_phase(ObserverPhase::Track);
  torch::NoGradGuard no_grad;
  layer->forward(x);
  layer->eval();
  layer->set_observer_phase(ObserverPhase::Frozen);
}

TEST(QLinear, QuantizedModeEqualsTheIntegerReference) {
  torch::manual_seed(0);
  QLinear layer(QLinearOptions{16, 5, /*bias=*/false});
  auto x = torch::rand({3, 16});  // unsigned activations
  observe_once(layer, x);
  layer->set_spec(quantized_spec(4, 6));
  auto y = layer->forward(x);

  // Hand-rolled reference: core quantizer on every element, int64 dot products, then scales.
  const core::QuantGrid x_grid{6, false}, w_grid{4, true};
  const float x_range = x.max().item<float>();
  auto w = layer->weight.detach();
  for (int64_t o = 0; o < 5; ++o) {
    const float w_range = w[o].abs().max().item<float>() + 1e-7f;
    for (int64_t n = 0; n < 3; ++n) {
      int64_t acc = 0;
      for (int64_t k = 0; k < 16; ++k) {
        acc += core::quantize_value(x[n][k].item<float>(), x_range, x_grid) *
               core::quantize_value(w[o][k].item<float>(), w_range, w_grid);
      }
      const double expected = acc * (x_range / 63.0) * (w_range / 7.0);
      EXPECT_NEAR(y[n][o].item<double>(), expected, 1e-5 * std::max(1.0, std::fabs(expected))) << n << "," << o;
    }
  }
}

TEST(QConv2d, QuantizedOperandsAreIntegersAndErrorShrinksWithBits) {
  torch::manual_seed(1);
  QConv2d conv(QConv2dOptions{4, 6, 3, 1, 1, 1, 1, true});
  auto x = torch::randn({2, 4, 8, 8});
  observe_once(conv, x);
  torch::NoGradGuard no_grad;
  auto reference = conv->forward(x);
  double previous_error = 1e9;
  for (int bits : {3, 5, 8, 12}) {
    conv->set_spec(quantized_spec(bits, bits));
    const double error = (conv->forward(x) - reference).abs().max().item<double>();
    EXPECT_LT(error, previous_error) << bits << " bits";
    previous_error = error;
  }
  EXPECT_LT(previous_error, 0.01);
}

TEST(QConv2d, DepthwiseAndStridedShapesMatchTorch) {
  QConv2d depthwise(QConv2dOptions{8, 8, 3, 2, 1, 1, 8, false});
  auto x = torch::randn({1, 8, 9, 9});
  EXPECT_EQ(depthwise->forward(x).sizes(), torch::IntArrayRef({1, 8, 5, 5}));
  EXPECT_EQ(depthwise->last_macs_per_sample(), 8 * 5 * 5 * 9);
}

TEST(QuantLayers, RecordTheMacroProductsOfOneSampleForTheCostModel) {
  torch::NoGradGuard no_grad;
  // Float mode takes the input's sign from its observer, calibrating here as `bitline cost` does.
  // A grouped strided conv: one product per group, rows = output positions of one sample.
  QConv2d grouped(QConv2dOptions{8, 6, 3, 2, 1, 1, 2, false});
  grouped->eval();
  grouped->set_observer_phase(ObserverPhase::Calibrate);
  grouped->forward(torch::rand({3, 8, 9, 9}));  // non-negative input
  const auto& conv = grouped->last_products();
  EXPECT_EQ(conv.count, 2);
  EXPECT_EQ(conv.shape.rows, 5 * 5);
  EXPECT_EQ(conv.shape.cols, 3);
  EXPECT_EQ(conv.shape.channels, 4);
  EXPECT_EQ(conv.shape.kernel_area, 9);
  EXPECT_FALSE(conv.signed_inputs);
  EXPECT_FALSE(conv.stored_operand_changes);
  // A linear layer on tokens: rows = tokens per sample; negative inputs are signed.
  QLinear linear(QLinearOptions{5, 7, false});
  linear->eval();
  linear->set_observer_phase(ObserverPhase::Calibrate);
  linear->forward(torch::randn({2, 4, 5}));
  EXPECT_EQ(linear->last_products().shape.rows, 4);
  EXPECT_EQ(linear->last_products().shape.cols, 7);
  EXPECT_EQ(linear->last_products().count, 1);
  EXPECT_TRUE(linear->last_products().signed_inputs);
  // Attention: one product per head, both operands change every inference.
  QMatmul product;
  product->eval();
  product->forward(torch::rand({2, 3, 6, 4}), torch::rand({2, 3, 4, 6}));
  EXPECT_EQ(product->last_products().count, 3);
  EXPECT_EQ(product->last_products().shape.rows, 6);
  EXPECT_EQ(product->last_products().shape.cols, 6);
  EXPECT_EQ(product->last_products().shape.channels, 4);
  EXPECT_TRUE(product->last_products().stored_operand_changes);
}

TEST(QuantizeSte, GradientPassesInsideTheRangeAndStopsOutside) {
  QLinear layer(QLinearOptions{3, 1, false});
  {
    torch::NoGradGuard no_grad;
    layer->weight.fill_(1.0);
  }
  observe_once(layer, torch::tensor({{0.0f, 0.5f, 1.0f}}));  // range 1.0, unsigned
  layer->set_spec(quantized_spec(8, 8));
  auto x = torch::tensor({{0.3f, 0.7f, 4.0f}}, torch::requires_grad());  // 4.0 is clipped
  layer->forward(x).sum().backward();
  auto grad = x.grad();
  // d/dx [codes_x * step_x * codes_w * step_w] = 1 (STE) * w_dequantized = 1 inside, 0 when clipped.
  EXPECT_NEAR(grad[0][0].item<float>(), 1.0f, 1e-5f);
  EXPECT_NEAR(grad[0][1].item<float>(), 1.0f, 1e-5f);
  EXPECT_EQ(grad[0][2].item<float>(), 0.0f);
  // The weight gradient is the (quantized) input: STE through the weight quantizer.
  EXPECT_NEAR(layer->weight.grad()[0][0].item<float>(), std::nearbyint(0.3f * 255) / 255, 1e-5f);  // round half to even
}

TEST(ActivationObserver, TracksMovingAverageThenFreezes) {
  QLinear layer(QLinearOptions{2, 1, false});
  layer->train();
  layer->set_observer_phase(ObserverPhase::Track);
  torch::NoGradGuard no_grad;
  layer->forward(torch::tensor({{0.0f, 2.0f}}));  // first batch sets min 0, max 2
  layer->forward(torch::tensor({{0.0f, 4.0f}}));  // max <- 2 + 0.1 * (4 - 2) = 2.2
  layer->eval();
  layer->forward(torch::tensor({{0.0f, 100.0f}}));  // evaluation never moves the range
  const auto buffers = layer->named_buffers();
  EXPECT_NEAR(buffers["input_observer.max"].item<float>(), 2.2f, 1e-6f);
  EXPECT_EQ(buffers["input_observer.batches_seen"].item<int64_t>(), 2);
}

TEST(ActivationObserver, CalibrationTakesMinMaxOverAllBatches) {
  QLinear layer(QLinearOptions{2, 1, false});
  layer->eval();
  layer->set_observer_phase(ObserverPhase::Calibrate);
  torch::NoGradGuard no_grad;
  layer->forward(torch::tensor({{-1.0f, 2.0f}}));
  layer->forward(torch::tensor({{0.0f, 5.0f}}));
  const auto buffers = layer->named_buffers();
  EXPECT_EQ(buffers["input_observer.min"].item<float>(), -1.0f);
  EXPECT_EQ(buffers["input_observer.max"].item<float>(), 5.0f);
}

TEST(QuantLayer, QuantizedModeWithoutCalibrationIsAnInputError) {
  QLinear layer(QLinearOptions{2, 1, false});
  layer->set_spec(quantized_spec());
  layer->set_layer_name("fc9");
  layer->eval();
  try {
    layer->forward(torch::ones({1, 2}));
    FAIL() << "expected InputError";
  } catch (const InputError& error) {
    EXPECT_THAT(error.what(), ::testing::HasSubstr("layer 'fc9'"));
  }
}

TEST(QuantLayer, AutoSignFollowsTheObservedMinimum) {
  torch::manual_seed(2);
  QLinear layer(QLinearOptions{4, 1, false});
  auto x = torch::tensor({{-1.0f, -0.5f, 0.5f, 1.0f}});
  observe_once(layer, x);
  torch::NoGradGuard no_grad;
  layer->set_spec(quantized_spec(8, 4));
  auto signed_out = layer->forward(x);
  auto spec = quantized_spec(8, 4);
  spec.activation_sign = ActivationSign::Unsigned;  // negative inputs clip to 0
  layer->set_spec(spec);
  auto unsigned_out = layer->forward(x);
  auto reference = torch::nn::functional::linear(x, layer->weight);
  EXPECT_LT((signed_out - reference).abs().item<float>(), (unsigned_out - reference).abs().item<float>());
}

TEST(AsimDynamicScaling, RangeIsTheWholeBatchMaximum) {
  // ASiM's rule (spec/papers.md §5(b)): one range per call, the max over the whole batch, so a
  // sample's output depends on the other samples in its batch.
  QLinear layer(QLinearOptions{2, 1, false});
  {
    torch::NoGradGuard no_grad;
    layer->weight.fill_(1.0);
  }
  auto spec = quantized_spec(8, 2);
  spec.activation_scaling = ActivationScaling::AsimDynamic;
  spec.activation_sign = ActivationSign::Unsigned;
  layer->set_spec(spec);
  layer->eval();
  torch::NoGradGuard no_grad;
  auto alone = layer->forward(torch::tensor({{0.4f, 0.4f}}));
  auto with_large = layer->forward(torch::tensor({{0.4f, 0.4f}, {3.0f, 0.0f}}));
  // 2-bit unsigned: alone, range 0.4 -> codes 3 -> 0.8; with 3.0 in the batch, 0.4/3*3 rounds to 0.
  EXPECT_NEAR(alone[0][0].item<float>(), 0.8f, 1e-5f);
  EXPECT_NEAR(with_large[0][0].item<float>(), 0.0f, 1e-5f);
  EXPECT_NEAR(with_large[1][0].item<float>(), 3.0f, 1e-5f);
}

TEST(QuantLayer, PerChannelWeightsBeatPerTensorOnUnevenChannels) {
  torch::manual_seed(3);
  QLinear layer(QLinearOptions{32, 2, false});
  {
    torch::NoGradGuard no_grad;
    layer->weight[1].mul_(0.01);  // one channel 100x smaller
  }
  auto x = torch::rand({8, 32});
  observe_once(layer, x);
  torch::NoGradGuard no_grad;
  auto reference = torch::nn::functional::linear(x, layer->weight);
  layer->set_spec(quantized_spec(4, 8, WeightGranularity::PerTensor));
  const double per_tensor = (layer->forward(x) - reference).select(1, 1).abs().max().item<double>();
  layer->set_spec(quantized_spec(4, 8, WeightGranularity::PerChannel));
  const double per_channel = (layer->forward(x) - reference).select(1, 1).abs().max().item<double>();
  EXPECT_LT(per_channel, per_tensor);
}

TEST(QMatmul, QuantizesBothOperands) {
  QMatmul product;
  auto a = torch::randn({2, 3, 4, 5});
  auto b = torch::randn({2, 3, 5, 4});
  product->train();
  product->set_observer_phase(ObserverPhase::Track);
  torch::NoGradGuard no_grad;
  auto reference = product->forward(a, b);
  product->eval();
  product->set_spec(quantized_spec(8, 8));
  auto quantized = product->forward(a, b);
  EXPECT_EQ(quantized.sizes(), reference.sizes());
  EXPECT_FALSE(quantized.equal(reference));
  EXPECT_LT((quantized - reference).abs().max().item<float>(), 0.2f);
  EXPECT_EQ(product->last_macs_per_sample(), 3 * 4 * 5 * 4);
}

}  // namespace
}  // namespace bitline::nn
