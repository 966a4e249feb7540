#include "nn/quant_layers.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include <atomic>
#include <cmath>
#include <limits>

#include "core/conv_rows.h"
#include "core/digest.h"
#include "core/error.h"
#include "core/quantizer.h"

namespace bitline::nn {
namespace {

// ASiM's range rule (max + 1e-7): a zero tensor or channel still has a positive range.
constexpr double kRangeFloor = 1e-7;

std::atomic<uint64_t> g_first_sample{0};

// Integer-valued codes round(clamp(x / range, lo, 1) * q_max) whose gradient is that of the
// unrounded expression (straight-through round, zero gradient where the clamp is active).
torch::Tensor ste_codes(const torch::Tensor& x, const torch::Tensor& range, const core::QuantGrid& g) {
  auto scaled = (x / range).clamp_(g.lower_unit(), 1.0).mul_(static_cast<double>(g.max_code()));
  // Without a gradient the codes alone, in place; otherwise s + (round(s) - s), which is exactly
  // round(s) as a value (the difference is exact in float), with the identity as its gradient.
  if (!torch::GradMode::is_enabled() || !scaled.requires_grad()) return scaled.round_();
  return scaled + (scaled.round() - scaled).detach();
}

// Integer-valued float tensor -> contiguous int32 [rows, K].
torch::Tensor as_int32_rows(const torch::Tensor& codes, int64_t depth) {
  return codes.detach().reshape({-1, depth}).to(torch::kInt32).contiguous();
}

// Scratch for a conv's input rows, reused across calls: allocating (and page-faulting) a fresh
// buffer of up to hundreds of MB per layer call cost as much as the macro kernel itself.
template <class T>
torch::Tensor rows_workspace(int64_t rows, int64_t depth, torch::ScalarType type) {
  thread_local std::vector<T> buffer;
  const auto count = static_cast<std::size_t>(rows * depth);
  if (buffer.size() < count) buffer.resize(count);
  return torch::from_blob(buffer.data(), {rows, depth}, type);
}
torch::Tensor conv_rows_workspace(int64_t rows, int64_t depth) { return rows_workspace<int32_t>(rows, depth, torch::kInt32); }
torch::Tensor float_rows_workspace(int64_t rows, int64_t depth) { return rows_workspace<float>(rows, depth, torch::kFloat32); }

}  // namespace

void set_first_sample(uint64_t sample) { g_first_sample.store(sample); }
uint64_t first_sample() { return g_first_sample.load(); }

double SimulationStats::csnr_db() const {
  // Non-finite outputs (a NaN input, allowed by `bitline layer --allow-non-finite`): undefined.
  if (!std::isfinite(reference_energy) || !std::isfinite(error_energy)) return std::numeric_limits<double>::quiet_NaN();
  if (error_energy == 0) return std::numeric_limits<double>::infinity();
  return 10.0 * std::log10(reference_energy / error_energy);
}

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

void QuantLayer::set_spec(const LayerQuantSpec& spec) {
  spec_ = spec;
  macros_.clear();  // the macro may have changed
  float_macro_.reset();
}

bool QuantLayer::on_float_macro() const {
  return simulated() && spec_.macro && spec_.macro->operand_kind() == core::OperandKind::FloatingPoint;
}

namespace {

// A product on a floating-point macro as an autograd node. Non-tensor arguments travel in
// saved_data; the macro and the statistics belong to the layer, which outlives the backward pass.
struct MacroProductFunction : public torch::autograd::Function<MacroProductFunction> {
  static torch::Tensor forward(torch::autograd::AutogradContext* context, const torch::Tensor& x, const torch::Tensor& w,
                               const core::Macro* macro, core::ProductShape shape, core::NoiseKey key,
                               SimulationStats* stats, bool exact_forward) {
    context->save_for_backward({x, w});
    context->saved_data["macro"] = reinterpret_cast<int64_t>(macro);
    context->saved_data["stats"] = reinterpret_cast<int64_t>(stats);
    context->saved_data["channels"] = shape.channels;
    context->saved_data["kernel_area"] = shape.kernel_area;
    context->saved_data["key_layer"] = static_cast<int64_t>(key.layer);
    context->saved_data["key_first_sample"] = static_cast<int64_t>(key.first_sample);
    context->saved_data["key_rows_per_sample"] = key.rows_per_sample;
    if (exact_forward) return x.mm(w.t());
    auto out = torch::empty({shape.rows, shape.cols}, torch::kFloat32);
    macro->forward(shape, x.data_ptr<float>(), w.data_ptr<float>(), key, out.data_ptr<float>(), &stats->events);
    return out;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* context,
                                                 torch::autograd::variable_list grad_outputs) {
    const auto saved = context->get_saved_variables();
    const auto& x = saved[0];
    const auto& w = saved[1];
    const auto* macro = reinterpret_cast<const core::Macro*>(context->saved_data["macro"].toInt());
    auto* stats = reinterpret_cast<SimulationStats*>(context->saved_data["stats"].toInt());
    const core::ProductShape shape{x.size(0), w.size(0), context->saved_data["channels"].toInt(),
                                   context->saved_data["kernel_area"].toInt()};
    const core::NoiseKey key{static_cast<uint64_t>(context->saved_data["key_layer"].toInt()),
                             static_cast<uint64_t>(context->saved_data["key_first_sample"].toInt()),
                             context->saved_data["key_rows_per_sample"].toInt()};
    const auto dy = grad_outputs[0].contiguous();
    const auto products = macro->training_products();
    torch::Tensor dx, dw;
    if (products.input_gradient) {
      dx = torch::empty_like(x);
      macro->input_gradient(shape, dy.data_ptr<float>(), w.data_ptr<float>(), key, dx.data_ptr<float>(), &stats->events);
    } else {
      dx = dy.mm(w);
    }
    if (products.weight_gradient) {
      dw = torch::empty_like(w);
      macro->weight_gradient(shape, dy.data_ptr<float>(), x.data_ptr<float>(), key, dw.data_ptr<float>(), &stats->events);
    } else {
      dw = dy.t().mm(x);
    }
    return {dx, dw, torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

const core::Macro& QuantLayer::float_macro() {
  if (!float_macro_) {
    try {
      float_macro_ = core::macro_for_layer(*spec_.macro, {spec_.weight_bits, spec_.activation_bits, false, {}});
    } catch (const std::invalid_argument& error) {
      throw InputError("layer '" + name_ + "': invalid " + spec_.macro->type() + " macro: " + error.what());
    }
  }
  return *float_macro_;
}

bool QuantLayer::updates_weight_on_macro() {
  return on_float_macro() && stored_weight().defined() && float_macro().training_products().weight_update;
}

void QuantLayer::update_weight_on_macro(double learning_rate) {
  auto weight = stored_weight();
  const auto gradient = weight.grad();
  if (!gradient.defined()) return;
  torch::NoGradGuard no_grad;
  TORCH_CHECK(weight.is_contiguous() && weight.scalar_type() == torch::kFloat32);
  const auto gradient_values = gradient.to(torch::kFloat32).contiguous();
  float_macro().update_weights(weight.numel(), weight.data_ptr<float>(), gradient_values.data_ptr<float>(),
                               learning_rate, &stats_.events);
}

torch::Tensor QuantLayer::float_macro_product(const torch::Tensor& x, const torch::Tensor& w, int64_t channels,
                                              int64_t kernel_area, uint64_t key_part, int64_t rows_per_sample,
                                              uint64_t first_sample_of_rows, const torch::Tensor& exact_rows) {
  float_macro();
  const auto x_rows = x.to(torch::kFloat32).contiguous();
  const auto w_rows = w.to(torch::kFloat32).contiguous();
  TORCH_CHECK(x_rows.dim() == 2 && w_rows.dim() == 2 && x_rows.size(1) == channels * kernel_area &&
              w_rows.size(1) == x_rows.size(1));
  const core::ProductShape shape{x_rows.size(0), w_rows.size(0), channels, kernel_area};
  const core::NoiseKey key{noise_key(key_part), first_sample_of_rows, rows_per_sample};
  const bool training = torch::GradMode::is_enabled() && (x_rows.requires_grad() || w_rows.requires_grad());
  const bool exact_forward = training && !float_macro_->training_products().forward;
  auto y = MacroProductFunction::apply(x_rows, w_rows, float_macro_.get(), shape, key, &stats_, exact_forward);
  if (training) return y;  // the CSNR is an evaluation statistic: no exact product while training
  torch::NoGradGuard no_grad;
  const auto reference = exact_rows.defined() ? exact_rows : x_rows.detach().mm(w_rows.detach().t());
  stats_.reference_energy += reference.square().sum().item<double>();
  stats_.error_energy += (y.detach() - reference).square_().sum().item<double>();
  stats_.outputs += reference.numel();
  return y;
}

void QuantLayer::observe(const torch::Tensor& x, ActivationObserver& observer) const {
  // Ranges move only while training (or in an explicit calibration pass), never in evaluation.
  const bool active = phase_ == ObserverPhase::Calibrate || (is_training() && phase_ == ObserverPhase::Track);
  if (active) observer->observe(x, phase_);
}

OperandCodes QuantLayer::quantize_activation(const torch::Tensor& x, ActivationObserver& observer) {
  observe(x, observer);
  if (!quantized()) return {x, torch::ones({}, x.options()), true, 32};

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
  const core::QuantGrid grid{spec_.activation_bits, is_signed};
  return {ste_codes(x, range, grid), range / static_cast<double>(grid.max_code()), is_signed, spec_.activation_bits};
}

double max_abs_code(const OperandCodes& codes) {
  return codes.is_signed ? std::ldexp(1.0, codes.bits - 1) : std::ldexp(1.0, codes.bits) - 1;
}

torch::Tensor exact_integer_product(const CodeProduct& product, const OperandCodes& x, const OperandCodes& w, int64_t depth,
                                    int64_t x_axis, int64_t w_axis, int64_t units) {
  constexpr double kExactInFloat = 16777216.0;  // 2^24: every integer below it is an fp32 value
  const double per_product = max_abs_code(x) * max_abs_code(w);
  const bool recording = torch::GradMode::is_enabled() && (x.codes.requires_grad() || w.codes.requires_grad());
  if (recording || static_cast<double>(depth) * per_product < kExactInFloat) return product(x.codes, w.codes);
  const int64_t unit_depth = units > 0 ? depth / units : depth;
  const auto units_per_slice = static_cast<int64_t>(std::floor((kExactInFloat - 1) / (static_cast<double>(unit_depth) * per_product)));
  if (units <= 0 || units_per_slice < 1) {
    return product(x.codes.to(torch::kFloat64), w.codes.to(torch::kFloat64)).to(torch::kFloat32);
  }
  // Slices of equal size (the same work as one product); each slice's sum is exact in fp32.
  const int64_t slices = (units + units_per_slice - 1) / units_per_slice;
  const int64_t per_slice = (units + slices - 1) / slices;
  const auto part = [&](int64_t slice) {
    const int64_t first = slice * per_slice, count = std::min(per_slice, units - first);
    return product(x.codes.narrow(x_axis, first, count), w.codes.narrow(w_axis, first, count));
  };
  // Two exact fp32 sums add with one rounding (IEEE addition rounds correctly): no fp64 needed.
  if (slices == 2) return part(0).add_(part(1));
  torch::Tensor sum = part(0).to(torch::kFloat64);
  for (int64_t slice = 1; slice < slices; ++slice) sum.add_(part(slice).to(torch::kFloat64));
  return sum.to(torch::kFloat32);
}

std::pair<torch::Tensor, torch::Tensor> pair_indices(const std::vector<std::pair<int64_t, int64_t>>& pairs) {
  std::vector<int64_t> free, tied;
  for (const auto& [a, b] : pairs) {
    free.push_back(a);
    tied.push_back(b);
  }
  return {torch::tensor(free, torch::kInt64), torch::tensor(tied, torch::kInt64)};
}

torch::Tensor QuantLayer::weight_range(const torch::Tensor& weight) const {
  auto magnitude = weight.detach().abs();
  torch::Tensor range = spec_.weight_granularity == WeightGranularity::PerChannel
                            ? magnitude.reshape({weight.size(0), -1}).amax(1) + kRangeFloor
                            : magnitude.max().reshape({1}) + kRangeFloor;
  if (spec_.pairing && range.size(0) > 1) {  // a pair shares the free filter's scale
    const auto [free, tied] = pair_indices(spec_.pairing->pairs);
    range = range.index_copy(0, tied, range.index_select(0, free));
  }
  return range;
}

torch::Tensor QuantLayer::float_weight(const torch::Tensor& weight) const {
  if (!spec_.pairing || spec_.pairing->pairs.empty() || !spec_.pairing->tied) return weight;
  const auto [free, tied] = pair_indices(spec_.pairing->pairs);
  auto tied_weight = -weight.index_select(0, free);
  if (spec_.pairing->encoding == core::PairEncoding::TwosComplement) {
    // -w - Δ: one quantization step below the negation, as the complement's codes are.
    const core::QuantGrid grid{spec_.weight_bits, /*is_signed=*/true};
    auto step = (weight_range(weight) / static_cast<double>(grid.max_code())).expand({weight.size(0)});
    std::vector<int64_t> view(weight.dim(), 1);
    view[0] = -1;
    tied_weight = tied_weight - step.index_select(0, free).reshape(view);
  }
  return weight.index_copy(0, tied, tied_weight);
}

OperandCodes QuantLayer::quantize_weight(const torch::Tensor& weight, int64_t channel_dim, int64_t result_dims) const {
  const core::QuantGrid grid{spec_.weight_bits, /*is_signed=*/true};
  const torch::Tensor range = weight_range(weight);
  std::vector<int64_t> weight_view(weight.dim(), 1);
  weight_view[0] = range.size(0);
  std::vector<int64_t> result_view(result_dims, 1);
  result_view[channel_dim] = range.size(0);
  const FilterPairing* pairing = spec_.pairing.get();
  if (pairing == nullptr) {
    auto codes = ste_codes(weight, range.reshape(weight_view), grid);
    return {codes, (range / static_cast<double>(grid.max_code())).reshape(result_view), true, spec_.weight_bits};
  }
  torch::Tensor codes, step;
  int bits = spec_.weight_bits;
  const auto [free, tied] = pair_indices(pairing->pairs);
  if (pairing->encoding == core::PairEncoding::OffsetBinary) {
    // The mid-rise grid of 2^n levels: odd codes d, value d * range / 2^n, on n + 1 bits.
    const double half_levels = std::ldexp(1.0, spec_.weight_bits - 1);
    auto doubled = (weight / range.reshape(weight_view)).clamp(-1.0, 1.0) * (2 * half_levels);
    auto odd = ((doubled.detach() / 2).floor_().clamp_(-half_levels, half_levels - 1) * 2 + 1);
    codes = doubled.requires_grad() && torch::GradMode::is_enabled() ? doubled + (odd - doubled).detach() : odd;
    if (pairing->tied) codes = codes.index_copy(0, tied, -codes.index_select(0, free));
    step = range / (2 * half_levels);
    bits = spec_.weight_bits + 1;
  } else {
    codes = ste_codes(weight, range.reshape(weight_view), grid);
    if (pairing->tied) codes = codes.index_copy(0, tied, -codes.index_select(0, free) - 1);
    step = range / static_cast<double>(grid.max_code());
  }
  return {codes, step.reshape(result_view), true, bits};
}

torch::Tensor QuantLayer::weight_codes() const {
  const torch::Tensor weight = stored_weight();
  TORCH_CHECK(weight.defined(), "weight_codes: layer '", name_, "' has no stored weight");
  torch::NoGradGuard no_grad;
  return quantize_weight(weight, 1, 2).codes.reshape({weight.size(0), -1}).to(torch::kInt32).contiguous();
}

void QuantLayer::set_pairs(ProductsPerSample& products) const {
  products.filter_pairs = spec_.pairing ? static_cast<int64_t>(spec_.pairing->pairs.size()) : 0;
  products.pair_encoding = spec_.pairing ? spec_.pairing->encoding : core::PairEncoding::TwosComplement;
}

const core::Macro& QuantLayer::macro(int weight_bits, int input_bits, bool signed_inputs, const core::ColumnPairs& pairs) {
  auto& slot = macros_[{weight_bits, input_bits, signed_inputs, static_cast<int>(pairs.encoding), pairs.pairs,
                        pairs.separate_inputs}];
  if (!slot) {
    if (!spec_.macro) throw std::logic_error("layer '" + name_ + "': simulate mode without a macro");
    try {
      slot = spec_.macro->for_operands({weight_bits, input_bits, signed_inputs, pairs});
    } catch (const std::invalid_argument& error) {
      throw InputError("layer '" + name_ + "': invalid " + spec_.macro->type() + " macro: " + error.what());
    }
  }
  return *slot;
}

bool QuantLayer::calibrates_readout() const {
  return simulated() && spec_.macro && spec_.macro->readout_calibration() != nullptr;
}

void QuantLayer::start_readout_calibration() { calibration_ = spec_.macro->readout_calibration(); }

void QuantLayer::finish_readout_calibration() {
  if (!calibration_) return;
  spec_.macro = calibration_->finish();
  calibration_.reset();
  macros_.clear();
}

bool QuantLayer::count_if_lossless(const OperandCodes& x, int weight_bits, const core::ProductShape& shape,
                                   int64_t products) {
  if (calibration_ || spec_.run_lossless_macros || !macro(weight_bits, x.bits, x.is_signed).lossless()) return false;
  // A macro that stores complementary pairs computes a paired layer's products in pairs.
  const int64_t pairs = spec_.pairing && spec_.macro->stores_complementary_pairs()
                            ? static_cast<int64_t>(spec_.pairing->pairs.size())
                            : 0;
  const auto encoding = spec_.pairing ? spec_.pairing->encoding : core::PairEncoding::TwosComplement;
  for (const auto& part : core::products_with_pairs(shape, products, pairs, encoding)) {
    const auto& on_macro = macro(weight_bits, x.bits, x.is_signed, part.column_pairs);
    stats_.events += on_macro.count(part.shape).scaled(part.count);
  }
  return true;
}

uint64_t QuantLayer::noise_key(uint64_t part) const {
  return core::fnv1a64(&part, sizeof(part), core::fnv1a64(name_.data(), name_.size()));
}

torch::Tensor QuantLayer::run_macro(const torch::Tensor& x_int, const torch::Tensor& w_int, const OperandCodes& x,
                                    int weight_bits, int64_t channels, int64_t kernel_area, uint64_t key_part,
                                    int64_t rows_per_sample, uint64_t first_sample_of_rows) {
  const auto& on_macro = macro(weight_bits, x.bits, x.is_signed);
  TORCH_CHECK(x_int.is_contiguous() && w_int.is_contiguous() && x_int.scalar_type() == torch::kInt32 &&
              w_int.scalar_type() == torch::kInt32 && x_int.size(1) == channels * kernel_area &&
              w_int.size(1) == x_int.size(1));
  const core::ProductShape shape{x_int.size(0), w_int.size(0), channels, kernel_area};
  if (calibration_) {
    calibration_->add(on_macro, shape, x_int.data_ptr<int32_t>(), w_int.data_ptr<int32_t>());
    return {};
  }
  const core::NoiseKey key{noise_key(key_part), first_sample_of_rows, rows_per_sample};
  // A product of all the layer's filters (linear, ungrouped conv) on a macro that stores pairs: each
  // pair's two columns side by side, then the single filters.
  const auto order = paired_column_order(shape.cols);
  if (!order.empty()) {
    const auto index = torch::tensor(order, torch::kInt64);
    const auto w_paired = w_int.index_select(0, index).contiguous();
    const core::ColumnPairs pairs{spec_.pairing->encoding, static_cast<int64_t>(spec_.pairing->pairs.size()), false};
    auto out = torch::empty({shape.rows, shape.cols}, torch::kFloat32);
    forward_on_macro(macro(weight_bits, x.bits, x.is_signed, pairs), shape, x_int, w_paired, key, out, order);
    return torch::empty_like(out).index_copy_(1, index, out);
  }
  auto out = torch::empty({shape.rows, shape.cols}, torch::kFloat32);
  forward_on_macro(on_macro, shape, x_int, w_int, key, out, {});
  return out;
}

std::vector<int64_t> QuantLayer::paired_column_order(int64_t filters) const {
  if (!spec_.pairing || spec_.pairing->pairs.empty() || !spec_.macro || !spec_.macro->stores_complementary_pairs()) return {};
  const torch::Tensor weight = stored_weight();
  if (!weight.defined() || weight.size(0) != filters) return {};  // one group's product of a grouped conv
  std::vector<int64_t> order;
  std::vector<bool> paired(static_cast<std::size_t>(filters), false);
  for (const auto& [free, tied] : spec_.pairing->pairs) {
    if (free < 0 || tied < 0 || free >= filters || tied >= filters) return {};  // a product of some filters only
    order.insert(order.end(), {free, tied});
    paired[static_cast<std::size_t>(free)] = paired[static_cast<std::size_t>(tied)] = true;
  }
  for (int64_t f = 0; f < filters; ++f) {
    if (!paired[static_cast<std::size_t>(f)]) order.push_back(f);
  }
  return order;
}

void QuantLayer::forward_on_macro(const core::Macro& on_macro, const core::ProductShape& shape, const torch::Tensor& x_int,
                                  const torch::Tensor& w_int, const core::NoiseKey& key, torch::Tensor& out,
                                  const std::vector<int64_t>& filter_of_column) {
  try {
    on_macro.forward(shape, x_int.data_ptr<int32_t>(), w_int.data_ptr<int32_t>(), key, out.data_ptr<float>(), &stats_.events);
  } catch (const core::PairNotStorable& error) {
    const auto filter = [&](int64_t column) {
      return filter_of_column.empty() ? column : filter_of_column[static_cast<std::size_t>(column)];
    };
    throw InputError(fmt::format("layer '{}': filters {} and {} (pair {} of its pairs) are not a complementary pair: the {} "
                                 "macro cannot store them in shared cells ({}, weight {} of {})",
                                 name_, filter(2 * error.pair), filter(2 * error.pair + 1), error.pair, spec_.macro->type(),
                                 core::to_string(spec_.pairing ? spec_.pairing->encoding : core::PairEncoding::TwosComplement),
                                 error.row, shape.depth()));
  }
}

torch::Tensor QuantLayer::straight_through(const torch::Tensor& reference, const torch::Tensor& simulated,
                                           const torch::Tensor& scale) {
  {
    torch::NoGradGuard no_grad;
    if (simulated.defined()) {
      stats_.reference_energy += (reference.detach() * scale).square_().sum().item<double>();
      stats_.error_energy += (simulated - reference.detach()).mul_(scale).square_().sum().item<double>();
    } else if (!std::isfinite(reference.detach().sum().item<double>())) {
      // Exact: the CSNR is +inf whatever the energy, unless an output is not finite (one pass, no copy).
      stats_.reference_energy = std::numeric_limits<double>::quiet_NaN();
    }
    stats_.outputs += reference.numel();
  }
  // Exact: the macro's result is the reference itself, gradient included.
  if (!simulated.defined() || !torch::GradMode::is_enabled() || !reference.requires_grad()) {
    return simulated.defined() ? simulated : reference;
  }
  if (spec_.simulate_gradient == LayerQuantSpec::SimulateGradient::CurveSlope) {
    torch::Tensor slope;
    {
      torch::NoGradGuard no_grad;
      const auto energy = reference.detach().square().sum();
      slope = energy.item<double>() > 0 ? (simulated * reference.detach()).sum() / energy : torch::ones({});
    }
    const auto scaled = reference * slope;
    return scaled + (simulated - scaled).detach();
  }
  return reference + (simulated - reference).detach();
}

torch::Tensor QuantLayer::apply_nat(const torch::Tensor& y) const {
  if (!is_training() || spec_.nat_sigma <= 0) return y;
  return y + torch::randn_like(y) * spec_.nat_sigma * y.detach();
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
  const int64_t samples = std::max<int64_t>(1, x.size(0));
  last_macs_per_sample_ = x.numel() / samples * options_.out_features;
  last_products_ = {{x.numel() / samples / options_.in_features, options_.out_features, options_.in_features, 1},
                    1, spec_.weight_bits, false, false};
  set_pairs(last_products_);
  if (!quantized()) {
    observe(x, input_observer_);
    last_products_.signed_inputs = input_observer_->observed_negative();
    return apply_nat(torch::nn::functional::linear(x, float_weight(weight), bias));
  }
  if (on_float_macro()) {
    auto sizes = x.sizes().vec();
    sizes.back() = options_.out_features;
    auto y = float_macro_product(x.reshape({-1, options_.in_features}), float_weight(weight), options_.in_features, 1, 0,
                                 x.numel() / samples / options_.in_features, first_sample())
                 .reshape(sizes);
    if (bias.defined()) y = y + bias;
    return apply_nat(y);
  }
  auto xq = quantize_activation(x, input_observer_);
  auto wq = quantize_weight(weight, x.dim() - 1, x.dim());
  last_products_.signed_inputs = xq.is_signed;
  last_products_.stored_bits = wq.bits;
  auto product = exact_integer_product([](const torch::Tensor& a, const torch::Tensor& b) { return torch::nn::functional::linear(a, b); },
                                       xq, wq, options_.in_features, xq.codes.dim() - 1, 1, options_.in_features);
  const auto scale = xq.step * wq.step;
  if (simulated()) {
    const int64_t depth = options_.in_features;
    const int64_t rows = x.numel() / options_.in_features;
    torch::Tensor simulated;
    if (!count_if_lossless(xq, wq.bits, {rows, options_.out_features, depth, 1}, 1)) {
      simulated = run_macro(as_int32_rows(xq.codes, depth), as_int32_rows(wq.codes, depth), xq, wq.bits, depth, 1, 0,
                            x.numel() / samples / options_.in_features, first_sample());
    }
    product = straight_through(product, simulated.defined() ? simulated.reshape(product.sizes()) : simulated, scale);
  }
  auto y = product * scale;
  if (bias.defined()) y = y + bias;
  return apply_nat(y);
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

torch::Tensor QConv2dImpl::simulate(const torch::Tensor& x_codes, const torch::Tensor& w_codes, const OperandCodes& xq,
                                    int weight_bits, const torch::IntArrayRef output_size) {
  // im2col rows in the layout of the weight's [out, in/groups * k * k] flattening, group by group.
  const int64_t k = options_.kernel_size, groups = options_.groups;
  const int64_t batch = x_codes.size(0), out_channels = options_.out_channels;
  const int64_t group_in = options_.in_channels / groups, group_out = out_channels / groups;
  const core::ConvGeometry geometry{batch, x_codes.size(1), x_codes.size(2), x_codes.size(3),
                                    k, options_.stride, options_.padding, options_.dilation};
  const int64_t positions = geometry.positions();
  if (count_if_lossless(xq, weight_bits, {batch * positions, group_out, group_in, k * k}, groups)) return {};
  const auto x_int = x_codes.detach().to(torch::kInt32).contiguous();
  const auto w_int = as_int32_rows(w_codes, group_in * k * k);
  auto x_rows = conv_rows_workspace(batch * positions, group_in * k * k);
  auto result = torch::empty({batch, out_channels, positions}, torch::kFloat32);
  std::vector<bool> done(static_cast<std::size_t>(groups), false);
  if (groups > 1 && group_in == 1 && group_out == 1 && !calibrates_readout() && spec_.pairing &&
      spec_.macro->stores_complementary_pairs()) {
    // Depthwise pairs on a macro that stores them: the dual broadcast, each channel of a pair its own input stream.
    for (const auto& [a, b] : spec_.pairing->pairs) {
      auto x_pair = torch::empty({batch * positions, 2, k * k}, torch::kInt32);
      for (const auto [side, channel] : {std::pair<int64_t, int64_t>{0, a}, {1, b}}) {
        core::conv_rows(geometry, x_int.data_ptr<int32_t>(), channel, 1, x_rows.data_ptr<int32_t>());
        x_pair.select(1, side).copy_(x_rows);
      }
      const auto w_pair = torch::stack({w_int[a], w_int[b]}).contiguous();
      const core::ColumnPairs pairs{spec_.pairing->encoding, 1, true};
      const core::ProductShape shape{batch * positions, 2, 1, k * k};
      const core::NoiseKey key{noise_key(static_cast<uint64_t>(a)), first_sample(), positions};
      auto out = torch::empty({batch * positions, 2}, torch::kFloat32);
      forward_on_macro(macro(weight_bits, xq.bits, xq.is_signed, pairs), shape, x_pair, w_pair, key, out, {a, b});
      for (const auto [side, channel] : {std::pair<int64_t, int64_t>{0, a}, {1, b}}) {
        result.select(1, channel).copy_(out.select(1, side).reshape({batch, positions}));
        done[static_cast<std::size_t>(channel)] = true;
      }
    }
  }
  for (int64_t g = 0; g < groups; ++g) {
    if (done[static_cast<std::size_t>(g)]) continue;
    core::conv_rows(geometry, x_int.data_ptr<int32_t>(), g * group_in, group_in, x_rows.data_ptr<int32_t>());
    auto w_rows = w_int.slice(0, g * group_out, (g + 1) * group_out);
    auto out = run_macro(x_rows, w_rows, xq, weight_bits, group_in, k * k, static_cast<uint64_t>(g), positions,
                         first_sample());
    if (!out.defined()) return {};  // calibrating the readout: the layer uses the reference
    result.slice(1, g * group_out, (g + 1) * group_out).copy_(out.reshape({batch, positions, group_out}).transpose(1, 2));
  }
  return result.reshape({batch, out_channels, output_size[2], output_size[3]});
}

torch::Tensor QConv2dImpl::convolve_on_float_macro(const torch::Tensor& x) {
  const int64_t k = options_.kernel_size, groups = options_.groups, batch = x.size(0);
  const int64_t group_in = options_.in_channels / groups, group_out = options_.out_channels / groups;
  namespace F = torch::nn::functional;
  const core::ConvGeometry geometry{batch, x.size(1), x.size(2), x.size(3),
                                    k, options_.stride, options_.padding, options_.dilation};
  const int64_t positions = geometry.positions();
  const int64_t group_depth = group_in * k * k;
  const auto weight_rows = float_weight(weight).reshape({options_.out_channels, group_depth});
  const bool needs_gradient = torch::GradMode::is_enabled() && (x.requires_grad() || weight.requires_grad());
  // Training: LibTorch's unfold, whose gradient folds dX back; otherwise bitline's im2col into
  // scratch rows, group by group (a copy less).
  torch::Tensor rows;
  torch::Tensor input;
  if (needs_gradient) {
    // [B, C k k, L] in the weight's [out, in/groups * k * k] flattening, as rows [B L, C k k].
    const auto columns = F::unfold(
        x, F::UnfoldFuncOptions(k).dilation(options_.dilation).padding(options_.padding).stride(options_.stride));
    rows = columns.transpose(1, 2).reshape({batch * positions, options_.in_channels * k * k});
  } else {
    input = x.to(torch::kFloat32).contiguous();
  }
  // Evaluation: the CSNR's exact product by LibTorch's convolution, as rows [B L, out] (faster than the
  // rows' matrix product).
  torch::Tensor exact_rows;
  if (!needs_gradient) {
    exact_rows = torch::conv2d(input, weight_rows.reshape(weight.sizes()), {}, options_.stride, options_.padding,
                               options_.dilation, groups)
                     .permute({0, 2, 3, 1})
                     .reshape({batch * positions, options_.out_channels});
  }
  std::vector<torch::Tensor> outputs;
  for (int64_t g = 0; g < groups; ++g) {
    torch::Tensor group_rows, group_exact;
    if (needs_gradient) {
      group_rows = rows.slice(1, g * group_depth, (g + 1) * group_depth);
    } else {
      group_rows = float_rows_workspace(batch * positions, group_depth);
      core::conv_rows(geometry, input.data_ptr<float>(), g * group_in, group_in, group_rows.data_ptr<float>());
      group_exact = exact_rows.slice(1, g * group_out, (g + 1) * group_out);
    }
    outputs.push_back(float_macro_product(group_rows, weight_rows.slice(0, g * group_out, (g + 1) * group_out), group_in,
                                          k * k, static_cast<uint64_t>(g), positions, first_sample(), group_exact));
  }
  return torch::cat(outputs, 1)
      .reshape({batch, positions, options_.out_channels})
      .permute({0, 2, 1})
      .reshape({batch, options_.out_channels, geometry.out_height(), geometry.out_width()});
}

torch::Tensor QConv2dImpl::forward(const torch::Tensor& x) {
  auto conv = [&](const torch::Tensor& input, const torch::Tensor& w, const torch::Tensor& b) {
    return torch::conv2d(input, w, b, options_.stride, options_.padding, options_.dilation, options_.groups);
  };
  torch::Tensor y;
  const int64_t groups = options_.groups, k = options_.kernel_size;
  last_products_ = {{0, options_.out_channels / groups, options_.in_channels / groups, k * k}, groups, spec_.weight_bits,
                    false, false};
  set_pairs(last_products_);
  if (!quantized()) {
    observe(x, input_observer_);
    last_products_.signed_inputs = input_observer_->observed_negative();
    y = conv(x, float_weight(weight), bias);
  } else if (on_float_macro()) {
    y = convolve_on_float_macro(x);
    if (bias.defined()) y = y + bias.reshape({1, -1, 1, 1});
  } else {
    auto xq = quantize_activation(x, input_observer_);
    auto wq = quantize_weight(weight, /*channel_dim=*/1, /*result_dims=*/4);
    last_products_.signed_inputs = xq.is_signed;
    last_products_.stored_bits = wq.bits;
    // An ungrouped conv's depth slices by input channel; a grouped one's cannot.
    auto product = exact_integer_product([&](const torch::Tensor& a, const torch::Tensor& b) { return conv(a, b, {}); }, xq, wq,
                                         options_.in_channels / groups * k * k, 1, 1, groups == 1 ? options_.in_channels : 0);
    const auto scale = xq.step * wq.step;
    if (simulated()) {
      product = straight_through(product, simulate(xq.codes, wq.codes, xq, wq.bits, product.sizes()), scale);
    }
    y = product * scale;
    if (bias.defined()) y = y + bias.reshape({1, -1, 1, 1});
  }
  last_macs_per_sample_ = y.size(1) * y.size(2) * y.size(3) * weight.size(1) * weight.size(2) * weight.size(3);
  last_products_.shape.rows = y.size(2) * y.size(3);
  return apply_nat(y);
}

// ---- QMatmul ----------------------------------------------------------------------------------

QMatmulImpl::QMatmulImpl() {
  a_observer_ = register_module("a_observer", ActivationObserver());
  b_observer_ = register_module("b_observer", ActivationObserver());
}

torch::Tensor QMatmulImpl::forward(const torch::Tensor& a, const torch::Tensor& b) {
  last_macs_per_sample_ = a.numel() / std::max<int64_t>(1, a.size(0)) * b.size(-1);
  const int64_t samples = std::max<int64_t>(1, a.size(0));
  last_products_ = {{a.size(-2), b.size(-1), a.size(-1), 1}, a.numel() / samples / (a.size(-2) * a.size(-1)),
                    spec_.activation_bits + 1, false, true};
  if (!quantized()) {
    observe(a, a_observer_);
    observe(b, b_observer_);
    last_products_.signed_inputs = a_observer_->observed_negative();
    return apply_nat(a.matmul(b));
  }
  if (on_float_macro()) {
    // a drives, b is stored: per batch (e.g. attention head) a_i [rows, depth] . (b_i^T [cols, depth])^T.
    const int64_t rows = a.size(-2), depth = a.size(-1), cols = b.size(-1);
    const auto a_batches = a.reshape({-1, rows, depth});
    const auto b_batches = b.reshape({-1, depth, cols}).transpose(1, 2);
    const int64_t batches = a_batches.size(0);
    const int64_t per_sample = batches / std::max<int64_t>(1, a.size(0));
    std::vector<torch::Tensor> results;
    for (int64_t i = 0; i < batches; ++i) {
      results.push_back(float_macro_product(a_batches[i], b_batches[i], depth, 1, static_cast<uint64_t>(i % per_sample),
                                            rows, first_sample() + static_cast<uint64_t>(i / per_sample)));
    }
    auto sizes = a.sizes().vec();
    sizes.back() = cols;
    return apply_nat(torch::stack(results).reshape(sizes));
  }
  // a is the input operand (streamed as bit planes), b the stored one (written into the array).
  auto aq = quantize_activation(a, a_observer_);
  auto bq = quantize_activation(b, b_observer_);
  last_products_.signed_inputs = aq.is_signed;
  last_products_.stored_bits = bq.is_signed ? bq.bits : bq.bits + 1;
  auto product = exact_integer_product([](const torch::Tensor& x, const torch::Tensor& y) { return x.matmul(y); }, aq, bq,
                                       a.size(-1), a.dim() - 1, b.dim() - 2, a.size(-1));
  const auto scale = aq.step * bq.step;
  if (simulated()) {
    // An unsigned stored operand needs one more bit as a two's complement weight.
    const int stored_bits = bq.is_signed ? bq.bits : bq.bits + 1;
    const int64_t rows = a.size(-2), depth = a.size(-1), cols = b.size(-1);
    auto a_batches = aq.codes.detach().reshape({-1, rows, depth});
    auto b_batches = bq.codes.detach().reshape({-1, depth, cols}).transpose(1, 2);  // [batches, cols, depth]
    const int64_t batches = a_batches.size(0);
    const int64_t per_sample = batches / std::max<int64_t>(1, a.size(0));  // e.g. attention heads
    torch::Tensor result;
    if (!count_if_lossless(aq, stored_bits, {rows, cols, depth, 1}, batches)) {
      result = torch::empty({batches, rows, cols}, torch::kFloat32);
      for (int64_t i = 0; i < batches && result.defined(); ++i) {
        const auto out = run_macro(as_int32_rows(a_batches[i], depth), as_int32_rows(b_batches[i], depth), aq, stored_bits,
                                   depth, 1, static_cast<uint64_t>(i % per_sample), rows,
                                   first_sample() + static_cast<uint64_t>(i / per_sample));
        if (out.defined()) {
          result[i].copy_(out);
        } else {
          result = torch::Tensor();  // calibrating the readout: the layer uses the reference
        }
      }
      if (result.defined()) result = result.reshape(product.sizes());
    }
    product = straight_through(product, result, scale);
  }
  return apply_nat(product * scale);
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
