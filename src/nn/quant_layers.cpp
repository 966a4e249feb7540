#include "nn/quant_layers.h"

#include <torch/torch.h>

#include <cmath>

#include "core/error.h"
#include "core/quantizer.h"

namespace bitline::nn {
namespace {

// ASiM's weight-range rule (max |w| + 1e-7): a zero channel still has a positive range.
constexpr double kRangeFloor = 1e-7;

core::QuantGrid grid(int bits, bool is_signed) { return core::QuantGrid{bits, is_signed}; }

// Integer-valued codes round(clamp(x / range, lo, 1) * q_max) whose gradient is that of the
// unrounded expression (straight-through round, zero gradient where the clamp is active).
torch::Tensor ste_codes(const torch::Tensor& x, const torch::Tensor& range, const core::QuantGrid& g) {
  auto scaled = (x / range).clamp(g.lower_unit(), 1.0) * static_cast<double>(g.max_code());
  return scaled + (scaled.round() - scaled).detach();
}

}  // namespace

// ---- ActivationObserver ----------------------------------------------------------------------

ActivationObserverImpl::ActivationObserverImpl(double momentum) : momentum_(momentum) {
  min_ = register_buffer("min", torch::zeros({}));
  max_ = register_buffer("max", torch::zeros({}));
  batches_seen_ = register_buffer("batches_seen", torch::zeros({}, torch::kInt64));
}

void ActivationObserverImpl::observe(const torch::Tensor& x, ObserverPhase phase) {
  if (phase == ObserverPhase::Frozen) return;
  torch::NoGradGuard no_grad;
  auto [batch_min, batch_max] = torch::aminmax(x.detach());
  const bool first = batches_seen_.item<int64_t>() == 0;
  if (first) {
    min_.copy_(batch_min);
    max_.copy_(batch_max);
  } else if (phase == ObserverPhase::Track) {
    min_.add_(momentum_ * (batch_min - min_));
    max_.add_(momentum_ * (batch_max - max_));
  } else {
    min_.copy_(torch::minimum(min_, batch_min));
    max_.copy_(torch::maximum(max_, batch_max));
  }
  batches_seen_.add_(1);
}

void ActivationObserverImpl::reset() {
  min_.zero_();
  max_.zero_();
  batches_seen_.zero_();
}

bool ActivationObserverImpl::has_range() const { return batches_seen_.item<int64_t>() > 0; }

bool ActivationObserverImpl::observed_negative() const { return min_.item<float>() < 0.0f; }

float ActivationObserverImpl::range(bool is_signed) const {
  const float lo = min_.item<float>(), hi = max_.item<float>();
  const float peak = is_signed ? std::max(std::fabs(lo), std::fabs(hi)) : hi;
  return std::max(peak, static_cast<float>(kRangeFloor));
}

// ---- QuantLayer -------------------------------------------------------------------------------

void QuantLayer::observe(const torch::Tensor& x, ActivationObserver& observer) const {
  // Ranges move only while training (or in an explicit calibration pass), never in evaluation.
  const bool active = phase_ == ObserverPhase::Calibrate || (is_training() && phase_ == ObserverPhase::Track);
  if (active) observer->observe(x, phase_);
}

std::pair<torch::Tensor, torch::Tensor> QuantLayer::quantize_activation(const torch::Tensor& x,
                                                                        ActivationObserver& observer) {
  observe(x, observer);
  if (!quantized()) return {x, torch::ones({}, x.options())};

  bool is_signed = false;
  torch::Tensor range;
  if (spec_.activation_scaling == ActivationScaling::AsimDynamic) {
    is_signed = spec_.activation_sign == ActivationSign::Signed ||
                (spec_.activation_sign == ActivationSign::Auto && x.min().item<float>() < 0.0f);
    auto peak = is_signed ? x.detach().abs().max() : x.detach().max();
    range = peak + kRangeFloor;
  } else {
    if (!observer->has_range()) {
      throw InputError("layer '" + name_ +
                       "': quantized mode needs a calibrated activation range, but this layer's "
                       "observer has seen no data; train with QAT or run a calibration pass first");
    }
    is_signed = spec_.activation_sign == ActivationSign::Signed ||
                (spec_.activation_sign == ActivationSign::Auto && observer->observed_negative());
    range = torch::full({}, observer->range(is_signed), x.options());
  }
  const auto g = grid(spec_.activation_bits, is_signed);
  return {ste_codes(x, range, g), range / static_cast<double>(g.max_code())};
}

std::pair<torch::Tensor, torch::Tensor> QuantLayer::quantize_weight(const torch::Tensor& weight,
                                                                    int64_t channel_dim,
                                                                    int64_t result_dims) const {
  const auto g = grid(spec_.weight_bits, /*is_signed=*/true);
  auto magnitude = weight.detach().abs();
  torch::Tensor range;
  if (spec_.weight_granularity == WeightGranularity::PerChannel) {
    // Range per output channel, shaped [out, 1, ...] to quantize the weight.
    range = magnitude.reshape({weight.size(0), -1}).amax(1) + kRangeFloor;
  } else {
    range = magnitude.max().reshape({1}) + kRangeFloor;
  }
  std::vector<int64_t> weight_view(weight.dim(), 1);
  weight_view[0] = range.size(0);
  auto codes = ste_codes(weight, range.reshape(weight_view), g);
  std::vector<int64_t> result_view(result_dims, 1);
  result_view[channel_dim] = range.size(0);
  return {codes, (range / static_cast<double>(g.max_code())).reshape(result_view)};
}

// ---- QLinear ----------------------------------------------------------------------------------

QLinearImpl::QLinearImpl(const QLinearOptions& options) : options_(options) {
  // Same initialisation as torch::nn::Linear (kaiming-uniform, a = sqrt(5)).
  torch::nn::Linear reference(torch::nn::LinearOptions(options.in_features, options.out_features).bias(options.bias));
  weight = register_parameter("weight", reference->weight.detach().clone());
  if (options.bias) bias = register_parameter("bias", reference->bias.detach().clone());
  input_observer_ = register_module("input_observer", ActivationObserver());
}

torch::Tensor QLinearImpl::forward(const torch::Tensor& x) {
  last_macs_per_sample_ = x.numel() / std::max<int64_t>(1, x.size(0)) * options_.out_features;
  if (!quantized()) {
    observe(x, input_observer_);
    return torch::nn::functional::linear(x, weight, bias);
  }
  auto [x_codes, x_step] = quantize_activation(x, input_observer_);
  auto [w_codes, w_step] = quantize_weight(weight, x.dim() - 1, x.dim());
  auto y = torch::nn::functional::linear(x_codes, w_codes) * x_step * w_step;
  return bias.defined() ? y + bias : y;
}

// ---- QConv2d ----------------------------------------------------------------------------------

QConv2dImpl::QConv2dImpl(const QConv2dOptions& options) : options_(options) {
  torch::nn::Conv2d reference(torch::nn::Conv2dOptions(options.in_channels, options.out_channels, options.kernel_size)
                                  .groups(options.groups)
                                  .bias(options.bias));
  weight = register_parameter("weight", reference->weight.detach().clone());
  if (options.bias) bias = register_parameter("bias", reference->bias.detach().clone());
  input_observer_ = register_module("input_observer", ActivationObserver());
}

torch::Tensor QConv2dImpl::forward(const torch::Tensor& x) {
  auto conv = [&](const torch::Tensor& input, const torch::Tensor& w, const torch::Tensor& b) {
    return torch::conv2d(input, w, b, options_.stride, options_.padding, options_.dilation, options_.groups);
  };
  torch::Tensor y;
  if (!quantized()) {
    observe(x, input_observer_);
    y = conv(x, weight, bias);
  } else {
    auto [x_codes, x_step] = quantize_activation(x, input_observer_);
    auto [w_codes, w_step] = quantize_weight(weight, /*channel_dim=*/1, /*result_dims=*/4);
    y = conv(x_codes, w_codes, {}) * x_step * w_step;
    if (bias.defined()) y = y + bias.reshape({1, -1, 1, 1});
  }
  last_macs_per_sample_ = y.size(1) * y.size(2) * y.size(3) * weight.size(1) * weight.size(2) * weight.size(3);
  return y;
}

// ---- QMatmul ----------------------------------------------------------------------------------

QMatmulImpl::QMatmulImpl() {
  a_observer_ = register_module("a_observer", ActivationObserver());
  b_observer_ = register_module("b_observer", ActivationObserver());
}

torch::Tensor QMatmulImpl::forward(const torch::Tensor& a, const torch::Tensor& b) {
  last_macs_per_sample_ = a.numel() / std::max<int64_t>(1, a.size(0)) * b.size(-1);
  if (!quantized()) {
    observe(a, a_observer_);
    observe(b, b_observer_);
    return a.matmul(b);
  }
  auto [a_codes, a_step] = quantize_activation(a, a_observer_);
  auto [b_codes, b_step] = quantize_activation(b, b_observer_);
  return a_codes.matmul(b_codes) * (a_step * b_step);
}

// ---- model-wide helpers -----------------------------------------------------------------------

std::vector<std::pair<std::string, std::shared_ptr<QuantLayer>>> quant_layers(torch::nn::Module& model) {
  std::vector<std::pair<std::string, std::shared_ptr<QuantLayer>>> layers;
  for (auto& item : model.named_modules("", /*include_self=*/false)) {
    if (auto layer = std::dynamic_pointer_cast<QuantLayer>(item.value())) {
      layer->set_layer_name(item.key());
      layers.emplace_back(item.key(), layer);
    }
  }
  return layers;
}

void set_observer_phase(torch::nn::Module& model, ObserverPhase phase) {
  for (auto& [name, layer] : quant_layers(model)) layer->set_observer_phase(phase);
}

void reset_observers(torch::nn::Module& model) {
  for (auto& module : model.modules()) {
    if (auto observer = std::dynamic_pointer_cast<ActivationObserverImpl>(module)) observer->reset();
  }
}

}  // namespace bitline::nn
