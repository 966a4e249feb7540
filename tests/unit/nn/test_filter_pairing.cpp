// FCC's tie in the layers (LayerQuantSpec::pairing): tied filters are exact complements of their
// free filters after quantization, in both encodings, and a paired network on the ddc_pim macro
// equals its integer reference and its bit-accurate forward.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "core/ddc_pim/macro.h"
#include "core/error.h"
#include "nn/quant_layers.h"

namespace bitline::nn {
namespace {

std::shared_ptr<FilterPairing> pairing_of(core::PairEncoding encoding) {
  auto pairing = std::make_shared<FilterPairing>();
  pairing->encoding = encoding;
  pairing->pairs = {{0, 3}, {1, 2}, {5, 7}};  // filter 4 and 6 stay unpaired
  return pairing;
}

TEST(FilterPairing, TiedCodesAreExactComplementsInBothEncodings) {
  torch::manual_seed(1);
  QConv2d conv(QConv2dOptions{6, 8, 1, 1, 0, 1, 1, false});
  for (const auto encoding : {core::PairEncoding::TwosComplement, core::PairEncoding::OffsetBinary}) {
    LayerQuantSpec spec;
    spec.mode = LayerMode::Quantized;
    spec.weight_bits = 4;
    spec.pairing = pairing_of(encoding);
    conv->set_spec(spec);
    const auto codes = conv->weight_codes();
    const bool offset_binary = encoding == core::PairEncoding::OffsetBinary;
    for (const auto& [a, b] : spec.pairing->pairs) {
      const auto expected = offset_binary ? -codes[a] : -codes[a] - 1;
      EXPECT_TRUE(torch::equal(codes[b], expected)) << core::to_string(encoding) << " pair " << a << ", " << b;
    }
    if (offset_binary) {
      // The odd codes of the 16-level mid-rise grid: |d| <= 15, never 0.
      EXPECT_TRUE(torch::remainder(codes, 2).eq(1).all().item<bool>());
      EXPECT_LE(codes.abs().max().item<int>(), 15);
    } else {
      EXPECT_GE(codes.min().item<int>(), -8);
      EXPECT_LE(codes.max().item<int>(), 7);
    }
  }
}

TEST(FilterPairing, TheFreeFilterGetsTheTiedFiltersGradientWithItsSignFlipped) {
  torch::manual_seed(2);
  QLinear linear(QLinearOptions{5, 4, false});
  LayerQuantSpec spec;
  spec.mode = LayerMode::Quantized;
  auto pairing = std::make_shared<FilterPairing>();
  pairing->pairs = {{0, 1}};
  spec.pairing = pairing;
  linear->set_spec(spec);
  linear->set_observer_phase(ObserverPhase::Calibrate);
  linear->forward(torch::rand({3, 5}));  // a range for the input observer
  linear->set_observer_phase(ObserverPhase::Frozen);
  const auto x = torch::rand({3, 5});
  auto y = linear->forward(x);
  // Only output 1 (the tied filter) in the loss: its gradient reaches filter 0, negated.
  y.select(1, 1).sum().backward();
  const auto grad = linear->weight.grad();
  EXPECT_TRUE(torch::equal(grad[1], torch::zeros({5})));
  EXPECT_LT(grad[0].sum().item<float>(), 0.0f);  // x >= 0: d(-w0)/dw0 * x sums negative
}

TEST(FilterPairing, APairedDepthwiseLayerOnDdcPimEqualsItsIntegerReferenceAndCountsPairs) {
  torch::manual_seed(3);
  QConv2d conv(QConv2dOptions{8, 8, 3, 1, 1, 1, 8, false});  // depthwise
  LayerQuantSpec spec;
  spec.mode = LayerMode::Quantized;
  spec.pairing = pairing_of(core::PairEncoding::TwosComplement);
  conv->set_spec(spec);
  conv->set_observer_phase(ObserverPhase::Calibrate);
  const auto x = torch::rand({2, 8, 5, 5});
  conv->forward(x);
  conv->set_observer_phase(ObserverPhase::Frozen);
  torch::NoGradGuard no_grad;
  const auto reference = conv->forward(x);
  spec.mode = LayerMode::Simulate;
  spec.macro = std::make_shared<core::ddc_pim::DdcPimSpec>(core::ddc_pim::Spec{});
  conv->set_spec(spec);
  conv->reset_simulation_stats();
  const auto simulated = conv->forward(x);
  EXPECT_TRUE(torch::equal(simulated, reference));
  // 3 dual-broadcast pairs and 2 single channels: 2 * 3 + 2 = 8 channels' row drives of one.
  const core::ProductShape channel{2 * 25, 1, 1, 9};
  const auto one = core::ddc_pim::DdcPimMacro(core::ddc_pim::Spec{}).count(channel).total(core::EventKind::RowDrive);
  EXPECT_EQ(conv->simulation_stats().events.total(core::EventKind::RowDrive), 8 * one);
  EXPECT_EQ(conv->last_products().filter_pairs, 3);
}

// ---- the pairs through the macro's Q/Q̄ datapath (`bitline layer`, issue 25) -------------------

// A layer in simulate mode on ddc_pim that runs the macro (not the lossless shortcut) with `pairing`,
// after a calibration pass on x; returns the quantized-mode output of the same layer with the same
// (tied) pairing first when `reference` is given.
template <class Layer>
torch::Tensor run_paired(Layer& layer, const torch::Tensor& x, std::shared_ptr<FilterPairing> pairing,
                         torch::Tensor* reference = nullptr) {
  LayerQuantSpec spec;
  spec.mode = LayerMode::Quantized;
  spec.weight_bits = 4;
  spec.pairing = pairing;
  layer->set_spec(spec);
  layer->set_observer_phase(ObserverPhase::Calibrate);
  layer->forward(x);
  layer->set_observer_phase(ObserverPhase::Frozen);
  torch::NoGradGuard no_grad;
  if (reference != nullptr) *reference = layer->forward(x);
  spec.mode = LayerMode::Simulate;
  spec.macro = std::make_shared<core::ddc_pim::DdcPimSpec>(core::ddc_pim::Spec{});
  spec.run_lossless_macros = true;
  layer->set_spec(spec);
  layer->reset_simulation_stats();
  return layer->forward(x);
}

TEST(FilterPairing, TiedPairsRunThroughTheDatapathEqualTheIntegerReference) {
  torch::manual_seed(4);
  for (const auto encoding : {core::PairEncoding::TwosComplement, core::PairEncoding::OffsetBinary}) {
    SCOPED_TRACE(core::to_string(encoding));
    QLinear linear(QLinearOptions{40, 8, false});
    QConv2d pointwise(QConv2dOptions{6, 8, 1, 1, 0, 1, 1, false});
    QConv2d depthwise(QConv2dOptions{8, 8, 3, 1, 1, 1, 8, false});
    torch::Tensor reference;
    EXPECT_TRUE(torch::equal(run_paired(linear, torch::rand({3, 40}), pairing_of(encoding), &reference), reference));
    EXPECT_TRUE(torch::equal(run_paired(pointwise, torch::rand({2, 6, 4, 4}), pairing_of(encoding), &reference), reference));
    EXPECT_TRUE(torch::equal(run_paired(depthwise, torch::rand({2, 8, 5, 5}), pairing_of(encoding), &reference), reference));
    EXPECT_TRUE(std::isinf(depthwise->simulation_stats().csnr_db()));
    EXPECT_GT(depthwise->simulation_stats().events.total(core::EventKind::RowDrive), 0);
  }
}

TEST(FilterPairing, GivenPairsThatAreNotComplementsAreRefusedByTheMacroNamingTheFilters) {
  torch::manual_seed(5);
  auto given = pairing_of(core::PairEncoding::TwosComplement);
  given->tied = false;  // each filter keeps its own (random) weights
  QLinear linear(QLinearOptions{40, 8, false});
  QConv2d depthwise(QConv2dOptions{8, 8, 3, 1, 1, 1, 8, false});
  const auto message_of = [&](auto& layer, const torch::Tensor& x) {
    try {
      run_paired(layer, x, given);
    } catch (const InputError& error) {
      return std::string(error.what());
    }
    return std::string();
  };
  EXPECT_THAT(message_of(linear, torch::rand({3, 40})),
              ::testing::HasSubstr("filters 0 and 3 (pair 0 of its pairs) are not a complementary pair: the ddc_pim macro "
                                   "cannot store them in shared cells (twos_complement, weight 0 of 40)"));
  EXPECT_THAT(message_of(depthwise, torch::rand({2, 8, 5, 5})), ::testing::HasSubstr("filters 0 and 3"));
}

TEST(FilterPairing, GivenPairsThatAreComplementsPassTheMacro) {
  // Weights whose 4-bit codes are complements by construction: w_b = -w_a - Δ on a shared scale.
  torch::manual_seed(6);
  QLinear linear(QLinearOptions{12, 4, false});
  torch::NoGradGuard no_grad;
  // Free codes in [-7, 6], -7 taken: the free filters' range is 1 and the complements -c - 1 stay in
  // [-7, 6], on the symmetric 4-bit grid of step Δ = 1/7.
  const double step = 1.0 / 7;
  auto codes = torch::randint(-7, 7, {4, 12}).to(torch::kFloat32);
  codes[0][0] = -7;
  codes[2][0] = -7;
  codes[1] = -codes[0] - 1;
  codes[3] = -codes[2] - 1;
  linear->weight.copy_(codes * step);
  auto given = std::make_shared<FilterPairing>();
  given->pairs = {{0, 1}, {2, 3}};
  given->tied = false;
  const auto x = torch::rand({3, 12});
  const auto simulated = run_paired(linear, x, given);
  EXPECT_TRUE(std::isinf(linear->simulation_stats().csnr_db()));
  EXPECT_EQ(simulated.sizes(), (std::vector<int64_t>{3, 4}));
}

}  // namespace
}  // namespace bitline::nn
