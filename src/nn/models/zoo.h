#pragma once
// Internal to the model zoo: one factory per model (each in its own translation unit, since
// LibTorch TUs compile slowly) and the small helpers they share. Users go through
// nn/model.h's build_model(), which validates the options common to every model first.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>

#include "core/error.h"
#include "nn/model.h"

namespace bitline::nn::models {

std::shared_ptr<Model> make_mlp(const ModelSpec& spec);
std::shared_ptr<Model> make_lenet5(const ModelSpec& spec);
std::shared_ptr<Model> make_cnn(const ModelSpec& spec);
std::shared_ptr<Model> make_resnet(const ModelSpec& spec);
std::shared_ptr<Model> make_mobilenetv2(const ModelSpec& spec);
std::shared_ptr<Model> make_efficientnet_b0(const ModelSpec& spec);
std::shared_ptr<Model> make_vit(const ModelSpec& spec);

// A channel count c scaled by the width multiplier w, rounded, at least 1.
inline int64_t scale_channels(int64_t c, double w) {
  return std::max<int64_t>(1, std::lround(static_cast<double>(c) * w));
}

// torchvision's _make_divisible: round v to the nearest multiple of `divisor` (at least
// `divisor`), never going more than 10% below v.
inline int64_t make_divisible(double v, int64_t divisor = 8) {
  const auto d = static_cast<double>(divisor);
  auto rounded = std::max<int64_t>(divisor, static_cast<int64_t>(v + d / 2) / divisor * divisor);
  if (static_cast<double>(rounded) < 0.9 * v) rounded += divisor;
  return rounded;
}

// Spatial size after a convolution or pooling window.
inline int64_t conv_out_size(int64_t in, int64_t kernel, int64_t stride, int64_t padding) {
  return (in + 2 * padding - kernel) / stride + 1;
}

[[noreturn]] inline void throw_input(const std::string& message) { throw InputError(message); }

}  // namespace bitline::nn::models
