#include "app/fcc.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>

#include "app/experiment.h"
#include "core/ddc_pim/pairing.h"
#include "core/error.h"
#include "io/atomic_file.h"
#include "nn/quant_layers.h"

namespace bitline::app {
namespace {

core::PairEncoding parse_encoding(const std::string& text) {
  return text == "offset_binary" ? core::PairEncoding::OffsetBinary : core::PairEncoding::TwosComplement;
}

core::ddc_pim::Matching parse_matching(const std::string& text) {
  return text == "greedy" ? core::ddc_pim::Matching::Greedy : core::ddc_pim::Matching::Exact;
}

std::shared_ptr<const nn::FilterPairing> filter_pairing(const LayerPairing& layer, core::PairEncoding encoding) {
  auto pairing = std::make_shared<nn::FilterPairing>();
  pairing->encoding = encoding;
  pairing->pairs = layer.pairs;
  return pairing;
}

[[noreturn]] void bad_pairing(const std::filesystem::path& path, const std::string& what) {
  throw InputError(fmt::format("{}: not a valid pairing file for this model: {}; delete it to pair again", path.string(), what));
}

}  // namespace

std::string pairing_kind(const nn::QuantLayer& layer) {
  if (layer.kind() == "linear") return "linear";
  const auto* conv = dynamic_cast<const nn::QConv2dImpl*>(&layer);
  if (conv == nullptr) return "";
  const auto& o = conv->options();
  if (o.groups == 1) return o.kernel_size == 1 ? "pointwise" : "conv";
  if (o.groups == o.in_channels && o.groups == o.out_channels) return "depthwise";
  return "";
}

bool pairs_filters(const Config& config) {
  return config.train.fcc_stage.epochs > 0 ||
         std::any_of(config.evaluation.runs.begin(), config.evaluation.runs.end(), [](const EvaluationRun& run) {
           return run.weights == std::optional<std::string>("paired") || run.weights == std::optional<std::string>("fcc");
         });
}

std::vector<std::pair<std::string, std::shared_ptr<nn::QuantLayer>>> paired_layers(nn::Model& model, const Config& config) {
  const auto& fcc = config.train.fcc_stage;
  std::vector<std::pair<std::string, std::shared_ptr<nn::QuantLayer>>> chosen;
  bool seen_conv = false;
  for (auto& [name, layer] : nn::quant_layers(model)) {
    const std::string kind = pairing_kind(*layer);
    const bool first_conv = layer->kind() == "conv2d" && !seen_conv;
    seen_conv = seen_conv || layer->kind() == "conv2d";
    if (kind.empty() || std::find(fcc.layers.begin(), fcc.layers.end(), kind) == fcc.layers.end()) continue;
    if (first_conv && !fcc.pair_first_conv) continue;
    if (std::any_of(fcc.keep_unpaired.begin(), fcc.keep_unpaired.end(),
                    [&, &name = name](const std::string& pattern) { return matches_layer_pattern(pattern, name); })) {
      continue;
    }
    // Kept in fp32 by an override: not on the macro, nothing to pair.
    if (layer_spec(config.quantization, name, nn::LayerMode::Quantized, nullptr).mode == nn::LayerMode::Float) continue;
    chosen.emplace_back(name, layer);
  }
  return chosen;
}

PairingTable nominal_pairing(nn::Model& model, const Config& config) {
  PairingTable table;
  table.hash = pairing_hash(config);
  table.encoding = parse_encoding(config.train.fcc_stage.encoding);
  for (auto& [name, layer] : paired_layers(model, config)) {
    LayerPairing entry;
    entry.layer = name;
    entry.kind = pairing_kind(*layer);
    entry.filters = layer->stored_weight().size(0);
    entry.depth = layer->stored_weight().numel() / entry.filters;
    for (int64_t i = 0; i + 1 < entry.filters; i += 2) entry.pairs.emplace_back(i, i + 1);
    entry.unpaired = entry.filters % 2 == 1 ? entry.filters - 1 : -1;
    table.layers.push_back(std::move(entry));
  }
  return table;
}

PairingTable compute_pairing(nn::Model& model, const Config& config) {
  const auto& fcc = config.train.fcc_stage;
  PairingTable table;
  table.hash = pairing_hash(config);
  table.encoding = parse_encoding(fcc.encoding);
  for (auto& [name, layer] : paired_layers(model, config)) {
    const std::string kind = pairing_kind(*layer);
    auto spec = layer_spec(config.quantization, name, nn::LayerMode::Quantized, nullptr);
    // The codes of the layer's grid without a tie (offset binary: its odd codes d).
    if (table.encoding == core::PairEncoding::OffsetBinary) spec.pairing = filter_pairing({}, table.encoding);
    const auto saved = layer->spec();
    layer->set_spec(spec);
    torch::Tensor codes = layer->weight_codes();
    layer->set_spec(saved);
    int64_t complement_sum = core::ddc_pim::complement_sum_twos_complement();
    if (table.encoding == core::PairEncoding::OffsetBinary) {
      // The stored codes u = (d + 2^n - 1) / 2, whose complements sum to 2^n - 1.
      complement_sum = core::ddc_pim::complement_sum_offset_binary(spec.weight_bits);
      codes = ((codes + static_cast<int32_t>(complement_sum)) / 2).to(torch::kInt32).contiguous();
    }
    LayerPairing entry;
    entry.layer = name;
    entry.kind = kind;
    entry.filters = codes.size(0);
    entry.depth = codes.size(1);
    const auto start = std::chrono::steady_clock::now();
    const int32_t* data = codes.data_ptr<int32_t>();
    const auto costs = fcc.cost == "cosine"
                           ? core::ddc_pim::cosine_cost_matrix(data, entry.filters, entry.depth, complement_sum)
                           : core::ddc_pim::complement_cost_matrix(data, entry.filters, entry.depth, complement_sum);
    const auto pairing = core::ddc_pim::match_filters(costs, entry.filters, parse_matching(fcc.matching));
    entry.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    entry.pairs = pairing.pairs;
    entry.unpaired = pairing.unpaired;
    entry.cost = pairing.cost;
    table.layers.push_back(std::move(entry));
  }
  return table;
}

std::filesystem::path pairing_path(const Config& config) {
  return checkpoint_dir(config) / ("pairing-" + pairing_hash(config) + ".json");
}

void write_pairing(const std::filesystem::path& path, const PairingTable& table) {
  io::write_file_atomically(path, pairing_json(table));
}

PairingTable read_pairing(const std::filesystem::path& path, nn::Model& model, const Config& config) {
  PairingTable table = parse_pairing(io::read_text_file(path), path.string());
  const auto encoding = parse_encoding(config.train.fcc_stage.encoding);
  if (table.encoding != encoding) {
    bad_pairing(path, fmt::format("key 'encoding': the config pairs in {} (train.fcc.encoding), the file holds {}",
                                  core::to_string(encoding), core::to_string(table.encoding)));
  }
  std::map<std::string, const LayerPairing*> in_file;
  for (const auto& layer : table.layers) in_file[layer.layer] = &layer;
  // Every layer the config pairs, each with a perfect pairing of its filters; nothing else.
  for (auto& [name, layer] : paired_layers(model, config)) {
    const auto found = in_file.find(name);
    if (found == in_file.end()) {
      bad_pairing(path, fmt::format("layer '{}' is paired by the config (train.fcc) but missing from the file", name));
    }
    const LayerPairing& entry = *found->second;
    in_file.erase(found);
    const int64_t filters = layer->stored_weight().size(0), depth = layer->stored_weight().numel() / filters;
    const std::string kind = pairing_kind(*layer);
    if (entry.kind != kind || entry.filters != filters || entry.depth != depth) {
      bad_pairing(path, fmt::format("layer '{}': the file has a {} layer of {} filters x {}, the model a {} layer of {} x {}",
                                    name, entry.kind, entry.filters, entry.depth, kind, filters, depth));
    }
    const int64_t covered = 2 * static_cast<int64_t>(entry.pairs.size()) + (entry.unpaired != -1 ? 1 : 0);
    if (covered != filters || (entry.unpaired != -1) != (filters % 2 == 1)) {
      bad_pairing(path, fmt::format("layer '{}': expected a perfect pairing of its {} filters ({} pairs{}), found {} pairs "
                                    "and {}",
                                    name, filters, filters / 2, filters % 2 ? " and one unpaired filter" : "",
                                    entry.pairs.size(), entry.unpaired != -1 ? "one unpaired filter" : "no unpaired filter"));
    }
  }
  if (!in_file.empty()) {
    bad_pairing(path, fmt::format("layer '{}' is not one the config pairs (train.fcc.layers, pair_first_conv, keep_unpaired)",
                                  in_file.begin()->first));
  }
  return table;
}

std::shared_ptr<const PairingTable> pairing_for(nn::Model& model, const Config& config, bool verbose) {
  const auto path = pairing_path(config);
  if (std::filesystem::exists(path)) {
    auto table = read_pairing(path, model, config);
    if (table.hash == pairing_hash(config)) return std::make_shared<const PairingTable>(std::move(table));
  }
  auto table = compute_pairing(model, config);
  write_pairing(path, table);
  if (verbose) {
    fmt::print("FCC pairing ({}, {} matching, {} cost) -> {}\n", core::to_string(table.encoding),
               config.train.fcc_stage.matching, config.train.fcc_stage.cost, path.string());
    for (const auto& layer : table.layers) {
      fmt::print("  {:<32} {:<9} {:>5} filters x {:>5}: {:>5} pairs, cost {} ({:.3f} per weight), {:.3f} s\n", layer.layer,
                 layer.kind, layer.filters, layer.depth, layer.pairs.size(), layer.cost,
                 layer.pairs.empty() ? 0.0
                                     : static_cast<double>(layer.cost) /
                                           static_cast<double>(2 * static_cast<int64_t>(layer.pairs.size()) * layer.depth),
                 layer.seconds);
    }
  }
  return std::make_shared<const PairingTable>(std::move(table));
}

void center_free_filters(nn::Model& model, const PairingTable& table, const Config& config) {
  std::map<std::string, const LayerPairing*> by_name;
  for (const auto& layer : table.layers) by_name[layer.layer] = &layer;
  torch::NoGradGuard no_grad;
  for (auto& [name, layer] : nn::quant_layers(model)) {
    const auto found = by_name.find(name);
    if (found == by_name.end() || found->second->pairs.empty()) continue;
    torch::Tensor weight = layer->stored_weight();
    const auto flat = weight.reshape({weight.size(0), -1});
    const auto spec = layer_spec(config.quantization, name, nn::LayerMode::Quantized, nullptr);
    for (const auto& [a, b] : found->second->pairs) {
      auto free = flat[a];
      const auto tied = flat[b];
      double step = 0;
      if (table.encoding == core::PairEncoding::TwosComplement) {
        const double range = std::max(free.abs().max().item<double>(), tied.abs().max().item<double>());
        step = range / static_cast<double>((int64_t{1} << (spec.weight_bits - 1)) - 1);
      }
      free.copy_((free - tied - step) / 2);
    }
  }
}

std::function<torch::Tensor()> pair_penalty(nn::Model& model, const PairingTable& table, const Config& config) {
  struct PairedWeights {
    torch::Tensor weight, free, tied;
    int weight_bits = 8;
  };
  std::map<std::string, const LayerPairing*> by_name;
  for (const auto& layer : table.layers) by_name[layer.layer] = &layer;
  auto layers = std::make_shared<std::vector<PairedWeights>>();
  for (auto& [name, layer] : nn::quant_layers(model)) {
    const auto found = by_name.find(name);
    if (found == by_name.end() || found->second->pairs.empty()) continue;
    const auto [free, tied] = nn::pair_indices(found->second->pairs);
    layers->push_back({layer->stored_weight(), free, tied,
                       layer_spec(config.quantization, name, nn::LayerMode::Quantized, nullptr).weight_bits});
  }
  const double weight = config.train.fcc_stage.penalty_weight;
  const bool twos_complement = table.encoding == core::PairEncoding::TwosComplement;
  return [layers, weight, twos_complement]() {
    torch::Tensor sum = torch::zeros({});
    int64_t count = 0;
    for (const auto& layer : *layers) {
      const auto flat = layer.weight.reshape({layer.weight.size(0), -1});
      const auto free = flat.index_select(0, layer.free), tied = flat.index_select(0, layer.tied);
      const auto range = free.detach().abs().amax(1, /*keepdim=*/true) + 1e-12;
      const double steps = twos_complement ? static_cast<double>((int64_t{1} << (layer.weight_bits - 1)) - 1) : 0.0;
      const auto delta = twos_complement ? range / steps : torch::zeros_like(range);
      sum = sum + ((free + tied + delta) / range).square().sum();
      count += free.numel();
    }
    return count == 0 ? sum : sum * (weight / static_cast<double>(count));
  };
}

void apply_pairing(nn::Model& model, const PairingTable& table) {
  std::map<std::string, const LayerPairing*> by_name;
  for (const auto& layer : table.layers) by_name[layer.layer] = &layer;
  for (auto& [name, layer] : nn::quant_layers(model)) {
    const auto found = by_name.find(name);
    if (found == by_name.end()) continue;
    auto spec = layer->spec();
    spec.pairing = filter_pairing(*found->second, table.encoding);
    layer->set_spec(spec);
  }
}

}  // namespace bitline::app
