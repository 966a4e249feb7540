#include "app/layer_command.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <torch/torch.h>

#include <algorithm>
#include <set>

#include "app/config.h"
#include "app/pairing_file.h"
#include "core/error.h"
#include "io/atomic_file.h"
#include "io/npy.h"
#include "nn/quant_layers.h"
#include "nn/runtime.h"

namespace bitline::app {
namespace {

// The C index of flat element `index` of `shape`, e.g. [0, 3, 1], for messages.
std::string element_index(int64_t index, const std::vector<int64_t>& shape) {
  std::vector<int64_t> coordinates(shape.size());
  for (std::size_t d = shape.size(); d-- > 0;) {
    coordinates[d] = index % shape[d];
    index /= shape[d];
  }
  return fmt::format("[{}]", fmt::join(coordinates, ", "));
}

// A tensor file as float32. `what` names its role (input, weight, bias) in messages. Empty tensors
// are refused here; NaN and infinity unless the user allows them.
torch::Tensor read_float_tensor(const std::string& path, const std::string& what, bool allow_non_finite) {
  io::NpyArray array = io::read_npy(path);
  if (array.element_count() == 0) {
    throw InputError(fmt::format("{}: {}: expected a tensor with at least one element, found shape [{}]", path, what,
                                 fmt::join(array.shape, ", ")));
  }
  if (!allow_non_finite) {
    if (const auto index = io::first_non_finite(array)) {
      throw InputError(fmt::format("{}: {}: expected finite values, found {} at element {} (flat index {}); pass "
                                   "--allow-non-finite to run the layer on them anyway",
                                   path, what, array.to_float32()[static_cast<std::size_t>(*index)],
                                   element_index(*index, array.shape), *index));
    }
  }
  std::vector<float> values;
  try {
    values = array.to_float32();
  } catch (const InputError& error) {
    throw InputError(path + ": " + error.what());
  }
  return torch::tensor(values, torch::kFloat32).reshape(array.shape).clone();
}

[[noreturn]] void shape_error(const std::string& path, const std::string& what, const std::string& expected,
                              const torch::Tensor& found) {
  throw InputError(fmt::format("{}: {}: expected {}, found shape [{}]", path, what, expected, fmt::join(found.sizes(), ", ")));
}

// Checks the weight's own shape, the bias against the weight, then the input against both, so that
// each message blames the file that is wrong.
void check_bias(const LayerCommandOptions& options, const torch::Tensor& weight, const torch::Tensor& bias) {
  const int64_t out = weight.size(0);
  if (bias.defined() && (bias.dim() != 1 || bias.size(0) != out)) {
    shape_error(options.bias_path, "bias", fmt::format("[{}] (one value per output channel)", out), bias);
  }
}

// Builds the layer from the weight's shape and checks the input and bias against it.
std::shared_ptr<nn::QuantLayer> build_layer(const SingleLayerConfig& layer, const LayerCommandOptions& options,
                                            const torch::Tensor& input, const torch::Tensor& weight,
                                            const torch::Tensor& bias) {
  if (layer.type == "linear") {
    if (weight.dim() != 2) shape_error(options.weight_path, "linear weight", "[out, in]", weight);
    check_bias(options, weight, bias);
    if (input.dim() < 2 || input.size(-1) != weight.size(1)) {
      shape_error(options.input_path, "linear input", fmt::format("[N, ..., {}] to match the weight", weight.size(1)), input);
    }
    nn::QLinear linear(nn::QLinearOptions{weight.size(1), weight.size(0), bias.defined()});
    torch::NoGradGuard no_grad;
    linear->weight.copy_(weight);
    if (bias.defined()) linear->bias.copy_(bias);
    return linear.ptr();
  }
  if (weight.dim() != 4 || weight.size(2) != weight.size(3)) {
    shape_error(options.weight_path, "conv2d weight", "[out, in/groups, k, k] (OIHW, square kernel)", weight);
  }
  const int64_t out = weight.size(0);
  const int64_t in = weight.size(1) * layer.groups;
  if (out % layer.groups != 0) {
    shape_error(options.weight_path, "conv2d weight", fmt::format("output channels divisible by groups = {}", layer.groups), weight);
  }
  check_bias(options, weight, bias);
  if (input.dim() != 4 || input.size(1) != in) {
    shape_error(options.input_path, "conv2d input", fmt::format("[N, {}, H, W] (NCHW) to match the weight and groups", in), input);
  }
  const int64_t k = weight.size(2);
  const int64_t reach = layer.dilation * (k - 1) + 1;
  if (input.size(2) + 2 * layer.padding < reach || input.size(3) + 2 * layer.padding < reach) {
    shape_error(options.input_path, "conv2d input", fmt::format("H and W of at least {} after padding", reach), input);
  }
  nn::QConv2d conv(nn::QConv2dOptions{in, out, k, layer.stride, layer.padding, layer.dilation, layer.groups, bias.defined()});
  torch::NoGradGuard no_grad;
  conv->weight.copy_(weight);
  if (bias.defined()) conv->bias.copy_(bias);
  return conv.ptr();
}

// The layer's filter pairs (layer.pairs, or its pairing file's entry), checked against its filters:
// indices in range, no filter in two pairs, a layer whose filters can pair (linear, ungrouped or
// depthwise conv). Null when the layer has none.
std::shared_ptr<const nn::FilterPairing> layer_pairs(const SingleLayerConfig& layer, const std::string& config_path,
                                                      const torch::Tensor& weight) {
  if (layer.pairs.empty() && layer.pairing_file.empty()) return nullptr;
  auto pairing = std::make_shared<nn::FilterPairing>();
  pairing->tied = false;
  std::string key = "layer.pairs";
  if (!layer.pairing_file.empty()) {
    const PairingTable table = parse_pairing(io::read_text_file(layer.pairing_file), layer.pairing_file);
    const auto entry = std::find_if(table.layers.begin(), table.layers.end(),
                                    [&](const LayerPairing& candidate) { return candidate.layer == layer.pairing_layer; });
    if (entry == table.layers.end()) {
      throw InputError(fmt::format("{}: key 'layer.pairing_layer': expected a layer of {}, found '{}' (it has {} layers)",
                                   config_path, layer.pairing_file, layer.pairing_layer, table.layers.size()));
    }
    pairing->encoding = table.encoding;
    pairing->pairs = entry->pairs;
    key = fmt::format("{} (layer '{}')", layer.pairing_file, layer.pairing_layer);
  } else {
    pairing->encoding =
        layer.pair_encoding == "offset_binary" ? core::PairEncoding::OffsetBinary : core::PairEncoding::TwosComplement;
    for (const auto& pair : layer.pairs) pairing->pairs.emplace_back(pair[0], pair[1]);
  }
  const int64_t filters = weight.size(0);
  const bool depthwise = layer.type == "conv2d" && layer.groups > 1 && weight.size(1) == 1 && layer.groups == filters;
  if (layer.type == "conv2d" && layer.groups > 1 && !depthwise) {
    throw InputError(fmt::format("{}: key '{}': pairs need a linear, ungrouped conv2d or depthwise conv2d layer, found "
                                 "conv2d with {} groups of {} filters",
                                 config_path, key, layer.groups, filters / layer.groups));
  }
  std::set<int64_t> used;
  for (const auto& [free, tied] : pairing->pairs) {
    for (const int64_t filter : {free, tied}) {
      if (filter < 0 || filter >= filters || !used.insert(filter).second) {
        throw InputError(fmt::format("{}: key '{}': filter {} of pair [{}, {}] is out of range [0, {}) (the weight's output "
                                     "channels) or in two pairs",
                                     config_path, key, filter, free, tied, filters));
      }
    }
  }
  return pairing;
}

torch::Tensor forward(nn::QuantLayer& layer, const torch::Tensor& input) {
  if (auto* conv = dynamic_cast<nn::QConv2dImpl*>(&layer)) return conv->forward(input);
  return dynamic_cast<nn::QLinearImpl&>(layer).forward(input);
}

}  // namespace

int run_layer_command(const LayerCommandOptions& options) {
  const LayerCommandConfig config = load_layer_config(options.config_path);
  io::prepare_output_file(options.output_path, "--output");
  nn::set_threads(static_cast<int>(config.layer.threads));
  const auto input = read_float_tensor(options.input_path, "input", options.allow_non_finite);
  const auto weight = read_float_tensor(options.weight_path, "weight", options.allow_non_finite);
  const auto bias =
      options.bias_path.empty() ? torch::Tensor() : read_float_tensor(options.bias_path, "bias", options.allow_non_finite);
  auto layer = build_layer(config.layer, options, input, weight, bias);
  layer->set_layer_name("layer");
  layer->eval();
  torch::NoGradGuard no_grad;

  // Static activation ranges: calibrated on this input.
  layer->set_observer_phase(nn::ObserverPhase::Calibrate);
  forward(*layer, input);
  layer->set_observer_phase(nn::ObserverPhase::Frozen);

  const nn::LayerMode mode = parse_mode(config.layer.mode);
  nn::LayerQuantSpec spec = layer_quant_spec(config.quantization, mode);
  spec.macro = macro_spec(config.macro, options.config_path, "macro");
  // A lossless macro's datapath runs too: its exactness is measured against the integer reference.
  spec.run_lossless_macros = true;
  spec.pairing = layer_pairs(config.layer, options.config_path, weight);
  layer->set_spec(spec);
  if (layer->calibrates_readout()) {  // e.g. the ADC range from this input's partial sums
    layer->start_readout_calibration();
    forward(*layer, input);
    layer->finish_readout_calibration();
    layer->reset_simulation_stats();
  }
  nn::set_first_sample(static_cast<uint64_t>(config.layer.first_sample));
  const auto output = forward(*layer, input).contiguous();

  io::NpyArray array;
  array.dtype = io::DType::Float32;
  array.shape = output.sizes().vec();
  const auto* bytes = reinterpret_cast<const unsigned char*>(output.data_ptr<float>());
  array.data.assign(bytes, bytes + output.numel() * sizeof(float));
  io::write_npy(options.output_path, array);

  fmt::print("bitline layer: {} {} in {} mode, input [{}], weight [{}] -> output [{}] written to {}\n",
             config.layer.type, layer->layer_name(), config.layer.mode, fmt::join(input.sizes(), ", "),
             fmt::join(weight.sizes(), ", "), fmt::join(output.sizes(), ", "), options.output_path);
  if (mode == nn::LayerMode::Simulate) {
    const auto& stats = layer->simulation_stats();
    const double csnr = stats.csnr_db();
    const std::string csnr_text = std::isnan(csnr)   ? "undefined (non-finite values in the products)"
                                  : std::isinf(csnr) ? "exact"
                                                     : fmt::format("{:.2f} dB", csnr);
    const bool floating = layer->spec().macro->operand_kind() == core::OperandKind::FloatingPoint;
    fmt::print("CSNR against the {}: {}\n", floating ? "exact fp32 product" : "integer reference", csnr_text);
    std::string events;
    for (const auto& [type, count] : stats.events.entries()) {
      events += fmt::format("{}{} {}", events.empty() ? "" : ", ", core::describe(type), count);
    }
    fmt::print("{} macro ({}) events: {}\n", config.macro.type, layer->spec().macro->readout(), events);
    if (spec.pairing) {
      fmt::print("{} filter pairs ({}) stored in shared cells, each checked by the macro\n", spec.pairing->pairs.size(),
                 core::to_string(spec.pairing->encoding));
    }
  }
  return 0;
}

}  // namespace bitline::app
