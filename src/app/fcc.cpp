#include "app/fcc.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>
#include <set>

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

PairingTable compute_pairing(nn::Model& model, const Config& config) {
  const auto& fcc = config.train.fcc_stage;
  PairingTable table;
  table.hash = pairing_hash(config);
  table.encoding = parse_encoding(fcc.encoding);
  bool seen_conv = false;
  for (auto& [name, layer] : nn::quant_layers(model)) {
    const std::string kind = pairing_kind(*layer);
    const bool first_conv = layer->kind() == "conv2d" && !seen_conv;
    seen_conv = seen_conv || layer->kind() == "conv2d";
    if (kind.empty() || std::find(fcc.layers.begin(), fcc.layers.end(), kind) == fcc.layers.end()) continue;
    if (first_conv && !fcc.pair_first_conv) continue;
    if (std::any_of(fcc.keep_unpaired.begin(), fcc.keep_unpaired.end(),
                    [&](const std::string& pattern) { return matches_layer_pattern(pattern, name); })) {
      continue;
    }
    auto spec = layer_spec(config.quantization, name, nn::LayerMode::Quantized, nullptr);
    if (spec.mode == nn::LayerMode::Float) continue;  // kept in fp32 by an override
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
  nlohmann::json layers = nlohmann::json::array();
  for (const auto& layer : table.layers) {
    layers.push_back({{"layer", layer.layer},
                      {"kind", layer.kind},
                      {"filters", layer.filters},
                      {"depth", layer.depth},
                      {"pairs", layer.pairs},
                      {"unpaired", layer.unpaired},
                      {"cost", layer.cost},
                      {"seconds", layer.seconds}});
  }
  const nlohmann::json file = {{"pairing_hash", table.hash}, {"encoding", core::to_string(table.encoding)}, {"layers", layers}};
  io::write_file_atomically(path, file.dump(1) + "\n");
}

PairingTable read_pairing(const std::filesystem::path& path, nn::Model& model) {
  nlohmann::json file;
  try {
    file = nlohmann::json::parse(io::read_text_file(path));
  } catch (const nlohmann::json::exception& error) {
    bad_pairing(path, std::string("JSON: ") + error.what());
  }
  std::map<std::string, std::shared_ptr<nn::QuantLayer>> layers;
  for (auto& [name, layer] : nn::quant_layers(model)) layers[name] = layer;
  PairingTable table;
  try {
    table.hash = file.at("pairing_hash").get<std::string>();
    const auto encoding = file.at("encoding").get<std::string>();
    if (encoding != "twos_complement" && encoding != "offset_binary") {
      bad_pairing(path, "key 'encoding': expected twos_complement or offset_binary, found " + encoding);
    }
    table.encoding = parse_encoding(encoding);
    for (const auto& entry : file.at("layers")) {
      LayerPairing layer;
      layer.layer = entry.at("layer").get<std::string>();
      layer.kind = entry.at("kind").get<std::string>();
      layer.filters = entry.at("filters").get<int64_t>();
      layer.depth = entry.at("depth").get<int64_t>();
      layer.pairs = entry.at("pairs").get<std::vector<std::pair<int64_t, int64_t>>>();
      layer.unpaired = entry.at("unpaired").get<int64_t>();
      layer.cost = entry.at("cost").get<int64_t>();
      layer.seconds = entry.at("seconds").get<double>();
      const auto found = layers.find(layer.layer);
      if (found == layers.end() || pairing_kind(*found->second).empty()) {
        bad_pairing(path, fmt::format("layer '{}' is not a pairable layer of the configured model", layer.layer));
      }
      const int64_t filters = found->second->stored_weight().size(0);
      if (layer.filters != filters) {
        bad_pairing(path, fmt::format("layer '{}': {} filters, the model has {}", layer.layer, layer.filters, filters));
      }
      std::set<int64_t> used;
      for (const auto& [a, b] : layer.pairs) {
        for (int64_t index : {a, b}) {
          if (index < 0 || index >= filters || !used.insert(index).second) {
            bad_pairing(path, fmt::format("layer '{}': filter {} is out of range [0, {}) or in two pairs", layer.layer,
                                          index, filters));
          }
        }
      }
      table.layers.push_back(std::move(layer));
    }
  } catch (const nlohmann::json::exception& error) {
    bad_pairing(path, error.what());
  }
  return table;
}

std::shared_ptr<const PairingTable> pairing_for(nn::Model& model, const Config& config, bool verbose) {
  const auto path = pairing_path(config);
  if (std::filesystem::exists(path)) {
    auto table = read_pairing(path, model);
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
