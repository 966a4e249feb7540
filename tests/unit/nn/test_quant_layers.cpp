#include "nn/quant_layers.h"

#include <algorithm>
#include <cmath>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/digital_sram/digital_sram.h"
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

// The symmetric grid of core/quantizer.h, written out here: q = round-half-even(clamp(v / r) * q_max).
int64_t grid_code(float value, float range, int64_t max_code, bool is_signed) {
  const float unit = std::clamp(value / range, is_signed ? -1.0f : 0.0f, 1.0f);
  return static_cast<int64_t>(std::nearbyint(unit * static_cast<float>(max_code)));
}

TEST(QConv2d, DepthwiseStridedConvEqualsANaiveIntegerLoop) {
  // 8 channels, each its own 3x3 filter, stride 2, padding 1: 9x9 -> 5x5. W6 per channel, A5 with the
  // ASiM dynamic range (max |x| of the batch), so both ranges are known here.
  torch::manual_seed(4);
  const int64_t channels = 8, side = 9, out_side = 5;
  QConv2d depthwise(QConv2dOptions{channels, channels, 3, 2, 1, 1, channels, false});
  const auto x = torch::randn({2, channels, side, side});
  LayerQuantSpec spec = quantized_spec(6, 5);
  spec.activation_scaling = ActivationScaling::AsimDynamic;
  depthwise->set_spec(spec);
  torch::NoGradGuard no_grad;
  const auto y = depthwise->forward(x);
  ASSERT_EQ(y.sizes(), torch::IntArrayRef({2, channels, out_side, out_side}));
  EXPECT_EQ(depthwise->last_macs_per_sample(), channels * out_side * out_side * 9);

  const float x_range = x.abs().max().item<float>() + 1e-7f;  // signed: the batch has negative values
  const auto w = depthwise->weight.detach();
  for (int64_t c = 0; c < channels; ++c) {
    const float w_range = w[c].abs().max().item<float>() + 1e-7f;
    for (int64_t n = 0; n < 2; ++n) {
      for (int64_t i = 0; i < out_side; ++i) {
        for (int64_t j = 0; j < out_side; ++j) {
          int64_t sum = 0;
          for (int64_t u = 0; u < 3; ++u) {
            for (int64_t v = 0; v < 3; ++v) {
              const int64_t row = 2 * i + u - 1, col = 2 * j + v - 1;  // stride 2, padding 1
              if (row < 0 || row >= side || col < 0 || col >= side) continue;
              sum += grid_code(x[n][c][row][col].item<float>(), x_range, 15, true) *
                     grid_code(w[c][0][u][v].item<float>(), w_range, 31, true);
            }
          }
          const double expected = static_cast<double>(sum) * (x_range / 15.0) * (w_range / 31.0);
          ASSERT_NEAR(y[n][c][i][j].item<double>(), expected, 1e-5 * std::max(1.0, std::fabs(expected)))
              << "sample " << n << ", channel " << c << ", output " << i << "," << j;
        }
      }
    }
  }
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

TEST(QMatmul, QuantizedProductEqualsANaiveIntegerLoop) {
  // Both operands quantized as activations (8 bits, signed: they have negative values), with the ASiM
  // dynamic range, the batch's max |v|: a [2, 3, 4, 5] . b [2, 3, 5, 4], one product per (sample, head).
  torch::manual_seed(5);
  QMatmul product;
  const auto a = torch::randn({2, 3, 4, 5});
  const auto b = torch::randn({2, 3, 5, 4});
  LayerQuantSpec spec = quantized_spec(8, 8);
  spec.activation_scaling = ActivationScaling::AsimDynamic;
  product->set_spec(spec);
  torch::NoGradGuard no_grad;
  const auto y = product->forward(a, b);
  ASSERT_EQ(y.sizes(), torch::IntArrayRef({2, 3, 4, 4}));
  EXPECT_EQ(product->last_macs_per_sample(), 3 * 4 * 5 * 4);
  const float a_range = a.abs().max().item<float>() + 1e-7f, b_range = b.abs().max().item<float>() + 1e-7f;
  for (int64_t n = 0; n < 2; ++n) {
    for (int64_t h = 0; h < 3; ++h) {
      for (int64_t r = 0; r < 4; ++r) {
        for (int64_t c = 0; c < 4; ++c) {
          int64_t sum = 0;
          for (int64_t k = 0; k < 5; ++k) {
            sum += grid_code(a[n][h][r][k].item<float>(), a_range, 127, true) *
                   grid_code(b[n][h][k][c].item<float>(), b_range, 127, true);
          }
          const double expected = static_cast<double>(sum) * (a_range / 127.0) * (b_range / 127.0);
          ASSERT_NEAR(y[n][h][r][c].item<double>(), expected, 1e-5 * std::max(1.0, std::fabs(expected)))
              << n << "," << h << "," << r << "," << c;
        }
      }
    }
  }
}

// ---- the exact integer reference (issue 25) ----------------------------------------------------

// Positive codes near the grid's top (of a signed or unsigned grid), so that sums pass 2^24 and an
// fp32 GEMM of the whole depth rounds them.
OperandCodes large_codes(std::vector<int64_t> shape, int bits, bool is_signed, uint64_t seed) {
  torch::manual_seed(seed);
  const double top = is_signed ? std::ldexp(1.0, bits - 1) - 1 : std::ldexp(1.0, bits) - 1;
  auto codes = torch::randint(static_cast<int64_t>(top * 0.75), static_cast<int64_t>(top) + 1, shape).to(torch::kFloat32);
  return {codes, torch::ones({}), is_signed, bits};
}

// Σ_k x[r, k] w[c, k] in int64, the naive way: the independent reference.
torch::Tensor int64_rows_product(const torch::Tensor& x, const torch::Tensor& w) {
  const auto xi = x.to(torch::kInt64).contiguous(), wi = w.to(torch::kInt64).contiguous();
  auto out = torch::zeros({x.size(0), w.size(0)}, torch::kInt64);
  const int64_t* xp = xi.data_ptr<int64_t>();
  const int64_t* wp = wi.data_ptr<int64_t>();
  int64_t* op = out.data_ptr<int64_t>();
  const int64_t depth = x.size(1);
  for (int64_t r = 0; r < x.size(0); ++r) {
    for (int64_t c = 0; c < w.size(0); ++c) {
      int64_t sum = 0;
      for (int64_t k = 0; k < depth; ++k) sum += xp[r * depth + k] * wp[c * depth + k];
      op[r * w.size(0) + c] = sum;
    }
  }
  return out;
}

TEST(ExactIntegerProduct, LinearPast2To24EqualsTheInt64SumRoundedOnce) {
  torch::NoGradGuard no_grad;
  const int64_t depth = 4096;  // W8A8: 4096 * 255 * 128 > 2^27
  const auto x = large_codes({24, depth}, 8, false, 1), w = large_codes({6, depth}, 8, true, 2);
  const auto linear = [](const torch::Tensor& a, const torch::Tensor& b) { return torch::nn::functional::linear(a, b); };
  const auto exact = int64_rows_product(x.codes, w.codes);
  ASSERT_GT(exact.abs().max().item<int64_t>(), int64_t{1} << 24);
  // The data is hard enough: the plain fp32 product misses some outputs.
  EXPECT_FALSE(torch::equal(linear(x.codes, w.codes), exact.to(torch::kFloat32)));
  const auto product = exact_integer_product(linear, x, w, depth, 1, 1, depth);
  EXPECT_TRUE(torch::equal(product, exact.to(torch::kFloat64).to(torch::kFloat32)));
}

TEST(ExactIntegerProduct, ConvSlicesByChannelGroupedConvGoesToFp64) {
  // 96 channels of 3x3: K = 864, past 2^24; ungrouped, two slices of 48 channels (their exact fp32
  // sums added with one rounding); grouped (2 x 48 channels): in fp64 at once.
  torch::NoGradGuard no_grad;
  const int64_t channels = 96;
  const auto x = large_codes({2, channels, 6, 6}, 8, false, 3);
  for (const int64_t groups : {int64_t{1}, int64_t{2}}) {
    SCOPED_TRACE(groups);
    const int64_t group_in = channels / groups, group_depth = group_in * 9;
    const auto w = large_codes({4, group_in, 3, 3}, 8, true, 4);
    const auto conv = [&](const torch::Tensor& a, const torch::Tensor& b) {
      return torch::conv2d(a, b, torch::Tensor(), torch::IntArrayRef{1}, torch::IntArrayRef{0}, torch::IntArrayRef{1}, groups);
    };
    // The reference: each output pixel's dot product in int64 (3x3 patches, the group's channels).
    const auto patches = torch::nn::functional::unfold(x.codes, torch::nn::functional::UnfoldFuncOptions(3));  // [2, 96*9, 16]
    auto expected = torch::empty({2, 4, 16}, torch::kInt64);
    for (int64_t g = 0; g < groups; ++g) {
      for (int64_t b = 0; b < 2; ++b) {
        const auto rows = patches[b].slice(0, g * group_depth, (g + 1) * group_depth).t();  // [16, group_depth]
        const auto filters = w.codes.slice(0, g * 4 / groups, (g + 1) * 4 / groups).reshape({4 / groups, group_depth});
        expected[b].slice(0, g * 4 / groups, (g + 1) * 4 / groups).copy_(int64_rows_product(rows, filters).t());
      }
    }
    if (groups == 1) ASSERT_GT(expected.max().item<int64_t>(), int64_t{1} << 24);
    const auto product = exact_integer_product(conv, x, w, group_depth, 1, 1, groups == 1 ? channels : 0);
    EXPECT_TRUE(torch::equal(product.reshape({2, 4, 16}), expected.to(torch::kFloat64).to(torch::kFloat32)));
  }
}

TEST(ExactIntegerProduct, SmallDepthsKeepTheSingleFp32Product) {
  torch::NoGradGuard no_grad;
  const auto x = large_codes({5, 300}, 8, false, 5), w = large_codes({3, 300}, 8, true, 6);  // 300 * 255 * 128 < 2^24
  int calls = 0;
  const auto counted = [&](const torch::Tensor& a, const torch::Tensor& b) {
    ++calls;
    EXPECT_EQ(a.scalar_type(), torch::kFloat32);
    return torch::nn::functional::linear(a, b);
  };
  const auto product = exact_integer_product(counted, x, w, 300, 1, 1, 300);
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(torch::equal(product, int64_rows_product(x.codes, w.codes).to(torch::kFloat32)));
}

TEST(QLinear, ALosslessMacroRunEqualsTheReferencePast2To24) {
  // digital_sram's datapath sums in int64, apart from the reference's GEMM: with the macro run
  // (run_lossless_macros), its result must equal the quantized mode's, and the CSNR be exact.
  torch::manual_seed(7);
  QLinear layer(QLinearOptions{4096, 8, /*bias=*/false});
  torch::NoGradGuard no_grad;
  layer->weight.copy_(torch::rand({8, 4096}) * 0.5 + 0.5);  // all positive: the sums grow with K
  const auto x = torch::rand({4, 4096}) * 0.25 + 0.75;
  observe_once(layer, x);
  layer->set_spec(quantized_spec(8, 8));
  const auto quantized = layer->forward(x);
  auto spec = quantized_spec(8, 8);
  spec.mode = LayerMode::Simulate;
  spec.macro = std::make_shared<core::digital_sram::DigitalSramSpec>(core::digital_sram::Spec{});
  spec.run_lossless_macros = true;
  layer->set_spec(spec);
  const auto simulated = layer->forward(x);
  EXPECT_TRUE(torch::equal(simulated, quantized));
  EXPECT_TRUE(std::isinf(layer->simulation_stats().csnr_db())) << layer->simulation_stats().csnr_db();
  EXPECT_GT(layer->simulation_stats().events.total(core::EventKind::ArrayActivation), 0);  // the macro ran
}

}  // namespace
}  // namespace bitline::nn
