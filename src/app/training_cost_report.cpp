#include "app/training_cost_report.h"

#include <fmt/format.h>

#include "core/sot_mram/macro.h"
#include "nn/quant_layers.h"

namespace bitline::app {
namespace {

using core::sot_mram::kTrainingPhaseCount;
using core::sot_mram::PhaseCost;
using core::sot_mram::TrainingCost;
using core::sot_mram::TrainingPhase;

nlohmann::json phase_json(const PhaseCost& phase) {
  nlohmann::json primitives = nlohmann::json::object();
  for (int k = 0; k < core::sot_mram::kPrimitiveCount; ++k) {
    primitives[core::sot_mram::to_string(static_cast<core::sot_mram::Primitive>(k))] = phase.primitives[k];
  }
  return {{"multiplies", phase.multiplies}, {"adds", phase.adds},         {"copies", phase.copies},
          {"energy_pj", phase.energy_pj},   {"latency_ns", phase.latency_ns}, {"primitives", primitives}};
}

nlohmann::json cost_json(const TrainingCost& cost) {
  nlohmann::json phases = nlohmann::json::object();
  for (int p = 0; p < kTrainingPhaseCount; ++p) phases[to_string(static_cast<TrainingPhase>(p))] = phase_json(cost.phases[p]);
  nlohmann::json layers = nlohmann::json::array();
  for (const auto& layer : cost.layers) {
    nlohmann::json entry = {{"layer", layer.name}};
    for (int p = 0; p < kTrainingPhaseCount; ++p) {
      entry[to_string(static_cast<TrainingPhase>(p))] = {{"energy_pj", layer.phases[p].energy_pj},
                                                          {"latency_ns", layer.phases[p].latency_ns}};
    }
    layers.push_back(entry);
  }
  return {{"batch_size", cost.batch_size},
          {"energy_pj", cost.total.energy_pj},
          {"latency_ns", cost.total.latency_ns},
          {"area_mm2", cost.area_mm2},
          {"phases", phases},
          {"layers", layers}};
}

}  // namespace

std::optional<TrainingCostComparison> training_cost_comparison(nn::Model& model, const Config& config,
                                                               const MacroConfig& macro) {
  const auto spec = macro_spec(static_cast<const MacroChoice&>(macro), "macro '" + macro.name + "'", "macros");
  const auto* engine_spec = dynamic_cast<const core::sot_mram::SotMramFpSpec*>(spec.get());
  if (engine_spec == nullptr) return std::nullopt;
  std::vector<core::sot_mram::TrainingLayer> layers;
  for (auto& [name, layer] : nn::quant_layers(model)) {
    if (layer_spec(config.quantization, name, nn::LayerMode::Simulate, &macro).mode != nn::LayerMode::Simulate) {
      continue;  // kept off the macro by an override
    }
    const auto& products = layer->last_products();
    if (products.count == 0) throw std::logic_error("training_cost_comparison: layer " + name + " has not run");
    // The first layer's input gradient feeds nothing.
    layers.push_back({name, products.shape, products.count, !layers.empty()});
  }
  const auto& hardware = macro.hardware;
  core::sot_mram::EngineChip chip;
  chip.block_rows = hardware.array_rows;
  chip.block_columns = hardware.array_columns;
  chip.blocks = hardware.tiles * hardware.macros_per_tile;
  chip.technology_nm = hardware.technology.node_nm;
  const auto price = [&](const core::sot_mram::SotMramFpSpec& on) {
    const auto engine = on.for_format(on.spec().engine.format);
    return core::sot_mram::training_cost(dynamic_cast<const core::sot_mram::SotMramFpMacro&>(*engine), chip, layers,
                                         config.train.batch_size);
  };
  TrainingCostComparison comparison{engine_spec->readout(), "", price(*engine_spec), std::nullopt};
  if (engine_spec->spec().logic != core::sot_mram::Logic::MagicNor) {
    auto baseline = engine_spec->spec();
    baseline.logic = core::sot_mram::Logic::MagicNor;
    baseline.engine.exponent_difference = core::sot_mram::ExponentDifference::Subtract;
    const core::sot_mram::SotMramFpSpec baseline_spec(baseline);
    comparison.baseline_readout = baseline_spec.readout();
    comparison.baseline = price(baseline_spec);
  }
  return comparison;
}

nlohmann::json training_cost_json(const TrainingCostComparison& comparison) {
  nlohmann::json out = {{"engine", comparison.engine_readout}, {"cost", cost_json(comparison.engine)}};
  if (comparison.baseline) {
    const auto& b = *comparison.baseline;
    const auto& e = comparison.engine;
    out["baseline"] = {{"engine", comparison.baseline_readout}, {"cost", cost_json(b)}};
    out["baseline_over_engine"] = {{"energy", b.total.energy_pj / e.total.energy_pj},
                                   {"latency", b.total.latency_ns / e.total.latency_ns},
                                   {"area", b.area_mm2 / e.area_mm2}};
  }
  return out;
}

std::string training_cost_table(const TrainingCostComparison& comparison, const std::string& label) {
  const auto& e = comparison.engine;
  std::string table = fmt::format(
      "training iteration on {} (batch {}: forward, input and weight gradients, SGD update; "
      "docs/mram_validation.md):\n",
      label, e.batch_size);
  table += fmt::format("  {:<76} {:>12} {:>12} {:>10}\n", "engine", "energy uJ", "latency ms", "area mm^2");
  const auto row = [&](const std::string& name, const TrainingCost& cost) {
    table += fmt::format("  {:<76} {:>12.4g} {:>12.4g} {:>10.4g}\n", name, cost.total.energy_pj * 1e-6,
                         cost.total.latency_ns * 1e-6, cost.area_mm2);
  };
  row(comparison.engine_readout, e);
  if (comparison.baseline) {
    const auto& b = *comparison.baseline;
    row(comparison.baseline_readout + " (baseline)", b);
    table += fmt::format("  {:<76} {:>11.3g}x {:>11.3g}x {:>9.3g}x\n", "baseline / engine (paper: 3.3x, 1.8x, 2.5x)",
                         b.total.energy_pj / e.total.energy_pj, b.total.latency_ns / e.total.latency_ns,
                         b.area_mm2 / e.area_mm2);
  }
  return table;
}

}  // namespace bitline::app
