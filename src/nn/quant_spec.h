#pragma once
// How one layer quantizes its operands. Plain data: app/ fills it from the config (with per-layer
// overrides) and nn/ layers read it. See docs/quantization.md.
#include <cstdint>
#include <memory>
#include <string>

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
};

std::string to_string(LayerMode mode);

}  // namespace bitline::nn
