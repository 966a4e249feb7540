#include "app/cost_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

#include <torch/torch.h>

#include "app/experiment.h"
#include "app/fcc.h"
#include "core/error.h"
#include "nn/quant_layers.h"

namespace bitline::app {
namespace {

using core::cost::kPartCount;
using core::cost::Part;
using core::cost::part_name;

// The events the cost model adds around a macro (LayerCost::chip_events); a macro records the rest.
bool is_chip_event(core::EventKind kind) {
  return kind == core::EventKind::BufferAccess || kind == core::EventKind::WireTransfer ||
         kind == core::EventKind::CellWrite;
}

}  // namespace

core::cost::NetworkCost model_cost(nn::Model& model, const Config& config, const MacroConfig& macro) {
  std::vector<core::cost::LayerWorkload> workloads;
  for (auto& [name, layer] : nn::quant_layers(model)) {
    const auto spec = layer_spec(config.quantization, name, nn::LayerMode::Simulate, &macro);
    if (spec.mode != nn::LayerMode::Simulate) continue;  // kept off the macro by an override
    const auto& products = layer->last_products();
    if (products.count == 0) throw std::logic_error("model_cost: layer " + name + " has not run a forward pass");
    const bool signed_inputs = spec.activation_sign == nn::ActivationSign::Signed ||
                               (spec.activation_sign == nn::ActivationSign::Auto && products.signed_inputs);
    // Offset-binary pairs: the layer's codes take one bit more than its weight_bits.
    const int pair_bit = products.pair_encoding == core::PairEncoding::OffsetBinary ? 1 : 0;
    const int stored_bits = layer->kind() == "matmul" ? products.stored_bits : static_cast<int>(spec.weight_bits) + pair_bit;
    // A macro that stores complementary pairs computes a paired layer's products in pairs; a
    // depthwise layer's channels left single are a second workload.
    const int64_t pairs = spec.macro->stores_complementary_pairs() ? products.filter_pairs : 0;
    std::vector<core::PairedProducts> parts;
    try {
      parts = core::products_with_pairs(products.shape, products.count, pairs, products.pair_encoding);
    } catch (const std::invalid_argument& error) {
      throw InputError(fmt::format("layer '{}': {}", name, error.what()));
    }
    for (std::size_t part = 0; part < parts.size(); ++part) {
      core::cost::LayerWorkload workload;
      workload.name = part == 0 ? name : name + " (single channels)";
      try {
        workload.macro = core::macro_for_layer(
            *spec.macro, {stored_bits, static_cast<int>(spec.activation_bits), signed_inputs, parts[part].column_pairs});
      } catch (const std::invalid_argument& error) {
        throw InputError(fmt::format("layer '{}': invalid {} macro: {}", name, macro.type, error.what()));
      }
      workload.shape = parts[part].shape;
      workload.count = parts[part].count;
      workload.stored_operand_changes = products.stored_operand_changes;
      workloads.push_back(std::move(workload));
    }
  }
  std::size_t index = 0;
  while (index < config.macros.size() && &config.macros[index] != &macro) ++index;
  const std::string key = index < config.macros.size() ? fmt::format("key 'macros[{}].hardware' (macro '{}')", index, macro.name)
                                                        : fmt::format("macro '{}' hardware", macro.name);
  try {
    return core::cost::evaluate(macro.hardware, *macro_spec(static_cast<const MacroChoice&>(macro), "macro '" + macro.name + "'",
                                                            fmt::format("macros[{}]", index)),
                                workloads);
  } catch (const std::invalid_argument& error) {
    throw InputError(fmt::format("{}: {}", key, error.what()));
  }
}

nlohmann::json events_json(const core::Events& events, bool every_macro_kind) {
  nlohmann::json out = nlohmann::json::object();
  if (every_macro_kind) {
    for (const auto& info : core::event_vocabulary()) {
      if (!is_chip_event(info.kind)) out[info.name] = events.total(info.kind);
    }
  }
  for (const auto& [type, count] : events.entries()) {
    const auto& info = core::event_info(type.kind);
    out[info.name] = events.total(type.kind);
    if (info.has_bits) out[std::string(info.name) + "_by_bits"][std::to_string(type.bits)] = count;
  }
  return out;
}

std::shared_ptr<nn::Model> probed_model(const Config& config) {
  const InputShape shape = input_shape(config.data);
  auto model = build_configured_model(config);
  // A network with FCC pairs: as many pairs per layer as the pairing will make.
  if (pairs_filters(config)) apply_pairing(*model, nominal_pairing(*model, config));
  torch::NoGradGuard no_grad;
  model->eval();
  nn::set_observer_phase(*model, nn::ObserverPhase::Calibrate);
  torch::manual_seed(0);
  model->forward(torch::randn({1, shape.channels, shape.image_size, shape.image_size}));
  return model;
}

core::cost::NetworkCost probed_cost(nn::Model& model, const Config& config, const MacroConfig& macro,
                                    const std::string& source) {
  try {
    return model_cost(model, config, macro);
  } catch (const InputError& error) {
    throw InputError(fmt::format("{}: {}", source, error.what()));
  }
}

nlohmann::json cost_json(const core::cost::NetworkCost& cost) {
  auto parts = [](const core::cost::PerPart& values) {
    nlohmann::json out = nlohmann::json::object();
    for (int p = 0; p < kPartCount; ++p) out[part_name(static_cast<Part>(p))] = values[static_cast<std::size_t>(p)];
    return out;
  };
  nlohmann::json layers = nlohmann::json::array();
  for (const auto& layer : cost.layers) {
    layers.push_back({{"layer", layer.name},
                      {"macs", layer.events.total(core::EventKind::Mac)},
                      {"adc_conversions", layer.events.total(core::EventKind::AdcConversion)},
                      {"adc_energy_per_conversion_pj",
                       layer.energy_pj[static_cast<int>(Part::Adc)] /
                           std::max<double>(1.0, static_cast<double>(layer.events.total(core::EventKind::AdcConversion)))},
                      {"events", events_json(layer.events, true)},
                      {"chip_events", events_json(layer.chip_events, false)},
                      {"row_tiles", layer.row_tiles},
                      {"column_tiles", layer.column_tiles},
                      {"macros", layer.macros},
                      {"folds", layer.folds},
                      {"replicas", layer.replicas},
                      {"utilization", layer.utilization},
                      {"cycles", layer.cycles},
                      {"latency_ns", layer.latency_ns},
                      {"energy_pj", layer.energy_total_pj()},
                      {"energy_pj_by_part", parts(layer.energy_pj)}});
  }
  return {{"weights_resident", cost.weights_resident},
          {"macs_per_inference", cost.macs},
          {"energy_per_inference_pj", cost.energy_total_pj},
          {"energy_pj_by_part", parts(cost.energy_pj)},
          {"cycles_layer_by_layer", cost.cycles_layer_by_layer},
          {"latency_layer_by_layer_ns", cost.latency_layer_by_layer_ns},
          {"pipeline_interval_ns", cost.pipeline_interval_ns},
          {"inferences_per_s", cost.inferences_per_s},
          {"tops", cost.tops},
          {"tops_per_w", cost.tops_per_w},
          {"area_mm2", cost.area_total_mm2},
          {"area_um2_by_part", parts(cost.area_um2)},
          {"macro_area_mm2", cost.macro_area_mm2},
          {"tops_per_mm2", cost.tops_per_mm2},
          {"layers", layers}};
}

std::string cost_csv(const core::cost::NetworkCost& cost) {
  std::string csv = "layer,macs,macros,folds,replicas,utilization,cycles,latency_ns,energy_pj";
  for (int p = 0; p < kPartCount; ++p) csv += fmt::format(",energy_{}_pj", part_name(static_cast<Part>(p)));
  csv += "\n";
  for (const auto& layer : cost.layers) {
    csv += fmt::format("{},{},{},{},{},{:.6g},{:.6g},{:.6g},{:.6g}", layer.name, layer.events.total(core::EventKind::Mac), layer.macros, layer.folds,
                       layer.replicas, layer.utilization, layer.cycles, layer.latency_ns, layer.energy_total_pj());
    for (double e : layer.energy_pj) csv += fmt::format(",{:.6g}", e);
    csv += "\n";
  }
  csv += fmt::format("total,{},,,,,{:.6g},{:.6g},{:.6g}", static_cast<int64_t>(cost.macs), cost.cycles_layer_by_layer,
                     cost.latency_layer_by_layer_ns,
                     cost.energy_total_pj);
  for (double e : cost.energy_pj) csv += fmt::format(",{:.6g}", e);
  return csv + "\n";
}

std::string cost_table(const core::cost::NetworkCost& cost) {
  std::string out = fmt::format("{:<28} {:>12} {:>6} {:>5} {:>5} {:>6} {:>12} {:>12} {:>8} {:>8}\n", "layer", "MACs", "macros",
                                "folds", "repl", "util", "latency_us", "energy_nJ", "adc_%", "cells_%");
  for (const auto& layer : cost.layers) {
    const double total = layer.energy_total_pj();
    auto share = [&](Part p) { return total > 0 ? 100 * layer.energy_pj[static_cast<std::size_t>(p)] / total : 0.0; };
    out += fmt::format("{:<28} {:>12} {:>6} {:>5} {:>5} {:>6.2f} {:>12.3f} {:>12.3f} {:>8.1f} {:>8.1f}\n", layer.name,
                       layer.events.total(core::EventKind::Mac), layer.macros, layer.folds, layer.replicas, layer.utilization,
                       layer.latency_ns * 1e-3, total * 1e-3, share(Part::Adc), share(Part::Cells));
  }
  out += fmt::format("energy per inference {:.4g} nJ:", cost.energy_total_pj * 1e-3);
  for (int p = 0; p < kPartCount; ++p) {
    out += fmt::format(" {} {:.1f}%", part_name(static_cast<Part>(p)),
                       cost.energy_total_pj > 0 ? 100 * cost.energy_pj[static_cast<std::size_t>(p)] / cost.energy_total_pj : 0.0);
  }
  out += fmt::format("\nlatency per inference {:.4g} us ({:.4g} cycles) layer by layer; {}: {:.4g} inferences/s\n",
                     cost.latency_layer_by_layer_ns * 1e-3, cost.cycles_layer_by_layer,
                     cost.weights_resident ? fmt::format("pipelined (weights resident), one per {:.4g} us",
                                                         cost.pipeline_interval_ns * 1e-3)
                                           : std::string("weights reloaded per layer (they do not fit at once)"),
                     cost.inferences_per_s);
  out += fmt::format("throughput {:.4g} TOPS, {:.4g} TOPS/W, area {:.4g} mm^2 (one macro {:.4g} mm^2), {:.4g} TOPS/mm^2\n",
                     cost.tops, cost.tops_per_w, cost.area_total_mm2, cost.macro_area_mm2, cost.tops_per_mm2);
  return out;
}

}  // namespace bitline::app
