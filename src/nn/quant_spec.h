#pragma once
// How one layer quantizes its operands. Plain data: app/ fills it from the config (with per-layer
// overrides) and nn/ layers read it. See docs/quantization.md.
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/macro.h"

namespace bitline::nn {

// float: fp32 reference. quantized: integer reference (integer operands, exact products, ideal
// readout). simulate: the products run bit-accurately on the layer's in-memory macro.
enum class LayerMode { Float, Quantized, Simulate };
enum class WeightGranularity { PerTensor, PerChannel };
// static: ranges calibrated once (observers during training or a calibration pass) and then fixed.
// asim_dynamic: ASiM's rule, range = max over the whole batch tensor, recomputed every call.
enum class ActivationScaling { Static, AsimDynamic };
// auto: signed when the calibrated minimum is negative (e.g. normalized images), else unsigned.
enum class ActivationSign { Auto, Unsigned, Signed };

// DDC-PIM's FCC tie (docs/ddc_pim.md): filters (output channels) tied in complementary pairs. In
// quantized and simulate mode the tied filter's codes are the complement of the free filter's
// (two's complement: -w - 1; offset binary: -d on the layer's mid-rise grid of 2^n levels, whose
// odd codes d take weight_bits + 1 bits), with the free filter's scale; in float mode its weights are
// -w - Δ (Δ: one quantization step; 0 for offset binary). The tied filter's own parameters are unused.
struct FilterPairing {
  core::PairEncoding encoding = core::PairEncoding::TwosComplement;
  std::vector<std::pair<int64_t, int64_t>> pairs;  // (free, tied) output channels
  // false: the pairs are given, not tied: each tied filter keeps its own weights (quantized with the
  // free filter's scale, which the pair shares), so a pair that is not complementary reaches the
  // macro, which refuses to store it (`bitline layer` with `layer.pairs`).
  bool tied = true;
};

struct LayerQuantSpec {
  LayerMode mode = LayerMode::Float;
  int weight_bits = 8;
  WeightGranularity weight_granularity = WeightGranularity::PerChannel;
  int activation_bits = 8;
  ActivationSign activation_sign = ActivationSign::Auto;
  ActivationScaling activation_scaling = ActivationScaling::Static;
  // The macro of simulate mode (any registered type), fixed for the layer's operands at each call:
  // weight and input bits from the fields above, the input sign as resolved.
  std::shared_ptr<const core::MacroSpec> macro;
  // ASiM's noise-aware training: while training, y <- y + eps * nat_sigma * y, eps ~ N(0, 1).
  double nat_sigma = 0.0;
  // Simulate mode's backward pass: the straight-through identity of the quantized product, or that
  // gradient times the slope of the macro's realized transfer, the least-squares gain
  // sum(y_sim y_q) / sum(y_q^2) of the layer's outputs in the batch (ADC-aware training, docs/adc.md).
  enum class SimulateGradient { Identity, CurveSlope };
  SimulateGradient simulate_gradient = SimulateGradient::Identity;
  std::shared_ptr<const FilterPairing> pairing;  // null: the filters are independent
  // Simulate mode on a lossless macro: run its datapath and compare it with the integer reference,
  // instead of taking the reference as its result (`bitline layer`: the exactness is measured, and
  // a macro that stores pairs checks them).
  bool run_lossless_macros = false;
};

std::string to_string(LayerMode mode);

}  // namespace bitline::nn
