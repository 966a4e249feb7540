#pragma once
// Quantization-aware layers: every linear, conv and attention product of the model zoo is one of
// these, so that configs and reports can address it by its stable name and switch its mode.
//
// In quantized mode a layer computes y = (Xq · Wq) · (r_x / q_x) · (r_w / q_w) + bias, where Xq and
// Wq are integer-valued (core/quantizer.h grid) and the straight-through estimator passes gradients
// through round() (and zeroes them outside the clamp range), so the same code serves QAT and the
// integer reference.
#include <torch/nn/module.h>
#include <torch/types.h>

#include <string>
#include <utility>
#include <vector>

#include "nn/quant_spec.h"

namespace bitline::nn {

// What activation observers do on a forward pass.
enum class ObserverPhase {
  Frozen,      // use the stored range (evaluation)
  Track,       // exponential moving average of batch min/max (training)
  Calibrate,   // running min/max over all batches seen since reset (calibration pass)
};

// Tracks one activation tensor's range. Its state lives in module buffers, so checkpoints keep it.
class ActivationObserverImpl : public torch::nn::Module {
 public:
  explicit ActivationObserverImpl(double momentum = 0.1);
  void observe(const torch::Tensor& x, ObserverPhase phase);
  void reset();
  bool has_range() const;
  // The range r for quantization; the sign decision of ActivationSign::Auto.
  float range(bool is_signed) const;
  bool observed_negative() const;

 private:
  double momentum_;
  torch::Tensor min_, max_, batches_seen_;
};
TORCH_MODULE(ActivationObserver);

// Shared state and quantization logic of QLinear, QConv2d and QMatmul.
class QuantLayer : public torch::nn::Module {
 public:
  const std::string& layer_name() const { return name_; }
  void set_layer_name(std::string name) { name_ = std::move(name); }
  const LayerQuantSpec& spec() const { return spec_; }
  void set_spec(const LayerQuantSpec& spec) { spec_ = spec; }
  void set_observer_phase(ObserverPhase phase) { phase_ = phase; }
  virtual std::string kind() const = 0;  // "linear", "conv2d", "matmul"
  // Multiply-accumulates per sample of the last forward call (for reports).
  int64_t last_macs_per_sample() const { return last_macs_per_sample_; }

 protected:
  // Updates the observer when the phase (and training state) says so.
  void observe(const torch::Tensor& x, ActivationObserver& observer) const;
  // Observes x and, in quantized mode, returns its integer-valued STE codes together
  // with the dequantization step r / q_max. In float mode returns {x, 1}.
  std::pair<torch::Tensor, torch::Tensor> quantize_activation(const torch::Tensor& x,
                                                              ActivationObserver& observer);
  // Integer-valued STE codes of a weight [out, ...] and its step, shaped to broadcast over the
  // output channel at `channel_dim` of a result with `result_dims` dimensions.
  std::pair<torch::Tensor, torch::Tensor> quantize_weight(const torch::Tensor& weight,
                                                          int64_t channel_dim,
                                                          int64_t result_dims) const;
  bool quantized() const { return spec_.mode == LayerMode::Quantized; }

  std::string name_;
  LayerQuantSpec spec_;
  ObserverPhase phase_ = ObserverPhase::Frozen;
  int64_t last_macs_per_sample_ = 0;
};

struct QLinearOptions {
  int64_t in_features;
  int64_t out_features;
  bool bias = true;
};

class QLinearImpl : public QuantLayer {
 public:
  explicit QLinearImpl(const QLinearOptions& options);
  torch::Tensor forward(const torch::Tensor& x);
  std::string kind() const override { return "linear"; }
  torch::Tensor weight, bias;  // bias undefined when options.bias is false

 private:
  QLinearOptions options_;
  ActivationObserver input_observer_;
};
TORCH_MODULE(QLinear);

struct QConv2dOptions {
  int64_t in_channels;
  int64_t out_channels;
  int64_t kernel_size;
  int64_t stride = 1;
  int64_t padding = 0;
  int64_t dilation = 1;
  int64_t groups = 1;
  bool bias = true;
};

class QConv2dImpl : public QuantLayer {
 public:
  explicit QConv2dImpl(const QConv2dOptions& options);
  torch::Tensor forward(const torch::Tensor& x);
  std::string kind() const override { return "conv2d"; }
  const QConv2dOptions& options() const { return options_; }
  torch::Tensor weight, bias;  // weight [out, in/groups, k, k]

 private:
  QConv2dOptions options_;
  ActivationObserver input_observer_;
};
TORCH_MODULE(QConv2d);

// A product of two activations, e.g. attention's Q·Kᵀ and A·V: y = a.matmul(b).
class QMatmulImpl : public QuantLayer {
 public:
  QMatmulImpl();
  torch::Tensor forward(const torch::Tensor& a, const torch::Tensor& b);
  std::string kind() const override { return "matmul"; }

 private:
  ActivationObserver a_observer_, b_observer_;
};
TORCH_MODULE(QMatmul);

// Every QuantLayer of a model with its dotted module path (its stable name), in registration order.
// Also stores that name in each layer.
std::vector<std::pair<std::string, std::shared_ptr<QuantLayer>>> quant_layers(torch::nn::Module& model);
void set_observer_phase(torch::nn::Module& model, ObserverPhase phase);
void reset_observers(torch::nn::Module& model);

}  // namespace bitline::nn
