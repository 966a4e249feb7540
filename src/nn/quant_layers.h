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

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "core/events.h"
#include "core/macro.h"
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

// Integer-valued codes of an operand, with the step r / q_max that dequantizes them.
struct OperandCodes {
  torch::Tensor codes;  // STE: gradients flow to the real-valued operand
  torch::Tensor step;   // scalar, or shaped to broadcast over output channels
  bool is_signed = false;
  int bits = 8;
};

// The largest |code| of an operand: 2^(bits-1) signed (two's complement, and the odd codes of an
// offset-binary weight), 2^bits - 1 unsigned.
double max_abs_code(const OperandCodes& codes);

// The integer reference of quantized and simulate mode, Σ_k x_k w_k over `depth` products per output,
// exact (DESIGN.md invariant 3): `product(x, w)` (a linear, conv or matmul of float-valued codes) over
// the whole depth in fp32 when no partial sum can reach 2^24 (every integer on the way is then exact
// in fp32); otherwise over slices of the depth axes (`x_axis` of x, `w_axis` of w, `units` long, each
// unit depth / units products: a conv's input channel holds k^2) small enough for that, summed in
// fp64, or (units = 0: the axes cannot be sliced, a grouped conv) in fp64 at once; rounded once to
// fp32. While autograd records (training's forward passes) it is the fp32 product of the whole depth,
// whose sums past 2^24 are rounded (far below one quantization step of the output).
using CodeProduct = std::function<torch::Tensor(const torch::Tensor& x, const torch::Tensor& w)>;
torch::Tensor exact_integer_product(const CodeProduct& product, const OperandCodes& x, const OperandCodes& w, int64_t depth,
                                    int64_t x_axis, int64_t w_axis, int64_t units);

// What a simulate-mode layer has seen since the last reset: its macro events and the sums behind
// its CSNR = 10 log10(E[y_q^2] / E[(y_sim - y_q)^2]) (y_q: the integer reference output).
struct SimulationStats {
  core::Events events;
  double reference_energy = 0;  // sum of y_q^2 over inexact products (exact ones: NaN if not finite)
  double error_energy = 0;      // sum of (y_sim - y_q)^2
  int64_t outputs = 0;
  double csnr_db() const;  // +inf when the simulation is exact; NaN when outputs were not finite
};

// The macro products of one sample of a layer's last forward call (any mode), for the cost model:
// `count` products of `shape` (rows per sample), the stored operand's bits, and whether the input
// operand was signed (in float mode: whether its observer has seen negative values, the rule of
// activation_sign auto).
struct ProductsPerSample {
  core::ProductShape shape;
  int64_t count = 0;  // 0: no forward call yet
  int stored_bits = 8;
  bool signed_inputs = false;
  bool stored_operand_changes = false;  // attention: both operands are activations
  // FCC: filters tied in complementary pairs (spec().pairing), as core::products_with_pairs takes them.
  int64_t filter_pairs = 0;
  core::PairEncoding pair_encoding = core::PairEncoding::TwosComplement;
};

// Shared state and quantization logic of QLinear, QConv2d and QMatmul.
class QuantLayer : public torch::nn::Module {
 public:
  const std::string& layer_name() const { return name_; }
  void set_layer_name(std::string name) { name_ = std::move(name); }
  const LayerQuantSpec& spec() const { return spec_; }
  void set_spec(const LayerQuantSpec& spec);
  void set_observer_phase(ObserverPhase phase) { phase_ = phase; }
  virtual std::string kind() const = 0;  // "linear", "conv2d", "matmul"
  // The stored weight [out, ...] of linear and conv layers; undefined for matmul.
  virtual torch::Tensor stored_weight() const { return {}; }
  // The weight codes of quantized mode under spec(), [out, depth] int32: with spec().pairing, the
  // tied filters' complements (offset binary: the odd codes of its grid). Linear and conv layers.
  torch::Tensor weight_codes() const;
  // Multiply-accumulates per sample of the last forward call (for reports).
  int64_t last_macs_per_sample() const { return last_macs_per_sample_; }
  const ProductsPerSample& last_products() const { return last_products_; }
  const SimulationStats& simulation_stats() const { return stats_; }
  // Whether the stored weight is updated on the layer's macro (simulate mode on a floating-point
  // macro whose training_products().weight_update): the training loop leaves it out of the
  // optimizer and calls update_weight_on_macro after each step.
  bool updates_weight_on_macro();
  // stored_weight() ← stored_weight() - learning_rate · its gradient, in place, as the macro computes
  // it (plain SGD in its format); records the events. Nothing when the weight has no gradient.
  void update_weight_on_macro(double learning_rate);
  void reset_simulation_stats() { stats_ = SimulationStats{}; }
  // Readout calibration (the analog macro's calibrated ADC full scale): while collecting,
  // simulate-mode forward passes give the macro's products to its calibration (and use the
  // integer reference); finishing replaces the layer's macro spec by the calibrated one.
  bool calibrates_readout() const;
  void start_readout_calibration();
  void finish_readout_calibration();

 protected:
  // Updates the observer when the phase (and training state) says so.
  void observe(const torch::Tensor& x, ActivationObserver& observer) const;
  // Observes x and, in quantized or simulate mode, returns its codes; in float mode {x, 1}.
  OperandCodes quantize_activation(const torch::Tensor& x, ActivationObserver& observer);
  // Codes of a weight [out, ...], with the step shaped to broadcast over the output channel at
  // `channel_dim` of a result with `result_dims` dimensions.
  // Paired filters (spec().pairing): the tied filters' codes are the complements of the free ones'.
  OperandCodes quantize_weight(const torch::Tensor& weight, int64_t channel_dim, int64_t result_dims) const;
  // The weights of float mode: paired filters tied as -w - Δ.
  torch::Tensor float_weight(const torch::Tensor& weight) const;
  bool quantized() const { return spec_.mode != LayerMode::Float; }
  bool simulated() const { return spec_.mode == LayerMode::Simulate; }
  // Simulate mode on a macro of floating-point operands (DAISM): the layer's fp32 operands go to
  // the macro without integer quantization; the macro rounds them to its format.
  bool on_float_macro() const;
  // The layer's macro for floating-point operands (built on first use). InputError naming the layer
  // for a macro that cannot take its operands.
  const core::Macro& float_macro();
  // y [rows, cols] = x [rows, K] · w [cols, K]ᵀ on that macro (K = channels * kernel_area),
  // differentiable: while training, each product (forward, input gradient, weight gradient) runs on
  // the macro where its training_products() say so and in exact fp32 otherwise. Records the events,
  // and outside training the CSNR against the exact fp32 product.
  // exact_rows: the exact fp32 product when the caller has it (evaluation), else computed here.
  torch::Tensor float_macro_product(const torch::Tensor& x, const torch::Tensor& w, int64_t channels,
                                    int64_t kernel_area, uint64_t key_part, int64_t rows_per_sample,
                                    uint64_t first_sample_of_rows, const torch::Tensor& exact_rows = {});
  // Simulate mode on a lossless macro (outside a readout calibration): its result is the exact
  // product the caller already has, so the macro is not run; records the events of `products`
  // products of `shape` and returns true. Otherwise returns false.
  bool count_if_lossless(const OperandCodes& x, int weight_bits, const core::ProductShape& shape, int64_t products);
  // One product of integer codes on the macro: [rows, cols] result of x [rows, K] . w [cols, K]^T
  // (contiguous int32), K = channels * kernel_area. While calibrating the readout it gives the
  // products to the calibration and returns an undefined tensor (the layer uses the reference).
  torch::Tensor run_macro(const torch::Tensor& x_int, const torch::Tensor& w_int, const OperandCodes& x,
                          int weight_bits, int64_t channels, int64_t kernel_area, uint64_t key_part,
                          int64_t rows_per_sample, uint64_t first_sample_of_rows);
  // The output columns of a product of all `filters` on a macro that stores complementary pairs:
  // each pair's (free, tied) side by side, then the filters left single; empty when the layer has no
  // pairs, its macro stores none, or a pair is not among `filters`.
  std::vector<int64_t> paired_column_order(int64_t filters) const;
  // on_macro.forward into out, recording the events; a pair the macro cannot store is bad input,
  // named by its filters (`filter_of_column`: the filter of each product column; empty: the same).
  void forward_on_macro(const core::Macro& on_macro, const core::ProductShape& shape, const torch::Tensor& x_int,
                        const torch::Tensor& w_int, const core::NoiseKey& key, torch::Tensor& out,
                        const std::vector<int64_t>& filter_of_column);
  // Simulate mode: the macro's result with the reference's gradient (straight-through), and the
  // CSNR statistics of the scaled outputs. An undefined `simulated`: exact, the reference itself.
  torch::Tensor straight_through(const torch::Tensor& reference, const torch::Tensor& simulated,
                                 const torch::Tensor& scale);
  // Records the layer's filter pairs in the products of its last forward call.
  void set_pairs(ProductsPerSample& products) const;
  // Noise-aware training: multiplicative output noise while training.
  torch::Tensor apply_nat(const torch::Tensor& y) const;
  uint64_t noise_key(uint64_t part) const;

  std::string name_;
  LayerQuantSpec spec_;
  ObserverPhase phase_ = ObserverPhase::Frozen;
  int64_t last_macs_per_sample_ = 0;
  ProductsPerSample last_products_;
  SimulationStats stats_;
  // The layer's macro for these operands, made on first use.
  const core::Macro& macro(int weight_bits, int input_bits, bool signed_inputs, const core::ColumnPairs& pairs = {});

 private:
  // The weight range per output channel (or one), the pairs sharing their free filter's.
  torch::Tensor weight_range(const torch::Tensor& weight) const;
  std::map<std::tuple<int, int, bool, int, int64_t, bool>, std::unique_ptr<core::Macro>> macros_;
  std::unique_ptr<core::Macro> float_macro_;  // on_float_macro(): made on first use
  std::unique_ptr<core::ReadoutCalibration> calibration_;  // set while calibrating
};

// The sample index of the first row of the current batch, which keys simulation noise so that
// results do not depend on how a dataset is split into batches. Set by the evaluation and training
// loops.
void set_first_sample(uint64_t sample);
uint64_t first_sample();

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
  torch::Tensor stored_weight() const override { return weight; }
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
  torch::Tensor stored_weight() const override { return weight; }
  const QConv2dOptions& options() const { return options_; }
  torch::Tensor weight, bias;  // weight [out, in/groups, k, k]

 private:
  // The macro's result [B, out, OH, OW]; undefined when the macro is lossless.
  torch::Tensor simulate(const torch::Tensor& x_codes, const torch::Tensor& w_codes, const OperandCodes& xq,
                         int weight_bits, torch::IntArrayRef output_size);
  // The convolution without bias on a floating-point macro (im2col rows, group by group).
  torch::Tensor convolve_on_float_macro(const torch::Tensor& x);
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

// (free, tied) output channels of FilterPairing::pairs, as index tensors.
std::pair<torch::Tensor, torch::Tensor> pair_indices(const std::vector<std::pair<int64_t, int64_t>>& pairs);

// Every QuantLayer of a model with its dotted module path (its stable name), in registration order.
// Also stores that name in each layer.
std::vector<std::pair<std::string, std::shared_ptr<QuantLayer>>> quant_layers(torch::nn::Module& model);
void set_observer_phase(torch::nn::Module& model, ObserverPhase phase);
void reset_observers(torch::nn::Module& model);

}  // namespace bitline::nn
